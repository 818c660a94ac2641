"""One ad channel's daily history, lined up with the market calendar it is modelled with.

The scenario's paid sessions of channel c in market m on day t are
S share_m season_m(t) h(a_t), so the channel's total over markets is S g(t) h(a_t) with
g(t) = sum_m share_m season_m(t): the base scenario's calendar (monthly seasonality x peak
events, ``sim.demand.calendar_multiplier``) weighted by where the channel buys traffic.
Market shares follow from the same model: sessions_m(t) / season_m(t) is proportional to
share_m every day, so share_m is proportional to its sum over days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calendar import Timeline
from sim.demand import calendar_multiplier
from sim.scenario import BASE_CURRENCY, Scenario

MEASURES = ("sessions", "clicks", "attributed_sales")
"""Response columns in order of preference."""


@dataclass(frozen=True)
class ChannelPanel:
    """Daily spend (channel currency), response and calendar of one channel."""

    channel: str
    start: pd.Timestamp
    currency: str
    measure: str
    spend: np.ndarray
    response: np.ndarray
    """Per day over markets; NaN on days without a row."""
    season: np.ndarray
    """g(t) = sum_m share_m season_m(t) (1 for a channel that ignores the calendar)."""
    shares: dict[str, float]


def channel_panel(rows: pd.DataFrame, base: Scenario, follows_calendar: bool, currency: str
                  ) -> ChannelPanel | None:
    """The channel's panel from its ``ad_spend`` rows, or None without a response column."""
    measure = next((m for m in MEASURES if m in rows and rows[m].notna().any()), None)
    if measure is None:
        return None
    start, end = rows["date"].min(), rows["date"].max()
    days = pd.date_range(start, end, freq="D")
    spend = rows.assign(spend=rows["spend"] * _rate(base, rows["currency"], currency))
    wide_spend = spend.pivot_table(index="date", columns="market", values="spend",
                                   aggfunc="sum").reindex(days)
    wide = rows.pivot_table(index="date", columns="market", values=measure,
                            aggfunc="sum").reindex(days)
    markets = [str(m) for m in wide.columns]
    season = (market_season(base, markets, start, len(days)) if follows_calendar
              else np.ones((len(markets), len(days))))
    per_share = np.nansum(wide.to_numpy().T / season, axis=1)
    shares = per_share / per_share.sum() if per_share.sum() > 0 else np.full(
        len(markets), 1.0 / len(markets))
    observed = wide.notna().any(axis=1).to_numpy()
    response = np.where(observed, np.nansum(wide.to_numpy(), axis=1), np.nan)
    return ChannelPanel(
        channel=str(rows["channel"].iloc[0]), start=pd.Timestamp(start), currency=currency,
        measure=measure,
        spend=np.nan_to_num(wide_spend.sum(axis=1, min_count=1).to_numpy(dtype=float)),
        response=response, season=shares @ season,
        shares={m: float(s) for m, s in zip(markets, shares, strict=True)})


def market_season(base: Scenario, markets: list[str], start: pd.Timestamp,
                  days: int) -> np.ndarray:
    """season_m(t) [market, day] from ``start`` under the base calendar; a market the base
    does not know follows the monthly seasonality without peaks."""
    horizon = base.horizon.model_copy(
        update={"start_date": pd.Timestamp(start).date(), "days": days, "warmup_days": 0})
    known = [m for m in markets if m in base.markets]
    timeline = Timeline.build(base.model_copy(update={"horizon": horizon}), known,
                              list(base.modes))
    season = calendar_multiplier(timeline)[:, :days]
    out = np.tile(timeline.seasonality[:days], (len(markets), 1))
    for i, market in enumerate(markets):
        if market in known:
            out[i] = season[known.index(market)]
    return out


def _rate(base: Scenario, currencies: pd.Series, to: str) -> np.ndarray:
    """Factor turning amounts in each row's currency into ``to`` (the base's FX rates)."""
    fx = {BASE_CURRENCY: 1.0} | {m.currency: m.fx_to_cny for m in base.markets.values()}
    rows = currencies.astype(str).map(fx).to_numpy(dtype=float)
    return rows / fx.get(to, np.nan)
