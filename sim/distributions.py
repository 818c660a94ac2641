"""Named probability distributions, written in scenario files by name and parameters.

A scenario says ``{dist: lognormal, mean: 32, cv: 0.25}`` for a sea transit time; this module
turns that into a small immutable object that samples vectors from a numpy ``Generator`` and
knows its mean and quantiles (the optimisers need percentile transit times from the same
objects the simulation samples, so there is one source of truth for uncertainty).

Every quantity the model draws (days, hours, units) is non-negative, so every distribution
rejects parameters that could produce a negative draw at load time. Every parameter is also
bounded so that sampling stays finite: values at most ``MAX_DURATION`` (ten years in days,
or hours), a coefficient of variation in [``MIN_CV``, ``MAX_CV``] (a gamma's shape 1 / cv^2
overflows below it, a lognormal's tail above it).

The registry is the ``Distribution`` annotated union: a scenario's ``dist:`` key selects the
class, and pydantic rejects unknown names and wrong parameters with the dotted path.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_DURATION = 3650.0
"""The largest value a distribution may take or be centred on (days or hours)."""
MIN_CV, MAX_CV = 1e-3, 10.0
"""Coefficients of variation sampling can represent (gamma shape 1e6 to 0.01)."""
MAX_EMPIRICAL_VALUES = 10_000
MAX_WEIGHT = 1e9


def _a_number(value: object) -> object:
    """Refuse what pydantic would quietly convert to a number: ``true`` is not 1, and text
    such as "100" is not a number either (other text fails pydantic's own check)."""
    if isinstance(value, bool):
        raise ValueError(f"Input should be a number, not {str(value).lower()}")
    if isinstance(value, str | bytes):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError(f"Input should be a number, not the text {value!r}")
    return value


NumberOnly = BeforeValidator(_a_number)
"""Put on every numeric type of the schema, before its bounds."""

NonNegative = Annotated[float, NumberOnly, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, NumberOnly, Field(gt=0, allow_inf_nan=False)]
Duration = Annotated[float, NumberOnly, Field(ge=0, le=MAX_DURATION, allow_inf_nan=False)]
PositiveDuration = Annotated[float, NumberOnly,
                             Field(gt=0, le=MAX_DURATION, allow_inf_nan=False)]
Cv = Annotated[float, NumberOnly, Field(ge=MIN_CV, le=MAX_CV, allow_inf_nan=False)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Draw ``size`` independent values as float64."""

    @abstractmethod
    def mean(self) -> float:
        """Expected value, used for planning figures such as expected lead time."""

    @abstractmethod
    def quantile(self, p: float) -> float:
        """The p-quantile, used for delivery promises met with a given probability."""


class Constant(_Dist):
    """A fixed value; setting every distribution constant makes a run deterministic."""

    dist: Literal["constant"]
    value: Duration

    def sample(self, rng, size):
        return np.full(size, self.value, dtype=float)

    def mean(self) -> float:
        return self.value

    def quantile(self, p: float) -> float:
        return self.value


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def quantile(self, p: float) -> float:
        return self.low + p * (self.high - self.low)


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: Duration
    mode: Duration
    high: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("need low <= mode <= high")
        return self

    def sample(self, rng, size):
        if self.high == self.low:
            return np.full(size, self.low, dtype=float)
        return rng.triangular(self.low, self.mode, self.high, size)

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def quantile(self, p: float) -> float:
        if self.high == self.low:
            return self.low
        from scipy import stats  # imported here: it costs ~0.7 s at start-up

        c = (self.mode - self.low) / (self.high - self.low)
        return float(stats.triang.ppf(p, c, loc=self.low, scale=self.high - self.low))


class _MeanCv(_Dist):
    """Parametrised by mean and coefficient of variation, as planners quote lead times."""

    mean_: PositiveDuration = Field(alias="mean")
    cv: Cv

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def mean(self) -> float:
        return self.mean_


class Lognormal(_MeanCv):
    dist: Literal["lognormal"]

    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = np.log1p(self.cv**2)
        return float(np.log(self.mean_) - 0.5 * sigma2), float(np.sqrt(sigma2))

    def sample(self, rng, size):
        mu, sigma = self._mu_sigma()
        return rng.lognormal(mu, sigma, size)

    def quantile(self, p: float) -> float:
        from scipy import stats

        mu, sigma = self._mu_sigma()
        return float(np.exp(mu + sigma * stats.norm.ppf(p)))


class Gamma(_MeanCv):
    dist: Literal["gamma"]

    def sample(self, rng, size):
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_ / shape, size)

    def quantile(self, p: float) -> float:
        from scipy import stats

        shape = 1.0 / self.cv**2
        return float(stats.gamma.ppf(p, shape, scale=self.mean_ / shape))


class Exponential(_Dist):
    """Memoryless times, the textbook service time of an M/M/c queue."""

    dist: Literal["exponential"]
    mean_: PositiveDuration = Field(alias="mean")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng, size):
        return rng.exponential(self.mean_, size)

    def mean(self) -> float:
        return self.mean_

    def quantile(self, p: float) -> float:
        return float(-self.mean_ * np.log1p(-p))


class Poisson(_Dist):
    """Integer counts, e.g. whole days of delay."""

    dist: Literal["poisson"]
    mean_: Duration = Field(alias="mean")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng, size):
        return rng.poisson(self.mean_, size).astype(float)

    def mean(self) -> float:
        return self.mean_

    def quantile(self, p: float) -> float:
        from scipy import stats

        return float(stats.poisson.ppf(p, self.mean_)) if self.mean_ > 0 else 0.0


class Empirical(_Dist):
    """Observed values resampled with optional weights (e.g. last year's transit times)."""

    dist: Literal["empirical"]
    values: Annotated[list[Duration], Field(min_length=1, max_length=MAX_EMPIRICAL_VALUES)]
    weights: Annotated[list[Annotated[float, NumberOnly, Field(ge=0, le=MAX_WEIGHT,
                                                                 allow_inf_nan=False)]],
                       Field(max_length=MAX_EMPIRICAL_VALUES)] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _probabilities(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng, size):
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._probabilities())

    def mean(self) -> float:
        return float(np.dot(self.values, self._probabilities()))

    def quantile(self, p: float) -> float:
        order = np.argsort(self.values)
        cumulative = np.cumsum(self._probabilities()[order])
        index = min(int(np.searchsorted(cumulative, p - 1e-12)), len(order) - 1)
        return float(np.asarray(self.values)[order][index])


Distribution = Annotated[
    Constant | Uniform | Triangular | Lognormal | Gamma | Exponential | Poisson | Empirical,
    Field(discriminator="dist"),
]
"""Any registered distribution; the ``dist`` field names which."""

DISTRIBUTION_NAMES = ("constant", "uniform", "triangular", "lognormal", "gamma", "exponential",
                      "poisson", "empirical")
