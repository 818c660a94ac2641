"""A seller's order history as dense arrays: order lines per market, SKU and day, and the
sessions each market-day had by source.

Two million order lines (2,000 SKUs x 3 markets x 2 years) become a few arrays of 4.4 M
cells, so every demand fit works on market-day and SKU-market totals, never on lines. An
order line is one SKU of one order: the simulation draws orders per SKU, so line counts
(not units) are the Poisson counts of the demand model.

Paid sessions are not organic: the ``traffic`` table names them by source, else the
``ad_spend`` table's sessions (or clicks) do, else its spend goes through the base
scenario's ad response (Hill curve and adstock) on the base calendar. Each channel's paid
sessions count with its ``conversion_multiplier``: what the orders see is converting
sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.data.calibrate.delivery_rating import steady_ratings
from sim.calendar import peak_starts
from sim.demand import converting_paid, paid_sessions
from sim.scenario import PeakEvent, Scenario


@dataclass(frozen=True)
class DemandHistory:
    markets: list[str]
    skus: list[str]
    dates: pd.DatetimeIndex
    lines: np.ndarray
    """Order lines [market, sku, day]."""
    price: np.ndarray
    """Price paid [market, sku, day], market currency: the day's mean, carried over days
    without sales (NaN for a SKU-market that never sold)."""
    organic: np.ndarray | None
    """Organic sessions [market, day] from ``traffic`` (NaN: not reported); None without."""
    paid: np.ndarray
    """Converting paid sessions [market, day]: sessions x the channel's multiplier."""
    paid_source: str
    """Where paid sessions came from, in words."""
    extra_units: int
    """Units beyond the first over all lines (units per order = 1 + Poisson(mean))."""
    rating: np.ndarray
    """[market] the rating the market's deliveries held it at (``delivery_rating``)."""

    @property
    def n_days(self) -> int:
        return len(self.dates)


def demand_history(tables: dict[str, pd.DataFrame], base: Scenario
                   ) -> tuple[DemandHistory, list[str]]:
    """The arrays of the base scenario's markets and SKUs, and what was left out, in words."""
    orders = tables["orders"]
    warnings: list[str] = []
    dates = _history_dates(tables)
    sold_in = {str(m) for m in orders["market"].unique()}
    markets = [m for m in base.markets if m in sold_in]
    skus = list(base.skus)
    m_code = pd.Categorical(orders["market"], categories=markets).codes
    s_code = pd.Categorical(orders["sku"], categories=skus).codes
    day = (pd.to_datetime(orders["order_date"]).dt.normalize() - dates[0]).dt.days.to_numpy()
    known = (m_code >= 0) & (s_code >= 0)
    dropped = sorted(sold_in - set(base.markets))
    if dropped:
        warnings.append(f"orders in markets the base scenario lacks were left out: {dropped}")
    unknown = orders["sku"][(m_code >= 0) & (s_code < 0)].nunique()
    if unknown:
        warnings.append(f"orders of {unknown} SKUs the base scenario lacks were left out")
    shape = (len(markets), len(skus), len(dates))
    cell = np.ravel_multi_index((m_code[known], s_code[known], day[known]), shape)
    size = int(np.prod(shape))
    lines = np.bincount(cell, minlength=size).reshape(shape)
    paid_price = orders["unit_price"].to_numpy(dtype=float)[known]
    price_sum = np.bincount(cell, weights=paid_price, minlength=size).reshape(shape)
    quantity = orders["quantity"].to_numpy(dtype=float)[known]
    organic = _organic(tables.get("traffic"), markets, dates)
    paid, source, paid_warnings = _paid(tables, base, markets, dates)
    return DemandHistory(
        markets=markets, skus=skus, dates=dates, lines=lines,
        price=_carried(np.divide(price_sum, lines, out=np.full(shape, np.nan),
                                 where=lines > 0)),
        organic=organic, paid=paid, paid_source=source,
        extra_units=int(round(float(np.sum(quantity - 1.0)))),
        rating=steady_ratings(tables, base, markets)), warnings + paid_warnings


def _history_dates(tables: dict[str, pd.DataFrame]) -> pd.DatetimeIndex:
    """Every day from the first order (or session) to the last."""
    stamps = [pd.to_datetime(tables["orders"]["order_date"])]
    if "traffic" in tables and len(tables["traffic"]):
        stamps.append(pd.to_datetime(tables["traffic"]["date"]))
    first = min(s.min() for s in stamps).normalize()
    last = max(s.max() for s in stamps).normalize()
    return pd.date_range(first, last, freq="D")


def _carried(price: np.ndarray) -> np.ndarray:
    """Each SKU-market's last price paid carried forward over days without sales (and its
    first price back over the days before it first sold)."""
    frame = pd.DataFrame(price.reshape(-1, price.shape[-1]).T)
    return frame.ffill().bfill().to_numpy().T.reshape(price.shape)


