"""Stock by age: the lots a warehouse's units sit in, and what a run compiles from
``scenario.ageing`` (``sim.ageing`` charges, clears and reports with them).

Units are kept per (warehouse, SKU) in weekly lots by receipt week, the youngest first and
the last lot holding everything older than the cap; receipts join this week's lot, issues
take the oldest first (FIFO), and lots age as weeks pass on the simulation clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.scenario import Scenario

CAP_DAYS = 371
"""Ages are told apart up to 53 weeks, past Amazon's last tier (over 365 days)."""
AGED_DAYS = 180
"""Stock older than this is aged: Amazon's surcharges start at 181 days."""


@dataclass(frozen=True)
class AgeingTable:
    """What a run derives from ``scenario.ageing``, per warehouse [warehouse]."""

    lots: int
    """Lots kept per (warehouse, SKU): weekly lots up to the cap, then one for the rest."""
    overseas: np.ndarray
    """Indices of the overseas warehouses, whose ages the KPIs report."""
    tier_from: list[np.ndarray]
    """Ages at which each warehouse's surcharge tiers start (empty: no surcharge)."""
    tier_fee: list[np.ndarray]
    """Each tier's fee, warehouse currency per m3 per month."""
    assessment: np.ndarray
    """Per day of the horizon: the month's assessment day."""
    clearances: dict[int, list[int]]
    """Day -> the clearances (indices into ``scenario.ageing.clearance``) due that day."""
    clearance_warehouses: list[np.ndarray]
    """The warehouses each clearance applies to."""
    opening_weeks: np.ndarray
    """Weeks over which each warehouse's opening stock is spread (1 or more)."""


def compile_ageing(scenario: Scenario, warehouses: list[str],
                   is_origin: np.ndarray) -> AgeingTable:
    spec = scenario.ageing
    cap = max([CAP_DAYS, *(c.older_than_days + 7 for c in spec.clearance),
               *(t.from_days for tiers in spec.surcharges.values() for t in tiers)])
    lots = -(-cap // 7) + 1
    horizon = scenario.horizon
    days = np.datetime64(horizon.start_date, "D") + np.arange(horizon.days)
    day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
    clearances: dict[int, list[int]] = {}
    for i, clearance in enumerate(spec.clearance):
        for day in _clearance_days(clearance.date, clearance.recurs_yearly, horizon.start_date,
                                   horizon.days):
            clearances.setdefault(day, []).append(i)
    overseas = np.flatnonzero(~is_origin)
    tiers = [spec.surcharges.get(name, []) for name in warehouses]
    cover = np.array([scenario.warehouses[name].initial_stock_days for name in warehouses])
    table = AgeingTable(
        lots=lots, overseas=overseas,
        tier_from=[np.array([t.from_days for t in tier], dtype=float) for tier in tiers],
        tier_fee=[np.array([t.fee_per_m3_month for t in tier]) for tier in tiers],
        assessment=day_of_month == spec.assessment_day_of_month,
        clearances=clearances,
        clearance_warehouses=[
            overseas if c.warehouses is None else np.array([warehouses.index(n)
                                                            for n in c.warehouses])
            for c in spec.clearance],
        opening_weeks=np.clip(np.ceil(cover / 7.0), 1, lots - 1).astype(np.int64))
    for array in (table.overseas, table.assessment, table.opening_weeks, *table.tier_from,
                  *table.tier_fee, *table.clearance_warehouses):
        array.flags.writeable = False
    return table


def _clearance_days(date: dt.date, yearly: bool, start: dt.date, days: int) -> list[int]:
    """Days of the horizon on which a clearance falls (every year's date if it recurs)."""
    dates = [date] if not yearly else [date.replace(year=y) for y in
                                       range(start.year, start.year + days // 365 + 2)]
    return [(d - start).days for d in dates if 0 <= (d - start).days < days]


class Lots:
    """Units on hand by lot [warehouse, sku, lot], lot 0 the youngest; the ages the KPIs
    read are summed as the run goes. ``clock`` gives the simulation time, so a receipt
    joins the lot of the week it happens in and lots age as weeks pass."""

    def __init__(self, n_warehouses: int, n_skus: int, lots: int,
                 clock: Callable[[], float]) -> None:
        self.units = np.zeros((n_warehouses, n_skus, lots), dtype=np.int64)
        self.oldest_receipt_days = np.zeros((n_warehouses, n_skus))
        """Sum over the last lot's units of their receipt days (its exact mean age)."""
        self.week = 0
        self._clock = clock
        self.unit_days = 0.0
        """Units on hand at overseas warehouses summed over the days observed."""
        self.age_unit_days = 0.0
        """The same, each unit weighted by its age."""
        self.aged_unit_days = 0.0
        """The same, counting units older than ``AGED_DAYS`` only."""
        self.days = 0

    def ages(self, t: int) -> np.ndarray:
        """Each lot's age on day ``t`` [lot] (the last lot's: its youngest units')."""
        self._catch_up()
        return t - 7.0 * (self.week - np.arange(self.units.shape[2]))

    def receive(self, w: int, s: np.ndarray, units: np.ndarray) -> None:
        self._catch_up()
        np.add.at(self.units[w, :, 0], s, units)

    def issue(self, w: int | np.ndarray, s: np.ndarray, units: np.ndarray) -> None:
        """Take ``units`` from distinct (w, s) pairs, oldest lots first."""
        self._catch_up()
        held = self.units[w, s]
        older = np.cumsum(held[:, ::-1], axis=1)[:, ::-1] - held
        take = np.minimum(np.maximum(units[:, None] - older, 0), held)
        if take[:, -1].any():
            oldest = held[:, -1]
            left = 1.0 - take[:, -1] / np.where(oldest > 0, oldest, 1)
            self.oldest_receipt_days[w, s] = self.oldest_receipt_days[w, s] * left
        self.units[w, s] = held - take

    def observe(self, t: int, warehouses: np.ndarray) -> None:
        """Add day ``t``'s units and ages at ``warehouses`` to the KPIs' sums."""
        ages = self.ages(t)
        units = self.units[warehouses]
        total = units.sum(axis=(0, 1))
        exact = float(total[-1] * t - self.oldest_receipt_days[warehouses].sum())
        self.unit_days += float(total.sum())
        self.age_unit_days += float(total[:-1] @ ages[:-1]) + exact
        self.aged_unit_days += float(total[ages > AGED_DAYS].sum())
        self.days += 1

    def _catch_up(self) -> None:
        """Age the lots by the weeks begun since they last moved."""
        week = int(np.floor(self._clock())) // 7
        while self.week < week:
            joining = 7.0 * (self.week - (self.units.shape[2] - 2))
            self.oldest_receipt_days += self.units[:, :, -2] * joining
            self.units[:, :, -1] += self.units[:, :, -2]
            self.units[:, :, 1:-1] = self.units[:, :, :-2]
            self.units[:, :, 0] = 0
            self.week += 1
