"""Peak events placed in every year of the history.

A base scenario dates its events in its own year (Black Friday 2026-11-27); the history may
be 2025, or two years. Retail events recur, so each is fitted, and written, as a yearly
event (``PeakEvent.recurs_yearly``). An event that says how it recurs keeps its rule. For
one that does not, the history decides between the two rules, the same date (11.11) or the
same n-th weekday of the month (Prime Day, Black Friday): the rule whose windows stand out
more from the days around them, by the mean log ratio of the daily count to its centred
four-week median. Where the two rules give the same days in the history it cannot tell
them apart and the same date is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.calibrate.demand_history import event_days
from sim.scenario import PeakEvent

RULES = ("date", "weekday")
NEIGHBOURS = 29
"""Days in the centred window whose median is a day's reference."""


def yearly_events(y: np.ndarray, dates: pd.DatetimeIndex, markets: list[str],
                  events: list[PeakEvent]) -> tuple[list[PeakEvent], list[str]]:
    """The events as yearly ones, and in words the rules the history chose; ``y`` [market,
    day] the daily counts the calendar is fitted to (NaN: not reported)."""
    lifted = _lift(y, dates, markets)
    out, notes = [], []
    for event in events:
        if event.recurs_yearly is not None:
            out.append(event)
            continue
        candidates = [event.model_copy(update={"recurs_yearly": rule}) for rule in RULES]
        masks = [event_days(dates, c) for c in candidates]
        if (masks[0] == masks[1]).all():
            out.append(candidates[0])
            continue
        rows = [i for i, m in enumerate(markets) if event.markets is None or m in event.markets]
        score = [float(np.nanmean(lifted[rows][:, mask])) if mask.any() else -np.inf
                 for mask in masks]
        best = int(np.argmax(score)) if event.demand_multiplier >= 1 else int(np.argmin(score))
        out.append(candidates[best])
        notes.append(f"peak event {event.name} recurs on the same "
                     f"{'weekday' if best else 'date'} each year (the history's peaks fit that "
                     "rule better)")
    return out, notes


def _lift(y: np.ndarray, dates: pd.DatetimeIndex, markets: list[str]) -> np.ndarray:
    """log(y / centred rolling median) [market, day]: how far a day stands out."""
    frame = pd.DataFrame(np.asarray(y, dtype=float).T, index=dates, columns=markets)
    median = frame.rolling(NEIGHBOURS, center=True, min_periods=NEIGHBOURS // 2).median()
    with np.errstate(divide="ignore", invalid="ignore"):
        lifted = np.log(frame.to_numpy() / median.to_numpy()).T
    return np.where(np.isfinite(lifted), lifted, np.nan)
