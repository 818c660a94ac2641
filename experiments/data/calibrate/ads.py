"""Fit each ad channel's response curve to its daily spend and paid sessions.

Per channel in ``ad_spend`` (matched to the base scenario's channels by name): the Hill
half-saturation K, exponent n, daily carry-over r and maximum sessions S of
``sim.scenario.AdChannel`` by nonlinear least squares on the seasonal model of
``ads_panel`` (``ads_response``), with the channel's market shares. Values are written in
the convention the base channel uses (``cost_per_click`` or ``half_saturation_spend_per_
week``; ``carryover`` or ``weekly_carryover``), the other set to null, since a channel takes
exactly one of each. A channel new to the scenario takes the base's first channel's other
settings (conversion multiplier, calendar, conventions).

The response is paid sessions, else clicks, else the sales the platform attributes (whose
scale is money, not sessions: the curve's shape is fitted, the maximum sessions kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.data.calibrate.ads_panel import ChannelPanel, channel_panel
from experiments.data.calibrate.ads_response import ResponseFit, adstock, fit_response
from experiments.data.calibrate.fit import Fit
from sim.scenario import BASE_CURRENCY, AdChannel, Scenario

FLAT_SPEND_CV = 0.05
"""Below this day-to-day CV of spend the curve cannot be told from a straight line."""
TRADE_OFF = 0.9
UNIDENTIFIED = 10.0
"""A half-saturation interval spanning more than this factor keeps the base's curve."""
LOOSE = 0.5
"""A half-saturation interval wider than this share of it calls for the trade-off's cause."""


def fit_ads(tables: dict[str, pd.DataFrame], base: Scenario) -> Fit:
    """Response curves of the channels in ``ad_spend``."""
    fit = Fit("ads")
    spend = tables.get("ad_spend")
    if spend is None or spend.empty:
        fit.warnings.append("no ad_spend table: the ad channels are the base's")
        fit.comment = "ad channels as in the base scenario (no ad spend history)"
        return fit
    rows: list[dict[str, Any]] = []
    weekly: list[pd.DataFrame] = []
    fitted: list[str] = []
    for channel, group in spend.groupby("channel"):
        name = str(channel)
        outcome = _fit_channel(name, group, base, fit)
        if outcome is None:
            continue
        panel, curve, predicted = outcome
        rows += curve
        weekly.append(_weekly(panel, predicted))
        fitted.append(f"{name} ({panel.measure}, {int(np.isfinite(panel.response).sum())} d)")
    fit.tables["ads"] = pd.DataFrame(rows, columns=["parameter", "estimate", "low", "high"])
    if weekly:
        fit.tables["ads_observed_vs_fitted"] = pd.concat(weekly, ignore_index=True)
    fit.comment = ("Hill response on geometric adstock, least squares on log daily response "
                   f"with the base calendar: {', '.join(fitted) or 'no channel fitted'}")
    return fit


Outcome = tuple[ChannelPanel, list[dict[str, Any]], np.ndarray]
"""A channel's panel, parameter-table rows and fitted daily response."""


