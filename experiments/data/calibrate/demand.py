"""Fit the demand model of ``sim.demand`` to a seller's order history.

The simulator draws, per market m, SKU s and day t,

    lines_ms(t) ~ Poisson(conv_m (organic_m season_m(t) noise_t + sum_c mult_c paid_cm(t))
                          x share_s x (price_ms / reference_ms)^-e)

where season_m(t) = seasonality(month) x the market's peak multipliers. The fit:

1. Stock-outs: a SKU-market without orders for far longer than its rate makes likely was
   out of stock; those days are censored demand and left out of every fit below
   (``demand_censoring``), and each market-day is weighted by the share of demand in stock.
2. Market-day rates, read at the rating each market's deliveries held it at
   (``delivery_rating``; the scenario's initial rating becomes their order-weighted mean, so
   conversion holds at the rating the calibrated scenario settles at). With organic sessions
   in ``traffic``, orders per converting session
   give each market's conversion (NB2 regression with the sessions as offset). Without, the
   calendar model below runs on the orders themselves, the paid sessions an offset, and the
   base scenario's conversion turns the level into organic sessions.
3. Calendar (``demand_calendar``): seasonality pooled over markets, peak multipliers,
   weekday and trend, from organic sessions when ``traffic`` has them (conversion, the
   rating and ad bursts cannot then leak into the season), else from orders.
4. Popularity shares from in-stock SKU-market days (``demand_popularity``); the price
   elasticity from price changes within SKU-markets (``demand_price``), only if they
   pin it down.
Peak events are fitted in every year of the history (``demand_events``) and written as
yearly events.
Steps 1, 2 and 4 feed each other (a stock-out is judged against the SKU's share, and the
share needs the stock-outs), so they are repeated ``ROUNDS`` times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.data.calibrate.demand_calendar import (
    Z95,
    CalendarFit,
    fit_calendar,
    negative_binomial,
)
from experiments.data.calibrate.demand_censoring import stockout_days
from experiments.data.calibrate.demand_events import yearly_events
from experiments.data.calibrate.demand_history import DemandHistory, demand_history, event_days
from experiments.data.calibrate.demand_popularity import popularity_shares
from experiments.data.calibrate.demand_price import fit_elasticity
from experiments.data.calibrate.fit import Fit
from sim.customers import steady_repeat_factor
from sim.scenario import Scenario

ROUNDS = 3
MIN_IN_STOCK = 0.05
"""Market-days with less of their demand in stock than this are left out of the fits."""
MATERIAL = 0.10
"""A market's seasonality differing from the pooled one by more than this is reported."""
SETTLE_ROUNDS = 6
SETTLED = 0.01
"""Organic orders settled: no market-day moved by more than this in the last round."""
PRECISE = 0.5
"""Half-width of the elasticity's 95 % interval below which it is written."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Rates:
    """Market-day and SKU rates at one price elasticity."""

    censored: np.ndarray
    """Out-of-stock days [market, sku, day]."""
    shares: np.ndarray
    """[sku, 3] popularity share with interval (NaN: never sold)."""
    weight: np.ndarray
    """[market, sku] each SKU's part of its market's orders: share x price effect, / sum."""
    selling: np.ndarray
    """[market] sum of share x price effect: what the scenario's conversion is scaled by."""
    expected: np.ndarray
    """[market, day] expected orders with every SKU in stock."""
    in_stock: np.ndarray
    """[market, day] share of expected orders in stock."""
    conversion: np.ndarray | None
    """[market, 3] orders per converting session (from traffic), else None."""
    calendar: CalendarFit | None
    """The calendar fit on orders (no organic sessions in traffic), else None."""


