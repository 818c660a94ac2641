"""A scenario distribution for a duration seen only through whole-day dates and known extras.

An observed duration x (date difference, whole days) is the time the scenario parameter
means, X, plus parts the scenario models elsewhere (customs and final delivery after a main
leg; a late supplier's delay) plus the rounding of both dates to days:

    x = X + Y + e,    E[x] = E[X] + E[Y],    Var[x] = Var[X] + Var[Y] + 1/12

Y's mean and variance come from the base scenario (per observation: a mode shared by lanes
has each lane's own final leg), e is the day rounding (a uniform time of day on either date
adds about 1/12 day^2 and nothing to the mean). So E[X] and Var[X] follow by moments, and
their intervals by a bootstrap over the observations.

The family is chosen by AIC among those that make sense for durations, fitted by maximum
likelihood to the observations moved to X's moments (z = E[X] + (y - mean y) sd_X / sd_y,
y = x - E[Y]): an approximation that keeps the observed shape and drops the extras' spread.
The chosen family is then written in the scenario's parameterisation from the moments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.distributions import (
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Poisson,
    Triangular,
    Uniform,
)
from sim.distributions import Distribution as Dist

ROUNDING_VARIANCE = 1.0 / 12.0
"""day^2 added by whole-day dates (a uniform time of day within the day)."""
FAMILIES = ("lognormal", "gamma", "triangular", "uniform", "exponential")
MIN_FOR_FAMILY = 20
"""Fewer observations than this cannot tell families apart: the base's family is used."""
BOOTSTRAP = 400
CONSTANT_CV = 0.02
"""Below this CV of X the duration is written as a constant."""


def moments(dist: Dist) -> tuple[float, float]:
    """(mean, variance) of a scenario distribution."""
    mean = float(dist.mean())
    if isinstance(dist, Constant):
        return mean, 0.0
    if isinstance(dist, Uniform):
        return mean, (dist.high - dist.low) ** 2 / 12.0
    if isinstance(dist, Triangular):
        a, c, b = dist.low, dist.mode, dist.high
        return mean, (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
    if isinstance(dist, Lognormal | Gamma):
        return mean, (dist.cv * mean) ** 2
    if isinstance(dist, Exponential):
        return mean, mean**2
    if isinstance(dist, Poisson):
        return mean, mean
    assert isinstance(dist, Empirical)
    values = np.asarray(dist.values, dtype=float)
    weights = np.ones_like(values) if dist.weights is None else np.asarray(dist.weights)
    return mean, float(weights @ (values - mean) ** 2 / weights.sum())


def chance(probability: float, dist: Dist) -> tuple[float, float]:
    """(mean, variance) of a delay that happens with ``probability``: B x D."""
    mean, variance = moments(dist)
    second = variance + mean**2
    return probability * mean, probability * second - (probability * mean) ** 2


@dataclass
class DurationFit:
    """X's distribution in scenario form with its moments, intervals and family evidence."""

    dist: dict[str, Any]
    n: int
    mean: float
    cv: float
    mean_interval: tuple[float, float]
    cv_interval: tuple[float, float]
    families: pd.DataFrame = field(default_factory=pd.DataFrame)

    def rows(self, path: str) -> list[dict[str, Any]]:
        """Parameter-table rows for the mean and CV under a scenario path."""
        return [
            {"parameter": f"{path}.mean", "estimate": self.mean, "low": self.mean_interval[0],
             "high": self.mean_interval[1], "n": self.n},
            {"parameter": f"{path}.cv", "estimate": self.cv, "low": self.cv_interval[0],
             "high": self.cv_interval[1], "n": self.n},
        ]


def fit_duration(observed: np.ndarray, extra_mean: np.ndarray | float,
                 extra_variance: np.ndarray | float, default_family: str,
                 seed: int = 0) -> DurationFit:
    """X's distribution from whole-day durations x and the extras Y (per observation or
    one for all)."""
    x = np.asarray(observed, dtype=float)
    y = x - np.broadcast_to(np.asarray(extra_mean, dtype=float), x.shape)
    nuisance = float(np.mean(extra_variance)) + ROUNDING_VARIANCE
    mean, variance = (float(v) for v in _moments(y, nuisance))
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(y), size=(BOOTSTRAP, len(y)))
    boot_mean, boot_var = _moments(y[index], nuisance)
    boot_cv = np.sqrt(np.maximum(boot_var, 0.0)) / np.maximum(boot_mean, 1e-9)
    cv = float(np.sqrt(max(variance, 0.0)) / mean) if mean > 0 else 0.0
    mean_interval = _interval(boot_mean)
    cv_interval = _interval(boot_cv)
    if mean <= 0 or cv < CONSTANT_CV:
        value = max(mean, 0.0)
        return DurationFit({"dist": "constant", "value": round(value, 3)}, len(x), value,
                           0.0, mean_interval, cv_interval)
    z = mean + (y - y.mean()) * np.sqrt(variance / max(float(y.var()), 1e-12))
    families = _compare(z) if len(z) >= MIN_FOR_FAMILY else pd.DataFrame()
    if len(families):
        family = str(families.loc[families["aic"].idxmin(), "family"])
        families["chosen"] = families["family"] == family
    else:
        family = default_family if default_family in FAMILIES else "lognormal"
    shape = float(stats.triang.fit(z)[0]) if family == "triangular" else 0.5
    dist = scenario_form(family, mean, variance, shape)
    return DurationFit(dist, len(x), float(mean), cv, mean_interval, cv_interval, families)