def _fit_channel(name: str, rows: pd.DataFrame, base: Scenario, fit: Fit) -> Outcome | None:
    """Write one channel's values into ``fit``; None when it cannot be fitted."""
    spec = base.ad_channels.get(name)
    template = spec or next(iter(base.ad_channels.values()), None)
    currency = spec.currency if spec else str(rows["currency"].mode().iloc[0])
    known = {BASE_CURRENCY} | {m.currency for m in base.markets.values()}
    strange = ~rows["currency"].astype(str).isin(known)
    if strange.any():
        fit.warnings.append(f"ad channel {name}: {int(strange.sum())} rows in currencies the "
                            "base scenario has no rate for were left out")
        rows = rows[~strange]
    follows = template.follows_calendar if template else True
    panel = channel_panel(rows, base, follows, currency)
    if panel is None:
        fit.warnings.append(f"ad channel {name}: no sessions, clicks or attributed sales; "
                            "its response is the base's")
        return None
    sales = panel.measure == "attributed_sales"
    if sales:
        fit.warnings.append(f"ad channel {name}: only attributed sales, so the curve's shape "
                            "(K, n, carry-over) is fitted to sales and its maximum sessions "
                            "kept from the base")
    if spec is None and (sales or template is None):
        fit.warnings.append(f"ad channel {name} is not in the base scenario and its data "
                            "cannot give its sessions: left out")
        return None
    observed = np.isfinite(panel.response)
    level = panel.spend[observed]
    if level.std() <= FLAT_SPEND_CV * max(level.mean(), 1e-9):
        return _flat(name, panel, spec, sales, base, fit)
    curve = fit_response(panel.spend, panel.response, panel.season)
    k_low, k_high = np.exp(curve.interval(np.eye(4)[1]))
    if spec is not None and not k_high < UNIDENTIFIED * k_low:
        fit.warnings.append(f"ad channel {name}: the curve is not identified (half-"
                            f"saturation 95 % {k_low:.3g}-{k_high:.3g} per day)")
        return _flat(name, panel, spec, sales, base, fit)
    peak = spec.max_sessions_per_day if (sales and spec) else curve.max_per_day
    assert template is not None
    values, rows_out = _values(name, curve, peak, template, sales)
    values["market_shares"] = _shares(name, panel, base, fit)
    if spec is None:
        fit.values[f"ad_channels.{name}"] = _new_channel(template, currency, values)
        fit.warnings.append(f"ad channel {name} is new: its conversion multiplier "
                            f"({template.conversion_multiplier}) and calendar are assumed "
                            "from the base's first channel")
    else:
        fit.values |= {f"ad_channels.{name}.{key}": v for key, v in values.items()}
    fit.warnings += _identification(name, curve, rows_out)
    return panel, rows_out, curve.fitted