def _grid(frame: pd.DataFrame, column: str, markets: list[str], dates: pd.DatetimeIndex,
          value: str) -> tuple[list[str], np.ndarray]:
    """``value`` summed to [name in ``column``, market, day] (NaN where nothing was reported)."""
    names = sorted(frame[column].astype(str).unique())
    table = (frame.assign(date=pd.to_datetime(frame["date"]).dt.normalize())
             .groupby([frame[column].astype(str), frame["market"].astype(str), "date"])[value]
             .sum(min_count=1))
    index = pd.MultiIndex.from_product([names, markets, dates])
    full = table.reindex(index).to_numpy(dtype=float)
    return names, full.reshape(len(names), len(markets), len(dates))


def _organic(traffic: pd.DataFrame | None, markets: list[str],
             dates: pd.DatetimeIndex) -> np.ndarray | None:
    if traffic is None:
        return None
    rows = traffic[traffic["source"].astype(str) == "organic"]
    if rows.empty or not set(markets) <= set(rows["market"].astype(str)):
        return None
    return _grid(rows, "source", markets, dates, "sessions")[1][0]


def _paid(tables: dict[str, pd.DataFrame], base: Scenario, markets: list[str],
          dates: pd.DatetimeIndex) -> tuple[np.ndarray, str, list[str]]:
    """Converting paid sessions [market, day], where they came from, and warnings."""
    traffic, ads = tables.get("traffic"), tables.get("ad_spend")
    if traffic is not None and (traffic["source"].astype(str) != "organic").any():
        rows = traffic[traffic["source"].astype(str) != "organic"]
        channels, sessions = _grid(rows, "source", markets, dates, "sessions")
        source = "traffic"
    elif ads is not None and len(ads) and _reported(ads) is not None:
        column = str(_reported(ads))
        channels, sessions = _grid(ads, "channel", markets, dates, column)
        source = f"ad_spend {column}"
    elif ads is not None and len(ads):
        return _paid_from_spend(ads, base, markets, dates)
    else:
        return (np.zeros((len(markets), len(dates))), "none",
                ["no ad history: every session is taken as organic"])
    unknown = [c for c in channels if c not in base.ad_channels]
    multiplier = np.array([base.ad_channels[c].conversion_multiplier
                           if c in base.ad_channels else 1.0 for c in channels])
    paid = np.nansum(sessions * multiplier[:, None, None], axis=0)
    warnings = ([f"paid channels {unknown} are not in the base scenario: their sessions "
                 "convert at the organic rate"] if unknown else [])
    return paid, source, warnings


def _reported(ads: pd.DataFrame) -> str | None:
    for column in ("sessions", "clicks"):
        if column in ads and ads[column].notna().any():
            return column
    return None


def _paid_from_spend(ads: pd.DataFrame, base: Scenario, markets: list[str],
                     dates: pd.DatetimeIndex) -> tuple[np.ndarray, str, list[str]]:
    """Paid sessions the base scenario's ad response gives the spend (no sessions reported)."""
    channels = [c for c in base.ad_channels if c in set(ads["channel"].astype(str))]
    day = (pd.to_datetime(ads["date"]).dt.normalize() - dates[0]).dt.days.to_numpy()
    code = pd.Categorical(ads["channel"].astype(str), categories=channels).codes
    keep = (code >= 0) & (day >= 0) & (day < len(dates))
    spend = np.zeros((len(channels), len(dates)))
    np.add.at(spend, (code[keep], day[keep]), ads["spend"].to_numpy(dtype=float)[keep])
    season = calendar_on(dates, base.calendar.seasonality_by_month,
                         base.calendar.peak_events, markets)
    sessions = paid_sessions(base, channels, markets, spend, calendar=season)
    paid = converting_paid(base, channels, sessions).sum(axis=0)
    return paid, "ad_spend spend through the base ad response", [
        "ad_spend has no sessions or clicks: paid sessions are the base scenario's ad "
        "response to the spend"]


def calendar_on(dates: pd.DatetimeIndex, seasonality: list[float] | np.ndarray,
                events: list[PeakEvent], markets: list[str]) -> np.ndarray:
    """season_m(t) [market, day] on the given dates: the month's seasonality times the
    market's peak multipliers (the simulator's calendar, on dates of any year)."""
    season = np.asarray(seasonality, dtype=float)[dates.month.to_numpy() - 1]
    out = np.tile(season, (len(markets), 1))
    for event in events:
        inside = event_days(dates, event)
        for i, market in enumerate(markets):
            if event.markets is None or market in event.markets:
                out[i, inside] *= event.demand_multiplier
    return out


def event_days(dates: pd.DatetimeIndex, event: PeakEvent) -> np.ndarray:
    """Boolean per date: inside one of the event's windows (one a year when it recurs)."""
    inside = np.zeros(len(dates), dtype=bool)
    if not len(dates):
        return inside
    for first in peak_starts(event, dates[0].date(), dates[-1].date()):
        start = pd.Timestamp(first)
        inside |= np.asarray((dates >= start) & (dates < start + pd.Timedelta(days=event.days)))
    return inside
