"""The operation's running costs that follow no single order: ad spend, storage and
warehouse inbound fees, booked in the ledger in the currency they are billed in."""

from __future__ import annotations

import numpy as np

from sim.inventory import Stock
from sim.ledger import Ledger
from sim.network import Network


def spend_on_ads(t: int, net: Network, ledger: Ledger, spend: np.ndarray) -> float:
    """Pay day ``t``'s ad spend ``spend`` [channel] (channel currency); returns it in CNY."""
    if not spend.any():
        return 0.0
    return -float(ledger.book("ads", net.currency_of_channel, -spend, t, t).sum())


def charge_storage(t: int, net: Network, ledger: Ledger, stock: Stock) -> None:
    """A day's storage of the stock on hand, by volume."""
    fee = net.warehouse.storage_fee * (stock.on_hand @ net.catalog.volume)
    ledger.book("storage", net.warehouse.currency, -fee, t, t)


def charge_inbound_fee(net: Network, ledger: Ledger, w: int, units: int, day: int) -> None:
    """The warehouse's fee for receiving ``units`` units."""
    fee = net.warehouse.inbound_fee[w] * units
    if fee > 0:
        ledger.book("inbound_fee", int(net.warehouse.currency[w]), -fee, day, day)


def pay_promotions(t: int, net: Network, ledger: Ledger, deal_fees: np.ndarray,
                   owned_channel_cny: float) -> None:
    """Deal fees due today [market] (market currency) and a day of the owned channel."""
    if deal_fees.any():
        markets = np.flatnonzero(deal_fees)
        ledger.book("promotion", net.market.currency[markets], -deal_fees[markets], t, t,
                    markets)
    if owned_channel_cny:
        ledger.book("owned_channel", 0, -owned_channel_cny, t, t)