def _values(name: str, curve: ResponseFit, peak: float, template: AdChannel, sales: bool
            ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Scenario values in the template's conventions, and their parameter-table rows."""
    path = f"ad_channels.{name}"
    e = np.eye(4)
    k_low, k_high = np.exp(curve.interval(e[1]))
    n_low, n_high = np.exp(curve.interval(e[2]))
    r_low, r_high = 1.0 / (1.0 + np.exp(-np.array(curve.interval(e[3]))))
    values: dict[str, Any] = {"hill_exponent": round(curve.exponent, 4)}
    rows = [_row(f"{path}.hill_exponent", curve.exponent, n_low, n_high)]
    if template.cost_per_click is not None:
        cpc = curve.half_saturation_per_day / peak
        low, high = ((k_low / peak, k_high / peak) if sales
                     else np.exp(curve.interval(e[1] - e[0])))
        values |= {"cost_per_click": round(cpc, 5), "half_saturation_spend_per_week": None}
        rows.append(_row(f"{path}.cost_per_click", cpc, low, high))
    else:
        week = 7.0 * curve.half_saturation_per_day
        values |= {"half_saturation_spend_per_week": round(week, 3), "cost_per_click": None}
        rows.append(_row(f"{path}.half_saturation_spend_per_week", week, 7 * k_low,
                         7 * k_high))
    if template.carryover is not None:
        values |= {"carryover": round(curve.carryover, 4), "weekly_carryover": None}
        rows.append(_row(f"{path}.carryover", curve.carryover, r_low, r_high))
    else:
        weekly = curve.carryover**7
        values |= {"weekly_carryover": round(weekly, 4), "carryover": None}
        rows.append(_row(f"{path}.weekly_carryover", weekly, r_low**7, r_high**7))
    if not sales:
        s_low, s_high = np.exp(curve.interval(e[0]))
        values["max_sessions_per_day"] = round(curve.max_per_day, 2)
        rows.append(_row(f"{path}.max_sessions_per_day", curve.max_per_day, s_low, s_high))
    return values, rows


def _row(parameter: str, estimate: float, low: float, high: float) -> dict[str, Any]:
    return {"parameter": parameter, "estimate": float(estimate), "low": float(low),
            "high": float(high)}


def _identification(name: str, curve: ResponseFit, rows: list[dict[str, Any]]) -> list[str]:
    """What the data could not pin down: wide intervals and traded-off parameters."""
    out = []
    for row in rows:
        if row["high"] - row["low"] > row["estimate"]:
            out.append(f"ad channel {name}: the data hardly identify "
                       f"{row['parameter'].rsplit('.', 1)[1]} ({row['estimate']:.3g}, 95 % "
                       f"{row['low']:.3g}-{row['high']:.3g})")
    k_low, k_high = np.exp(curve.interval(np.eye(4)[1]))
    if (k_high - k_low) < LOOSE * curve.half_saturation_per_day:
        return out
    if abs(curve.correlation(1, 3)) > TRADE_OFF:
        out.append(f"ad channel {name}: half-saturation and carry-over are traded off "
                   f"(correlation {curve.correlation(1, 3):+.2f}); vary spend from week to "
                   "week, holding each level a few days, to separate them")
    if abs(curve.correlation(0, 1)) > TRADE_OFF:
        out.append(f"ad channel {name}: spend stays on the straight part of the curve: the "
                   "maximum sessions and half-saturation are traded off (correlation "
                   f"{curve.correlation(0, 1):+.2f}), only their ratio is well known")
    return out


def _flat(name: str, panel: ChannelPanel, spec: AdChannel | None, sales: bool,
          base: Scenario, fit: Fit) -> Outcome | None:
    """Flat spend: no curve, only the scale at the base's shape (a known channel)."""
    if spec is None or sales:
        fit.warnings.append(f"ad channel {name}: spend does not vary enough to fit a "
                            "response curve; the base's is kept")
        return None
    shape = panel.season * _hill(adstock(panel.spend, spec.daily_carryover),
                                 spec.half_saturation_spend_per_day, spec.hill_exponent)
    use = np.isfinite(panel.response)
    peak = float(panel.response[use] @ shape[use] / max(shape[use] @ shape[use], 1e-12))
    fit.warnings.append(f"ad channel {name}: spend does not vary enough, so the curve's "
                        "shape (half-saturation, exponent, carry-over) is the base's; only "
                        "the maximum sessions are fitted")
    fit.values[f"ad_channels.{name}.max_sessions_per_day"] = round(peak, 2)
    if spec.cost_per_click is not None:  # K = cost_per_click x S stays the base's
        cpc = spec.half_saturation_spend_per_day / peak
        fit.values[f"ad_channels.{name}.cost_per_click"] = round(cpc, 5)
    fit.values[f"ad_channels.{name}.market_shares"] = _shares(name, panel, base, fit)
    return (panel, [_row(f"ad_channels.{name}.max_sessions_per_day", peak, np.nan, np.nan)],
            peak * shape)


def _hill(stock: np.ndarray, half: float, exponent: float) -> np.ndarray:
    ratio = np.maximum(stock, 0.0) / half
    return ratio**exponent / (1.0 + ratio**exponent)


def _shares(name: str, panel: ChannelPanel, base: Scenario, fit: Fit) -> dict[str, float]:
    """The channel's market shares over the base's markets (others are dropped)."""
    known = {m: s for m, s in panel.shares.items() if m in base.markets}
    dropped = sorted(set(panel.shares) - set(known))
    if dropped:
        fit.warnings.append(f"ad channel {name}: markets {', '.join(dropped)} are not in the "
                            "base scenario; their share of the channel's sessions is dropped")
    total = sum(known.values())
    if total <= 0:
        return {m: round(1.0 / len(base.markets), 6) for m in base.markets}
    shares = {m: round(s / total, 6) for m, s in known.items()}
    first = next(iter(shares))
    shares[first] = round(1.0 - sum(v for m, v in shares.items() if m != first), 6)
    return shares


def _new_channel(template: AdChannel, currency: str, values: dict[str, Any]) -> dict[str, Any]:
    """A whole channel entry: the fitted values over the template's other settings."""
    entry = template.model_dump(mode="json", exclude_none=True)
    entry |= {"currency": currency}
    entry |= {key: v for key, v in values.items() if v is not None}
    for key, v in values.items():
        if v is None:
            entry.pop(key, None)
    return entry


def _weekly(panel: ChannelPanel, predicted: np.ndarray) -> pd.DataFrame:
    """Observed against fitted response, summed by week (spend: mean per day)."""
    week = np.arange(len(panel.spend)) // 7
    frame = pd.DataFrame({"week": week, "spend": panel.spend, "observed": panel.response,
                          "fitted": np.where(np.isfinite(panel.response), predicted, np.nan)})
    out = frame.groupby("week").agg(spend_per_day=("spend", "mean"),
                                    observed=("observed", "sum"), fitted=("fitted", "sum"))
    out.insert(0, "week_start", panel.start + pd.to_timedelta(7 * out.index, unit="D"))
    out.insert(0, "measure", panel.measure)
    out.insert(0, "channel", panel.channel)
    return out.reset_index(drop=True)
