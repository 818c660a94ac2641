"""Days of cover that follow the calendar: seasonal reorder levels.

A replenishment level written in days of cover, D, is turned into units once, at the
planning run-rate r of the warehouse and SKU (units a day at the average season,
``sim.demand.expected_daily_units``): level = round(D r). A rule marked ``seasonal``
converts it at every review instead, as the demand expected over the D days the level
covers, at the seasonality of the months they fall in:

    level(t) = round(r * sum_{d = t}^{t + D - 1} season(d) / mean season)
             = round(r * (C(t + D) - C(t))),    C(x) = sum_{d < x} season(d) / mean season

(C is interpolated for a fractional D). Over days of constant seasonality s the level is
the average one times s / mean season: levels rise ahead of and through the peak months,
when what is ordered now will sell, and fall in the slow ones. Peak events (a few days'
spikes, planned by pre-building: ``optimize.peak``) are left out, as are the ad channels
that do not follow the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import Scenario


@dataclass(frozen=True)
class SeasonalCover:
    """The seasonal levels of a run's rules, [warehouse, sku]; other cells keep their
    units."""

    seasonal: np.ndarray
    """The cell's rule follows the calendar."""
    low_days: np.ndarray
    """Reorder point (s, R) or base-stock level in days of cover."""
    high_days: np.ndarray
    """Order-up-to level S, batch Q or base-stock level in days of cover."""
    rate: np.ndarray
    """Planning run-rate, units a day at the average season."""
    cumulative: np.ndarray
    """C(x) at whole days x = 0, 1, ...: relative seasonality summed over the days before."""

    @staticmethod
    def build(scenario: Scenario, seasonal: np.ndarray, low_days: np.ndarray,
              high_days: np.ndarray, rate: np.ndarray) -> SeasonalCover:
        longest = float(np.max(np.where(seasonal, np.maximum(low_days, high_days), 0.0)))
        n = scenario.horizon.days + int(np.ceil(longest)) + 1
        dates = np.datetime64(scenario.horizon.start_date, "D") + np.arange(n)
        months = dates.astype("datetime64[M]").astype(int) % 12
        season = np.asarray(scenario.calendar.seasonality_by_month)
        relative = season[months] / season.mean()
        cumulative = np.concatenate([[0.0], np.cumsum(relative)])
        cover = SeasonalCover(seasonal, low_days, high_days, rate.copy(), cumulative)
        for array in (cover.seasonal, cover.low_days, cover.high_days, cover.rate,
                      cover.cumulative):
            array.flags.writeable = False
        return cover

    def units(self, t: int, days: np.ndarray, rate: np.ndarray) -> np.ndarray:
        """Expected demand over ``days`` days from day ``t`` at the seasonal run-rate."""
        grid = np.arange(len(self.cumulative))
        return np.round(rate * (np.interp(t + days, grid, self.cumulative)
                                - self.cumulative[t]))

    def levels(self, w: int, t: int, low: np.ndarray, high: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """Warehouse ``w``'s levels on day ``t`` [sku]: ``low`` and ``high`` (units, the
        average-season levels) with the seasonal cells converted at day ``t``'s calendar."""
        pick = self.seasonal[w]
        if not pick.any():
            return low, high
        low, high = low.copy(), high.copy()
        rate = self.rate[w, pick]
        low[pick] = self.units(t, self.low_days[w, pick], rate)
        high[pick] = self.units(t, self.high_days[w, pick], rate)
        return low, high
