"""Calendar effects on daily counts: monthly seasonality, peak events, weekday and trend.

For a count y_mt of market m on day t (organic sessions, or orders) a negative-binomial
(NB2) regression with log link:

    log E[y_mt] = offset_mt + a_m + g_month(t) + sum_e d_e [t in e, m in e]
                  + w_weekday(t) + b_m years(t)

The scenario's calendar is season_m(t) = seasonality(month) x the product of the market's
peak multipliers, so exp(g) normalised to mean 1 over the months is the seasonality list
and exp(d_e) each event's multiplier; the level exp(a_m) times the mean month and weekday
effects is y per day at seasonality 1, no peak, an average weekday, in mid-history. The
scenario has no weekday or trend field: w and b are estimated so that they do not leak into
the seasonality, and reported. A trend needs some month seen twice (a history over 13
months); within one year a straight line and the months cannot be told apart. Daily noise
on sessions makes counts overdispersed; NB2 (variance mu + alpha mu^2) prices that into the
intervals, which come from the fit's covariance (delta method for normalised effects).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from experiments.data.calibrate.demand_history import event_days
from sim.scenario import PeakEvent

Z95 = float(stats.norm.ppf(0.975))
TREND_MIN_DAYS = 395
MIN_DISPERSION = 1e-6


@dataclass(frozen=True)
class CalendarFit:
    """Effects as rows of (estimate, low, high), 95 % intervals."""

    seasonality: np.ndarray
    """[12, 3] mean 1 over the months seen; NaN rows for months the history lacks."""
    peaks: dict[int, np.ndarray]
    """Event index in the calendar -> multiplier (3,), for events with days in the fit."""
    weekday: np.ndarray
    """[7, 3] Monday first, mean 1; NaN when the history is under two weeks."""
    weekday_p: float
    """p-value of no weekday effect at all (Wald)."""
    trend: dict[str, np.ndarray]
    """Market -> (growth per year, low, high, p-value); empty when not identifiable."""
    level: np.ndarray
    """[market, 3] y per day at seasonality 1, no peak, average weekday, mid-history."""
    expected: np.ndarray
    """[market, day] exp(linear predictor) without the offset: y at full offset 1."""
    dispersion: float
    """NB2 alpha: squared coefficient of variation of the day-to-day noise."""


def fit_calendar(y: np.ndarray, offset: np.ndarray, usable: np.ndarray,
                 dates: pd.DatetimeIndex, markets: list[str],
                 events: list[PeakEvent]) -> CalendarFit:
    """Fit the model above to y [market, day] on the ``usable`` market-days."""
    month_of = np.tile(dates.month.to_numpy(), len(markets))
    keep = usable.ravel()
    reference = int(month_of[keep][0])
    design = _design(dates, markets, events, reference)
    columns = [c for c in design.columns if design.loc[keep, c].any()]
    x = design[columns]
    params, cov, dispersion = negative_binomial(y.ravel()[keep], x[keep],
                                                 offset.ravel()[keep])
    seen = [reference] + [k for k in range(1, 13)
                          if k != reference and f"month_{k}" in params]
    season_names = [f"month_{k}" for k in seen]
    weekday_names = [f"weekday_{d}" for d in range(7)] if "weekday_1" in params else []
    seasonality = np.full((12, 3), np.nan)
    seasonality[np.array(seen) - 1] = _normalised(params, cov, season_names)
    weekday = (_normalised(params, cov, weekday_names) if weekday_names
               else np.full((7, 3), np.nan))
    peaks = {int(n.split("_")[1]): _exp_interval(params[n], cov.loc[n, n])
             for n in params.index if n.startswith("peak_")}
    trend = {m: _growth(params[f"trend_{i}"], cov.loc[f"trend_{i}", f"trend_{i}"])
             for i, m in enumerate(markets) if f"trend_{i}" in params}
    level = np.array([_level(params, cov, f"level_{i}", season_names, weekday_names)
                      for i in range(len(markets))])
    expected = np.exp(design[columns].to_numpy() @ params[columns].to_numpy())
    return CalendarFit(
        seasonality=seasonality, peaks=peaks, weekday=weekday,
        weekday_p=_joint_p(params, cov, [n for n in weekday_names if n in params]),
        trend=trend, level=level, expected=expected.reshape(y.shape),
        dispersion=dispersion)


def _design(dates: pd.DatetimeIndex, markets: list[str], events: list[PeakEvent],
            reference: int) -> pd.DataFrame:
    """Columns of the regression for every market-day (market-major rows). The ``reference``
    month and Monday are the reference levels (their columns are left out)."""
    n_days = len(dates)
    market = np.repeat(np.arange(len(markets)), n_days)
    day = np.tile(np.arange(n_days), len(markets))
    month = dates.month.to_numpy()[day]
    weekday = dates.day_of_week.to_numpy()[day]
    cols: dict[str, np.ndarray] = {f"level_{i}": market == i for i in range(len(markets))}
    cols.update({f"month_{k}": month == k for k in range(1, 13) if k != reference})
    if n_days >= 14:
        cols.update({f"weekday_{d}": weekday == d for d in range(1, 7)})
    for j, event in enumerate(events):
        affected = np.array([event.markets is None or m in event.markets for m in markets])
        cols[f"peak_{j}"] = event_days(dates, event)[day] & affected[market]
    if n_days >= TREND_MIN_DAYS:
        years = (day - (n_days - 1) / 2.0) / 365.25
        cols.update({f"trend_{i}": np.where(market == i, years, 0.0)
                     for i in range(len(markets))})
    return pd.DataFrame({name: values.astype(float) for name, values in cols.items()})


def negative_binomial(y: np.ndarray, x: pd.DataFrame, offset: np.ndarray
                      ) -> tuple[pd.Series, pd.DataFrame, float]:
    """NB2 maximum likelihood started from the Poisson fit of the same mean model: the
    coefficients, their covariance and alpha. Counts with no extra-Poisson noise drive alpha
    to 0, where the NB2 fit degenerates: the Poisson fit is then the answer (alpha 0)."""
    poisson = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
    model = sm.NegativeBinomial(y, x, loglike_method="nb2", offset=offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, HessianInversionWarning,
                                         RuntimeWarning))
        result = model.fit(start_params=np.append(poisson.params.to_numpy(), 0.01),
                           method="bfgs", maxiter=500, disp=False)
    alpha = float(result.params["alpha"])
    if (not result.mle_retvals["converged"] or result.normalized_cov_params is None
            or alpha < MIN_DISPERSION or not np.all(np.isfinite(result.bse))):
        return poisson.params, poisson.cov_params(), 0.0
    params = result.params.drop("alpha")
    cov = result.cov_params().drop(index="alpha", columns="alpha")
    return params, cov, alpha


def _exp_interval(coef: float, variance: float) -> np.ndarray:
    half = Z95 * np.sqrt(variance)
    return np.exp(np.array([coef, coef - half, coef + half]))


def _growth(coef: float, variance: float) -> np.ndarray:
    """Growth per year exp(b) - 1 with its interval, and the p-value of no trend."""
    p = 2.0 * stats.norm.sf(abs(coef) / np.sqrt(variance))
    return np.append(_exp_interval(coef, variance) - 1.0, p)


def _normalised(params: pd.Series, cov: pd.DataFrame, names: list[str]) -> np.ndarray:
    """[k, 3] exp(coef) / mean(exp(coef)) over a family of levels whose first (the reference)
    has no column, with delta-method intervals on the log scale."""
    coef = np.array([0.0] + [params.get(n, 0.0) for n in names[1:]])
    weight = np.exp(coef) / np.exp(coef).sum()
    sub = np.zeros((len(names), len(names)))
    present = [i for i, n in enumerate(names) if i > 0 and n in params]
    labels = [names[i] for i in present]
    sub[np.ix_(present, present)] = cov.loc[labels, labels].to_numpy()
    gradient = np.eye(len(names)) - weight[None, :]
    sd = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", gradient, sub, gradient), 0.0))
    log_value = coef - np.log(np.exp(coef).mean())
    return np.exp(np.column_stack([log_value, log_value - Z95 * sd, log_value + Z95 * sd]))


def _level(params: pd.Series, cov: pd.DataFrame, name: str, months: list[str],
           weekdays: list[str]) -> np.ndarray:
    """exp(a_m) x mean month effect x mean weekday effect, with a delta-method interval."""
    log_value = float(params[name])
    gradient = {name: 1.0}
    for family in (months, weekdays):
        if not family:
            continue
        coef = np.array([0.0] + [params.get(n, 0.0) for n in family[1:]])
        log_value += float(np.log(np.exp(coef).mean()))
        weight = np.exp(coef) / np.exp(coef).sum()
        gradient.update({n: w for n, w in zip(family[1:], weight[1:], strict=True)
                         if n in params})
    labels = list(gradient)
    g = np.array([gradient[n] for n in labels])
    sd = float(np.sqrt(g @ cov.loc[labels, labels].to_numpy() @ g))
    return np.exp(np.array([log_value, log_value - Z95 * sd, log_value + Z95 * sd]))


def _joint_p(params: pd.Series, cov: pd.DataFrame, names: list[str]) -> float:
    """Wald test that every coefficient named is zero."""
    if not names:
        return float("nan")
    b = params[names].to_numpy()
    statistic = float(b @ np.linalg.solve(cov.loc[names, names].to_numpy(), b))
    return float(stats.chi2.sf(statistic, len(names)))