def fit_demand(tables: dict[str, pd.DataFrame], base: Scenario) -> Fit:
    """Seasonality, peaks, market levels (and conversion), popularity and, where prices
    moved, the price elasticity, from ``orders`` (and ``traffic``, ``ad_spend``)."""
    history, warnings = demand_history(tables, base)
    base = _yearly_calendar(history, base, warnings)
    base, rating_rows = _rated(history, base)
    elasticity = base.conversion.price_elasticity
    rates = _rates(history, base, elasticity)
    fitted_elasticity = fit_elasticity(history.lines, history.price, rates.expected,
                                       ~rates.censored)
    values: dict[str, Any] = {}
    rows: list[tuple[str, float, float, float]] = list(rating_rows)
    if rating_rows:
        values["conversion.initial_rating"] = base.conversion.initial_rating
    if fitted_elasticity is None:
        warnings.append("prices did not change within any SKU-market: the price elasticity "
                        f"is the base scenario's ({elasticity})")
    elif (fitted_elasticity.high - fitted_elasticity.low) / 2 > PRECISE \
            or fitted_elasticity.estimate < 0:
        warnings.append(
            f"price changes in {fitted_elasticity.sku_markets} SKU-markets give an elasticity "
            f"of {fitted_elasticity.estimate:.2f} [{fitted_elasticity.low:.2f}, "
            f"{fitted_elasticity.high:.2f}], too loose to use: kept the base's {elasticity}")
    else:
        elasticity = fitted_elasticity.estimate
        values["conversion.price_elasticity"] = elasticity
        rows.append(("conversion.price_elasticity", elasticity, fitted_elasticity.low,
                     fitted_elasticity.high))
        rates = _rates(history, base, elasticity)
    organic = history.organic is not None
    calendar = _calendar(history, base, rates)
    tables_out = {"demand_seasonality_by_market": _per_market(history, base, rates, calendar,
                                                              warnings)}
    _calendar_values(history, base, calendar, values, rows, warnings)
    _market_values(history, base, rates, calendar, values, rows)
    _sku_values(history, base, rates, values, rows, warnings)
    extra = _extra_units(history)
    values["conversion.extra_units_per_order_mean"] = extra[0]
    rows.append(("conversion.extra_units_per_order_mean", *extra))
    tables_out.update({
        "demand_parameters": pd.DataFrame(rows, columns=["parameter", "estimate", "low", "high"]),
        "demand_trend": _trend_table(calendar, warnings, history),
        "demand_weekday": _weekday_table(calendar, warnings),
        "demand_observed_vs_fitted": _observed_vs_fitted(history, rates),
        "demand_stockouts": _stockout_table(history, rates),
    })
    censored = int(rates.censored.sum())
    if censored:
        warnings.append(f"{censored:,} SKU-market-days without orders for far longer than the "
                        "SKU's rate makes likely were taken as out of stock (censored demand) "
                        "and left out of the fits")
    if not organic:
        warnings.append("no organic sessions in traffic: the seasonality, peaks and levels are "
                        "those of orders, read with the base scenario's conversion (changes "
                        "in conversion or rating over the year count as season)")
    lines = int(history.lines.sum())
    comment = (f"demand: seasonality, {len(calendar.peaks)} peak events, "
               f"{'sessions and conversion' if organic else 'organic sessions'} of "
               f"{len(history.markets)} markets and {int(np.isfinite(rates.shares[:, 0]).sum())} "
               f"SKU shares from {lines:,} order lines over {history.n_days} days"
               f"{' and daily traffic' if organic else ''}; {censored:,} out-of-stock "
               "SKU-market-days left out")
    return Fit(group="demand", values=values, comment=comment, tables=tables_out,
               warnings=warnings)


def _yearly_calendar(history: DemandHistory, base: Scenario, warnings: list[str]) -> Scenario:
    """The base with its peak events recurring every year (``demand_events``), placed in
    the history by the counts the calendar is fitted to."""
    y = history.organic if history.organic is not None else history.lines.sum(axis=1)
    events, notes = yearly_events(y, history.dates, history.markets,
                                  list(base.calendar.peak_events))
    warnings.extend(notes)
    calendar = base.calendar.model_copy(update={"peak_events": events})
    return base.model_copy(update={"calendar": calendar})


