"""Fixed monthly costs: staff outside the service desk, software and tools, rent.

Each overhead in ``finance.overheads`` is paid on its ``day_of_month`` of every month inside
the horizon, in its currency, booked under ``overheads`` (accrued and paid that day). They
follow no order, so they sit below the contribution margin:

    operating profit = contribution margin + agent wages + overheads   (costs negative)

A horizon that starts after the payment day of its first month misses that month's payment,
as a seller's books for that period would.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import day_of_month
from sim.ledger import Ledger
from sim.scenario import Scenario


def book_overheads(scenario: Scenario, ledger: Ledger, currencies: list[str]) -> None:
    """Book every overhead on its payment days inside the horizon."""
    overheads = scenario.finance.overheads
    if not overheads:
        return
    dom = day_of_month(scenario.horizon.start_date, scenario.horizon.days)
    for overhead in overheads:
        days = np.flatnonzero(dom == overhead.day_of_month)
        if len(days) and overhead.amount_per_month > 0:
            ledger.book("overheads", currencies.index(overhead.currency),
                        np.full(len(days), -overhead.amount_per_month), days, days)
