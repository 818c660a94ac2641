"""The seller's own ad spend, replayed in the backtest: the model is judged on its response
to the decisions the history was made with, not on the scenario's default policy.

Ad spend is a decision, like the opening stock: a history whose channels spent twice the
scenario's default bought more paid sessions than the scenario would, and a backtest that
simulated the default would blame the demand model for it. The ``ad_spend`` table becomes
``policies.ad_spend``: per channel, the mean spend a day of each horizon week (weeks of 7
days from the first order date, as ``sim.demand.ad_spend_schedule`` counts them) and the
period's mean as the default spend (which planning figures such as days of cover use).
Spend within a week is flattened to its mean; the adstock smooths it the same way.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from experiments.engine.models import override_text
from sim.scenario import BASE_CURRENCY, Scenario


def ad_spend_overrides(ads: pd.DataFrame | None, scenario: Scenario, first: dt.date,
                       days: int, notes: list[str]) -> list[str]:
    """``policies.ad_spend.<channel>=...`` overrides replaying ``ads`` over ``days`` days
    from ``first``; none without spend. Channels of the scenario absent from the table spent
    nothing in the history and spend nothing in the replay."""
    if ads is None or ads.empty:
        return []
    fx = {BASE_CURRENCY: 1.0} | {m.currency: m.fx_to_cny for m in scenario.markets.values()}
    day = (pd.to_datetime(ads["date"]).dt.normalize() - pd.Timestamp(first)).dt.days
    rows = ads[(day >= 0) & (day < days) & ads["currency"].astype(str).isin(list(fx))]
    day = day[rows.index].to_numpy()
    in_cny = rows["spend"].to_numpy(dtype=float) * rows["currency"].astype(str).map(fx)
    week = day // 7 + 1
    weeks = np.arange(1, (days - 1) // 7 + 2)
    out = []
    replayed = []
    for name, channel in scenario.ad_channels.items():
        mine = (rows["channel"].astype(str) == name).to_numpy()
        spend = np.bincount(week[mine], weights=in_cny[mine], minlength=weeks[-1] + 1)[1:]
        spend = spend / fx[channel.currency] / _days_in(weeks, days)
        out.append(override_text(f"policies.ad_spend.{name}", {
            "spend_per_day": round(float(in_cny[mine].sum() / fx[channel.currency] / days), 4),
            "weekly_spend_per_day": {int(w): round(float(s), 4)
                                     for w, s in zip(weeks, spend, strict=True)}}))
        if mine.any():
            replayed.append(name)
    absent = sorted(set(scenario.ad_channels) - set(replayed))
    notes.append("Ad spend replays the actuals' ad_spend table (weekly means per channel)"
                 + (f"; {', '.join(absent)} spent nothing in it." if absent else "."))
    return out


def _days_in(weeks: np.ndarray, days: int) -> np.ndarray:
    """Days of each horizon week inside the period (the last may be short)."""
    return np.minimum(7, days - 7 * (weeks - 1)).astype(float)