def _rated(history: DemandHistory, base: Scenario
           ) -> tuple[Scenario, list[tuple[str, float, float, float]]]:
    """The base with its initial rating at the history's (the markets' steady ratings
    weighted by their order lines), so that conversion holds at the rating the calibrated
    scenario settles at; with the parameter rows of each market's rating."""
    lines = history.lines.sum(axis=(1, 2)).astype(float)
    if lines.sum() <= 0 or np.all(history.rating == base.conversion.initial_rating):
        return base, []
    initial = round(float(history.rating @ lines / lines.sum()), 4)
    rows = [(f"rating.{m}", float(r), float(r), float(r))
            for m, r in zip(history.markets, history.rating, strict=True)]
    rows.append(("conversion.initial_rating", initial, initial, initial))
    conversion = base.conversion.model_copy(update={"initial_rating": initial})
    return base.model_copy(update={"conversion": conversion}), rows


def _rates(history: DemandHistory, base: Scenario, elasticity: float) -> Rates:
    """Stock-outs, market-day rates and shares, each round refining the others."""
    effect = _price_effect(history, base, elasticity)
    sold = history.lines.sum(axis=(0, 2))
    shares = np.column_stack([sold / max(sold.sum(), 1)] * 3).astype(float)
    censored = np.zeros(history.lines.shape, dtype=bool)
    calendar: CalendarFit | None = None
    conversion: np.ndarray | None = None
    organic = None
    for _ in range(ROUNDS):
        share = np.nan_to_num(shares[:, 0])
        selling = (share[None, :] * effect).sum(axis=1)
        weight = share[None, :] * effect / selling[:, None]
        in_stock = np.einsum("ms,mst->mt", weight, ~censored)
        if history.organic is not None:
            expected, conversion = _conversion_rates(history, in_stock)
        else:
            organic, calendar = _order_calendar(history, base, in_stock, selling, organic)
            expected = organic + _paid_orders(history, base, selling)
        rate = expected[:, None, :] * weight[:, :, None]
        censored = stockout_days(history.lines, rate) & (sold > 0)[None, :, None]
        exposure = np.einsum("mt,ms,mst->s", expected, effect / selling[:, None], ~censored)
        shares = popularity_shares(np.where(censored, 0, history.lines).sum(axis=(0, 2)),
                                   exposure)
        shares[sold == 0] = np.nan
    return Rates(censored=censored, shares=shares, weight=weight, selling=selling,
                 expected=expected, in_stock=in_stock, conversion=conversion,
                 calendar=calendar)


def _price_effect(history: DemandHistory, base: Scenario, elasticity: float) -> np.ndarray:
    """[market, sku] (mean price paid / the scenario's reference price)^-e; 1 where the
    SKU-market never sold."""
    lines = history.lines.sum(axis=2)
    paid = np.nansum(history.price * history.lines, axis=2)
    mean = np.divide(paid, lines, out=np.full(lines.shape, np.nan), where=lines > 0)
    reference = np.array([[(base.skus[s].reference_price or base.skus[s].price).get(
        m, np.nan) for s in history.skus] for m in history.markets])
    effect = (mean / reference) ** -elasticity
    return np.where(np.isfinite(effect), effect, 1.0)