def _interval(draws: np.ndarray) -> tuple[float, float]:
    low, high = np.quantile(draws, [0.025, 0.975])
    return float(low), float(high)


def _moments(y: np.ndarray, nuisance: float) -> tuple[Any, Any]:
    """Mean and variance of X along the last axis (sample variance less the extras')."""
    n = y.shape[-1]
    mean = y.mean(axis=-1)
    variance = y.var(axis=-1, ddof=1 if n > 1 else 0) - nuisance
    return mean, variance


def _compare(z: np.ndarray) -> pd.DataFrame:
    """AIC and KS distance of each duration family fitted by maximum likelihood to z."""
    rows = []
    for family in FAMILIES:
        if family in ("lognormal", "gamma", "exponential") and z.min() <= 0:
            continue
        frozen = _ml(family, z)
        logpdf = frozen.logpdf(z)
        if not np.all(np.isfinite(logpdf)):
            continue
        k = {"exponential": 1, "uniform": 2, "triangular": 3}.get(family, 2)
        rows.append({"family": family, "aic": 2 * k - 2 * float(logpdf.sum()),
                     "ks": float(stats.kstest(z, frozen.cdf).statistic)})
    return pd.DataFrame(rows)


def _ml(family: str, z: np.ndarray) -> Any:
    """The family's maximum-likelihood fit to z, frozen (durations start at 0)."""
    if family == "lognormal":
        return stats.lognorm(*stats.lognorm.fit(z, floc=0))
    if family == "gamma":
        return stats.gamma(*stats.gamma.fit(z, floc=0))
    if family == "exponential":
        return stats.expon(loc=0, scale=float(z.mean()))
    if family == "uniform":
        spread = float(z.max() - z.min())
        pad = spread / max(len(z) - 1, 1)  # unbiased ends of a uniform sample
        return stats.uniform(loc=float(z.min()) - pad, scale=spread + 2 * pad)
    return stats.triang(*stats.triang.fit(z))


def scenario_form(family: str, mean: float, variance: float, shape: float) -> dict[str, Any]:
    """A family with this mean and variance, in the scenario's parameters (kept >= 0).

    ``shape`` is the triangular mode's place between low and high (0..1). A uniform or
    triangular spread too wide to keep above 0 starts at 0 and keeps the mean, not the
    variance: a shifted mean (a day's processing of 0-1 days read as 0-1.4) moves every
    delivery against its promise."""
    sd = float(np.sqrt(variance))
    if family in ("lognormal", "gamma"):
        return {"dist": family, "mean": round(mean, 3), "cv": round(sd / mean, 4)}
    if family == "exponential":
        return {"dist": family, "mean": round(mean, 3)}
    if family == "uniform":
        width = min(sd * float(np.sqrt(12.0)), 2.0 * mean)
        low = mean - width / 2.0
        return {"dist": family, "low": round(low, 3), "high": round(low + width, 3)}
    width = min(sd * float(np.sqrt(18.0 / (1.0 - shape + shape * shape))),
                3.0 * mean / (1.0 + shape))
    low = mean - width * (1.0 + shape) / 3.0
    return {"dist": "triangular", "low": round(low, 3), "mode": round(low + shape * width, 3),
            "high": round(low + width, 3)}


def settled(start: pd.Series, end: pd.Series) -> pd.Series:
    """Rows whose outcome is known without bias: ended, and started long enough before the
    last end seen that a long duration would have ended too (open orders are the long ones,
    so dropping only the open ones would shorten the fit)."""
    done = start.notna() & end.notna()
    if not done.any():
        return done
    longest = (end[done] - start[done]).max()
    return done & (start <= end[done].max() - longest)
