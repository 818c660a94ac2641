"""Late answers that become claims: disputes, their cost, refunds and rating penalty.

A customer who writes about an order (a late delivery, a lost parcel, a return) and hears
nothing within the first-response SLA may escalate to the marketplace: an A-to-z claim, a
chargeback. Each such ticket becomes a dispute with ``service.disputes.probability``, opened
when the SLA runs out (on the day after the ticket's day at the earliest: the desk works a
day's tickets in the evening, after that day's rating was set). A dispute

    costs   cost_per_dispute_cny                     (claim fee and handling, ``dispute_fee``)
    refunds refund_share x what the customer still pays for the order, in the market's
            currency with its VAT reclaimed, paid out with the marketplace's next payout
            (the whole price of a late order; nothing of a lost one, refunded already; the
            part a return did not refund)
    costs   rating_penalty stars on the market's rating that day, counted with the day's
            delivery penalties (``sim.sales``), so conversion falls with it.

A shopper's question before buying has no order to claim against: it never becomes a
dispute. The draws come from their own stream, so disputes leave every other draw alone.

Satisfaction (the sources' 85 % target) is measured on the tickets, not drawn: the share of
tickets answered within the first-response SLA and resolved within the resolution SLA, none
of them disputed (a dispute only follows a late answer, so it is never satisfied).
"""

from __future__ import annotations

import numpy as np

from sim.fulfilment import refund
from sim.ledger import Ledger
from sim.network import Network
from sim.sales import Sales
from sim.service import Answered


def open_disputes(t: int, net: Network, rng: np.random.Generator, tickets: Answered,
                  ledger: Ledger, sales: Sales) -> tuple[np.ndarray, np.ndarray]:
    """Draw which of day ``t``'s answered tickets become disputes and book what they cost;
    returns (disputed, cost in CNY: fee plus refund) per ticket."""
    n = len(tickets.kind)
    disputed = np.zeros(n, dtype=bool)
    cost_cny = np.zeros(n)
    service = net.scenario.service
    spec = service.disputes
    if spec is None:
        return disputed, cost_cny
    late = np.flatnonzero((tickets.kind > 0)
                          & (tickets.first_response > service.first_response_sla_hours))
    chosen = late[rng.random(len(late)) < spec.probability]
    if not len(chosen):
        return disputed, cost_cny
    disputed[chosen] = True
    market = tickets.market[chosen]
    day = np.maximum(net.timeline.day(
        (tickets.arrival[chosen] + service.first_response_sla_hours) / 24.0), t + 1)
    fee = np.full(len(chosen), spec.cost_per_dispute_cny)
    ledger.book("dispute_fee", 0, -fee, day, day, market)
    cost_cny[chosen] = fee
    claimed = spec.refund_share * tickets.open_value[chosen]
    if claimed.any():
        # VAT at the rate of the ticket's day: the nearest day the ticket knows to the sale.
        ticket_day = net.timeline.day(tickets.arrival[chosen] / 24.0)
        cost_cny[chosen] += refund(net, ledger, market, claimed, day, ticket_day)
    np.add.at(sales.penalty_stars, (market, day), spec.rating_penalty)
    return disputed, cost_cny