def _conversion_rates(history: DemandHistory, in_stock: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Orders per converting session per market (NB2, sessions x in-stock share as offset)
    and the expected orders [market, day] with every SKU in stock."""
    assert history.organic is not None
    sessions = history.organic + history.paid
    sessions = np.where(np.isfinite(sessions), sessions,
                        np.nanmean(sessions, axis=1, keepdims=True))
    usable = (in_stock >= MIN_IN_STOCK) & np.isfinite(history.organic) & (sessions > 0)
    n_markets = len(history.markets)
    design = pd.DataFrame(np.repeat(np.eye(n_markets), history.n_days, axis=0),
                          columns=[f"level_{i}" for i in range(n_markets)])
    offset = np.log(np.maximum(sessions * in_stock, 1e-12)).ravel()
    keep = usable.ravel()
    params, cov, _ = negative_binomial(history.lines.sum(axis=1).ravel()[keep],
                                       design[keep], offset[keep])
    half = Z95 * np.sqrt(np.diag(cov.to_numpy()))
    coef = params.to_numpy()
    conversion = np.exp(np.column_stack([coef, coef - half, coef + half]))
    return conversion[:, :1] * sessions, conversion


def _paid_orders(history: DemandHistory, base: Scenario, selling: np.ndarray) -> np.ndarray:
    """Orders [market, day] the paid sessions bring at the base scenario's conversion."""
    return history.paid * (_base_conversion(history, base) * selling)[:, None]


def _base_conversion(history: DemandHistory, base: Scenario) -> np.ndarray:
    """[market] base conversion rate x the delivery-promise effect x the effect of the
    rating the market's deliveries held it at x the orders returning buyers add to each
    first order in the base's customer model (``sim.customers``): the history's orders
    include them, so the fitted base rate must not count them twice."""
    cv = base.conversion
    rating = (history.rating / cv.initial_rating) ** cv.rating_elasticity \
        * steady_repeat_factor(base.customers)
    return rating * np.array([
        base.markets[m].base_conversion_rate
        * np.exp(-cv.promise_sensitivity_per_day
                 * (base.policies.fulfilment[m].promise_days - cv.reference_promise_days))
        for m in history.markets])


def _order_calendar(history: DemandHistory, base: Scenario, in_stock: np.ndarray,
                    selling: np.ndarray, organic: np.ndarray | None
                    ) -> tuple[np.ndarray, CalendarFit]:
    """The calendar model on market-day orders. Paid orders P enter as the offset
    log(1 + P / O) with O the organic orders of the previous round, so that the calendar
    multiplies organic orders only, repeated until O settles (the first guess: the fit of
    all orders less P); returns O [market, day] and the fit."""
    y = history.lines.sum(axis=1).astype(float)
    paid = _paid_orders(history, base, selling)
    usable = in_stock >= MIN_IN_STOCK
    stock = np.log(np.maximum(in_stock, MIN_IN_STOCK))
    events = base.calendar.peak_events
    if organic is None:
        total = fit_calendar(y, stock, usable, history.dates, history.markets, events).expected
        organic = np.maximum(total - paid, 0.25 * total)
    for _ in range(SETTLE_ROUNDS):
        fit = fit_calendar(y, stock + np.log1p(paid / organic), usable, history.dates,
                           history.markets, events)
        change = float(np.max(np.abs(fit.expected / organic - 1.0)))
        organic = fit.expected
        if change < SETTLED:
            break
    return organic, fit


def _calendar(history: DemandHistory, base: Scenario, rates: Rates) -> CalendarFit:
    """The calendar fit: on organic sessions when traffic has them, else on orders."""
    if history.organic is None:
        assert rates.calendar is not None
        return rates.calendar
    sessions = np.round(np.nan_to_num(history.organic))
    return fit_calendar(sessions, np.zeros(sessions.shape), np.isfinite(history.organic),
                        history.dates, history.markets, base.calendar.peak_events)


def _per_market(history: DemandHistory, base: Scenario, rates: Rates, pooled: CalendarFit,
                warnings: list[str]) -> pd.DataFrame:
    """Seasonality fitted market by market, with a warning where one differs materially
    from the pooled fit (the scenario has one list for all markets)."""
    if history.organic is not None:
        y = np.round(np.nan_to_num(history.organic))
        offset = np.zeros(y.shape)
        usable = np.isfinite(history.organic)
    else:
        y = history.lines.sum(axis=1).astype(float)
        paid = _paid_orders(history, base, rates.selling)
        offset = np.log(np.maximum(rates.in_stock, MIN_IN_STOCK)) + np.log1p(
            paid / np.maximum(rates.expected - paid, 1e-9))
        usable = rates.in_stock >= MIN_IN_STOCK
    frames = []
    for i, market in enumerate(history.markets):
        one = fit_calendar(y[i:i + 1], offset[i:i + 1], usable[i:i + 1], history.dates,
                           [market], base.calendar.peak_events)
        season = one.seasonality
        frames.append(pd.DataFrame({
            "parameter": [f"calendar.seasonality_by_month.{k}" for k in range(12)],
            "market": market, "month": MONTHS, "estimate": season[:, 0],
            "low": season[:, 1], "high": season[:, 2]}))
        ratio = season[:, 0] / pooled.seasonality[:, 0] - 1.0
        outside = (pooled.seasonality[:, 0] < season[:, 1]) | (
            pooled.seasonality[:, 0] > season[:, 2])
        differ = [f"{MONTHS[k]} {ratio[k]:+.0%}" for k in range(12)
                  if outside[k] and abs(ratio[k]) > MATERIAL]
        if differ:
            warnings.append(f"{market}'s own seasonality differs from the pooled one (the "
                            f"scenario has one for all markets): {', '.join(differ)}")
    return pd.concat(frames, ignore_index=True)


def _calendar_values(history: DemandHistory, base: Scenario, calendar: CalendarFit,
                     values: dict[str, Any], rows: list[tuple[str, float, float, float]],
                     warnings: list[str]) -> None:
    """Seasonality (months the history lacks keep the base's values) and peak events."""
    season = calendar.seasonality.copy()
    seen = np.isfinite(season[:, 0])
    base_season = np.asarray(base.calendar.seasonality_by_month, dtype=float)
    if not seen.all():
        season[seen] *= base_season[seen].mean()
        season[~seen] = base_season[~seen, None]
        warnings.append("the history lacks "
                        f"{', '.join(MONTHS[k] for k in np.flatnonzero(~seen))}: their "
                        "seasonality is the base scenario's, the others scaled to its mean")
    values["calendar.seasonality_by_month"] = [float(v) for v in season[:, 0]]
    rows.extend((f"calendar.seasonality_by_month.{k}", *season[k]) for k in range(12))
    events = []
    for j, event in enumerate(base.calendar.peak_events):
        spec = event.model_dump(mode="json", exclude_none=True)
        inside = event_days(history.dates, event)
        if j in calendar.peaks:
            spec["demand_multiplier"] = float(calendar.peaks[j][0])
            rows.append((f"calendar.peak_events.{j}.demand_multiplier", *calendar.peaks[j]))
            if inside.sum() < event.days:
                warnings.append(f"peak event {event.name} is only partly inside the history: "
                                f"its multiplier is fitted on {int(inside.sum())} of "
                                f"{event.days} days")
        else:
            warnings.append(f"peak event {event.name} ({event.start}) lies outside the "
                            f"history: kept the base multiplier {event.demand_multiplier}")
        events.append(spec)
    values["calendar.peak_events"] = events


def _market_values(history: DemandHistory, base: Scenario, rates: Rates,
                   calendar: CalendarFit, values: dict[str, Any],
                   rows: list[tuple[str, float, float, float]]) -> None:
    """Organic sessions per day (and the conversion rate when traffic gives sessions)."""
    scale = _base_conversion(history, base) / np.array(
        [base.markets[m].base_conversion_rate for m in history.markets])
    for i, market in enumerate(history.markets):
        if rates.conversion is None:
            level = calendar.level[i] / (_base_conversion(history, base)[i]
                                         * rates.selling[i])
        else:
            level = calendar.level[i]
            rate = rates.conversion[i] / (scale[i] * rates.selling[i])
            values[f"markets.{market}.base_conversion_rate"] = float(rate[0])
            rows.append((f"markets.{market}.base_conversion_rate", *rate))
        values[f"markets.{market}.organic_sessions_per_day"] = float(level[0])
        rows.append((f"markets.{market}.organic_sessions_per_day", *level))


def _sku_values(history: DemandHistory, base: Scenario, rates: Rates, values: dict[str, Any],
                rows: list[tuple[str, float, float, float]], warnings: list[str]) -> None:
    """Popularity weights on the base's scale: the fitted SKUs keep their base total, so a
    SKU without orders (kept at its base value) stays comparable."""
    fitted = np.isfinite(rates.shares[:, 0])
    base_weight = np.array([base.skus[s].popularity for s in history.skus])
    scale = base_weight[fitted].sum() / rates.shares[fitted, 0].sum()
    for s, sku in enumerate(history.skus):
        if fitted[s]:
            weight = rates.shares[s] * scale
            values[f"skus.{sku}.popularity"] = float(weight[0])
            rows.append((f"skus.{sku}.popularity", *weight))
    if not fitted.all():
        warnings.append(f"{int((~fitted).sum())} SKUs have no orders in the history (never "
                        "listed, or never in stock): their popularity is the base scenario's")


def _extra_units(history: DemandHistory) -> tuple[float, float, float]:
    """Mean units beyond the first per order line, with its exact Poisson interval."""
    lines, extra = float(history.lines.sum()), float(history.extra_units)
    low = stats.chi2.ppf(0.025, 2 * extra) / 2.0 if extra > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * extra + 2) / 2.0
    return extra / lines, low / lines, high / lines


