"""The horizon as day-indexed arrays: seasonality, peaks, shutdowns, surcharges, capacity.

Day 0 is ``horizon.start_date``. Arrays run past the horizon (``extended_days``) because
things started inside it (a late purchase order, a return, a payout) may end after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import overload

import numpy as np

from sim.distributions import Distribution
from sim.scenario import PeakEvent, Scenario, Window

EXTRA_DAYS = 400


def day_of(scenario: Scenario, date: dt.date) -> int:
    return (date - scenario.horizon.start_date).days


def window_mask(scenario: Scenario, window: Window, n_days: int) -> np.ndarray:
    """Boolean per day: is the day inside the window (clipped to the array)."""
    mask = np.zeros(n_days, dtype=bool)
    start = day_of(scenario, window.start)
    mask[max(start, 0): max(start + window.days, 0)] = True
    return mask


def peak_starts(event: PeakEvent, first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the event's windows that overlap ``first`` .. ``last`` (inclusive): its
    own window, or one a year when it recurs (``PeakEvent.recurs_yearly``)."""
    if event.recurs_yearly is None:
        starts = [event.start]
    else:
        starts = [yearly_start(event, year) for year in range(first.year - 1, last.year + 1)]
    return [s for s in starts if s <= last and s + dt.timedelta(days=event.days) > first]


def yearly_start(event: PeakEvent, year: int) -> dt.date:
    """The event's first day in ``year``: the same date, or the same n-th weekday of the
    month."""
    if event.recurs_yearly != "weekday":
        return event.start.replace(year=year)
    nth = (event.start.day - 1) // 7
    first_day = dt.date(year, event.start.month, 1)
    return first_day + dt.timedelta(days=(event.start.weekday() - first_day.weekday()) % 7
                                    + 7 * nth)


def shutdown_windows(scenario: Scenario, supplier: str) -> list[tuple[float, float]]:
    """(start, end) day pairs during which the supplier produces nothing, sorted."""
    spec = scenario.suppliers[supplier]
    windows = list(spec.shutdowns)
    if spec.observes_chinese_new_year and scenario.calendar.chinese_new_year is not None:
        windows.append(scenario.calendar.chinese_new_year)
    spans = [(float(day_of(scenario, w.start)), float(day_of(scenario, w.start) + w.days))
             for w in windows]
    return sorted(spans)


def push_past_shutdowns(start: float, duration: float,
                        shutdowns: list[tuple[float, float]]) -> float:
    """End time of ``duration`` working days begun at ``start``, not counting shutdowns
    (overlapping windows count once: a factory shut twice over is shut once)."""
    end = start + duration
    for lo, hi in merged(shutdowns):
        if hi <= start or lo >= end:
            continue
        end += hi - max(lo, start)
    return end


def merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted (start, end) spans with overlapping ones joined."""
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def month_of_days(start: dt.date, n_days: int) -> np.ndarray:
    """Calendar month of each day from ``start`` (0 = January)."""
    dates = np.arange(n_days) + np.datetime64(start, "D")
    return dates.astype("datetime64[M]").astype(int) % 12


def day_of_month(start: dt.date, n_days: int) -> np.ndarray:
    """Day of the month of each day from ``start`` (1 = the first)."""
    dates = np.arange(n_days) + np.datetime64(start, "D")
    return (dates - dates.astype("datetime64[M]")).astype(int) + 1


@dataclass(frozen=True)
class Timeline:
    """Per-day multipliers and factors, looked up by integer day."""

    n_days: int
    weekday: np.ndarray            # 0 = Monday
    seasonality: np.ndarray        # [day]
    peak: np.ndarray               # [market, day]
    surcharge: np.ndarray          # [mode, day] fractional
    capacity: np.ndarray           # [mode, day] fraction of normal capacity
    disruption: list[tuple[int, np.ndarray, Distribution]]  # (mode, days, extra transit)

    @staticmethod
    def build(scenario: Scenario, markets: list[str], modes: list[str]) -> Timeline:
        horizon = scenario.horizon
        n = horizon.days + EXTRA_DAYS
        months = month_of_days(horizon.start_date, n)
        weekday = (np.arange(n) + horizon.start_date.weekday()) % 7
        seasonality = np.asarray(scenario.calendar.seasonality_by_month)[months]
        peak = np.ones((len(markets), n))
        first = horizon.start_date
        last = first + dt.timedelta(days=n - 1)
        for event in scenario.calendar.peak_events:
            for start in peak_starts(event, first, last):
                mask = window_mask(scenario, event.model_copy(update={"start": start}), n)
                for i, market in enumerate(markets):
                    if event.markets is None or market in event.markets:
                        peak[i, mask] *= event.demand_multiplier
        surcharge = np.zeros((len(modes), n))
        capacity = np.ones((len(modes), n))
        for k, name in enumerate(modes):
            mode = scenario.modes[name]
            for s in mode.surcharges:
                surcharge[k, window_mask(scenario, s, n)] += s.rate
            for c in mode.capacity_cuts:
                capacity[k, window_mask(scenario, c, n)] *= c.capacity_factor
        disruption = []
        for d in scenario.disruptions:
            mask = window_mask(scenario, d, n)
            for name in d.modes:
                k = modes.index(name)
                capacity[k, mask] *= d.capacity_factor
                disruption.append((k, mask, d.extra_transit_days))
        return Timeline(n, weekday, seasonality, peak, surcharge, capacity, disruption)

    @overload
    def day(self, t: float) -> int: ...

    @overload
    def day(self, t: np.ndarray) -> np.ndarray: ...

    def day(self, t: float | np.ndarray) -> int | np.ndarray:
        """Integer day of a time (clipped into the arrays)."""
        if type(t) is not np.ndarray or not t.ndim:
            return np.clip(np.floor(t).astype(int), 0, self.n_days - 1)
        day = np.floor(t).astype(np.int64)  # clipped in place: np.clip costs more per day
        np.minimum(day, self.n_days - 1, out=day)
        return np.maximum(day, 0, out=day)
