"""Exceptions: parcels that go wrong after they leave the warehouse, and what they cost.

- *Lost parcels* are refunded (the customer gets the price back) or reshipped: a
  replacement of the same units leaves the same warehouse by the same mode on the day the
  loss is known, or as soon as stock allows, with its own pick and pack, freight, queue and
  transit (it may be lost again). A replacement earns nothing, pays no second parcel duty
  and is not a new order; it waits for stock as long as it must.
- *Undeliverable parcels* (address, refusal, unclaimed) happen with a probability per mode;
  the customer is refunded, and the goods come back to the warehouse that sent them (on the
  shelf ``return_days`` after the failed delivery) or are disposed of where they failed,
  each for a fee per parcel. They are neither delivered nor returned by the customer.
- *Insurance*: each insured parcel pays a premium on its order value (price incl. VAT); a
  lost insured parcel's claim pays that value back ``claim_days`` after the loss.

Everything is decided when the parcel leaves, like the rest of an order's fate
(``sim.fulfilment``), and booked on the days it happens.
"""

from __future__ import annotations

import numpy as np

from sim.account_health import AccountHealth
from sim.ledger import Ledger
from sim.network import Network
from sim.pipeline import Pipeline

FIELDS = ("day", "order_day", "market", "sku", "units", "route", "price", "coupon")
"""A waiting replacement: due day, the lost order's day, market, SKU, units, route, the price
it was sold at and its coupon fee (none: a replacement is not a sale)."""


class Exceptions:
    """The scenario's exception rules as arrays, the replacements waiting to leave and the
    markets' account health."""

    def __init__(self, net: Network) -> None:
        sc = net.scenario
        ex = sc.exceptions
        self.reship = np.array([ex.lost_parcels_by_market.get(m, ex.lost_parcels) == "reship"
                                for m in net.markets])
        """Lost parcels are reshipped [market] (else refunded)."""
        spec = [ex.undeliverable.get(k) for k in net.modes]
        self.undeliverable = np.array([0.0 if u is None else u.probability for u in spec])
        self.undeliverable_fee = np.array([0.0 if u is None else u.fee_per_parcel_cny
                                           for u in spec])
        self.return_days = {k: u.return_days for k, u in enumerate(spec)
                            if u is not None and u.return_days is not None}
        insurance = ex.insurance
        self.premium_rate = np.array([
            0.0 if insurance is None or (insurance.modes is not None and k not in insurance.modes)
            else insurance.premium_rate for k in net.modes])
        self.claim_days = insurance.claim_days if insurance is not None else 0
        self.waiting = {name: np.zeros(0, dtype=np.int64) for name in FIELDS}
        self.health = AccountHealth(ex.account_health, len(net.markets), net.timeline.n_days)

    def draw_undeliverable(self, rng: np.random.Generator, mode: np.ndarray,
                           lost: np.ndarray) -> np.ndarray:
        """Which parcels that were not lost cannot be delivered (no draw when none can)."""
        if not self.undeliverable.any():
            return np.zeros(len(mode), dtype=bool)
        return ~lost & (rng.random(len(mode)) < self.undeliverable[mode])

    def refunded(self, market: np.ndarray, lost: np.ndarray,
                 undeliverable: np.ndarray) -> np.ndarray:
        """Parcels whose customer gets the price back: undeliverable ones, and lost ones in
        markets that refund rather than reship."""
        return undeliverable | (lost & ~self.reship[market])

    def settle(self, net: Network, ledger: Ledger, pipeline: Pipeline,
               rng: np.random.Generator, *, order_day: np.ndarray, market: np.ndarray,
               sku: np.ndarray, units: np.ndarray, route: np.ndarray, price: np.ndarray,
               warehouse: np.ndarray,
               mode: np.ndarray, value: np.ndarray, gross: np.ndarray, ship_day: np.ndarray,
               delivery_day: np.ndarray, lost: np.ndarray, undeliverable: np.ndarray) -> None:
        """Book insurance, claims and undeliverable fees, send undeliverable goods back to
        their shelves and queue the replacements of lost parcels, for a dispatched cohort
        (``gross``: order value in market currency; ``value``: landed value [order, part])."""
        currency = net.market.currency[market]
        premium = self.premium_rate[mode] * gross
        insured = premium > 0
        if insured.any():
            ledger.book("insurance", currency[insured], -premium[insured], ship_day[insured],
                        ship_day[insured], market[insured])
            claim = insured & lost
            if claim.any():
                ledger.book("insurance", currency[claim], gross[claim], delivery_day[claim],
                            delivery_day[claim] + self.claim_days, market[claim])
        if undeliverable.any():
            u = undeliverable
            ledger.book("undeliverable", 0, -self.undeliverable_fee[mode[u]], delivery_day[u],
                        delivery_day[u], market[u])
            for k, days in self.return_days.items():
                back = u & (mode == k)
                if back.any():
                    day = net.timeline.day(delivery_day[back]
                                           + days.sample(rng, int(back.sum())))
                    pipeline.schedule_restock(day, warehouse[back], sku[back], units[back],
                                              value[back])
        again = lost & self.reship[market]
        if again.any():
            new = (delivery_day, order_day, market, sku, units, route, price,
                   np.zeros(len(price)))
            for name, column in zip(FIELDS, new, strict=True):
                self.waiting[name] = np.concatenate([self.waiting[name], column[again]])

    def due(self, t: int) -> dict[str, np.ndarray]:
        """The replacements due by day ``t``, taken out of the waiting list (in line: the
        longest waiting first); ``wait`` puts back those the stock cannot fill yet."""
        ready = self.waiting["day"] <= t
        order = np.argsort(self.waiting["day"][ready], kind="stable")
        taken = {name: column[ready][order] for name, column in self.waiting.items()}
        self.waiting = {name: column[~ready] for name, column in self.waiting.items()}
        return taken

    def wait(self, t: int, replacements: dict[str, np.ndarray]) -> None:
        """Replacements that found no stock on day ``t`` try again tomorrow, first in line."""
        replacements = {**replacements, "day": np.full(len(replacements["day"]), t + 1)}
        self.waiting = {name: np.concatenate([replacements[name], self.waiting[name]])
                        for name in FIELDS}