def _trend_table(calendar: CalendarFit, warnings: list[str],
                 history: DemandHistory) -> pd.DataFrame:
    """Growth per year per market (reported only: the scenario has no trend)."""
    what = "organic sessions" if history.organic is not None else "orders"
    if not calendar.trend:
        warnings.append("a trend cannot be told from the seasonality in a history under 13 "
                        "months: none estimated")
    rows = []
    for market, (growth, low, high, p) in calendar.trend.items():
        rows.append((f"trend.{market}", growth, low, high, p))
        if p < 0.05:
            warnings.append(f"{what} in {market} grew {growth:+.1%} a year [{low:+.1%}, "
                            f"{high:+.1%}]: the scenario has no trend, its level is the "
                            "history's mid-point")
    return pd.DataFrame(rows, columns=["parameter", "estimate", "low", "high", "p_value"])


def _weekday_table(calendar: CalendarFit, warnings: list[str]) -> pd.DataFrame:
    """Weekday multipliers, mean 1 (reported only: the scenario has none)."""
    effect = calendar.weekday
    if calendar.weekday_p < 0.01 and np.nanmax(np.abs(effect[:, 0] - 1.0)) > 0.03:
        strongest = int(np.nanargmax(np.abs(effect[:, 0] - 1.0)))
        warnings.append(f"demand varies by weekday (p = {calendar.weekday_p:.1g}; "
                        f"{WEEKDAYS[strongest]} {effect[strongest, 0] - 1.0:+.0%}): the "
                        "scenario has no weekday effect")
    return pd.DataFrame({"parameter": [f"weekday.{d}" for d in WEEKDAYS],
                         "estimate": effect[:, 0], "low": effect[:, 1], "high": effect[:, 2]})


def _observed_vs_fitted(history: DemandHistory, rates: Rates) -> pd.DataFrame:
    """Order lines per market and month: observed, and expected given the stock-outs."""
    month = history.dates.strftime("%Y-%m")
    frames = [pd.DataFrame({"market": market, "month": month,
                            "observed": history.lines[i].sum(axis=0),
                            "fitted": rates.expected[i] * rates.in_stock[i]})
              for i, market in enumerate(history.markets)]
    return (pd.concat(frames).groupby(["market", "month"], as_index=False, sort=False)
            [["observed", "fitted"]].sum())


def _stockout_table(history: DemandHistory, rates: Rates) -> pd.DataFrame:
    """Out-of-stock days per SKU-market, where there were any."""
    days = rates.censored.sum(axis=2)
    m, s = np.nonzero(days)
    return pd.DataFrame({"market": [history.markets[i] for i in m],
                         "sku": [history.skus[j] for j in s], "censored_days": days[m, s]})
