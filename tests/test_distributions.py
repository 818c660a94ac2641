"""Every named distribution: its mean and quantiles against scipy.stats (parametrised the way
sim/distributions.py documents them) and its sample mean for a fixed seed.

Parameterisations:
    constant     value
    uniform      low, high
    triangular   low, mode, high              (scipy: triang(c=(mode-low)/(high-low)))
    lognormal    mean, cv: sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2
    gamma        mean, cv: shape k = 1 / cv^2, scale = mean / k = mean cv^2
    exponential  mean                         (scipy: expon(scale=mean))
    poisson      mean                         (scipy: poisson(mu=mean))
    empirical    values, weights (optional)   (scipy: rv_discrete)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from sim.distributions import DISTRIBUTION_NAMES, Distribution

PROBABILITIES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
N = 200_000

to_dist = TypeAdapter(Distribution)


def dist(**spec):
    return to_dist.validate_python(spec)


def lognorm(mean: float, cv: float):
    sigma = math.sqrt(math.log(1.0 + cv**2))
    return stats.lognorm(s=sigma, scale=mean / math.sqrt(1.0 + cv**2))


CASES = {
    "constant": ({"dist": "constant", "value": 7.5}, None),
    "uniform": ({"dist": "uniform", "low": 2, "high": 6}, stats.uniform(loc=2, scale=4)),
    "triangular": ({"dist": "triangular", "low": 1, "mode": 2, "high": 5},
                   stats.triang(c=0.25, loc=1, scale=4)),
    "triangular_right": ({"dist": "triangular", "low": 0, "mode": 10, "high": 10},
                         stats.triang(c=1.0, loc=0, scale=10)),
    "lognormal": ({"dist": "lognormal", "mean": 32, "cv": 0.25}, lognorm(32, 0.25)),
    "lognormal_wide": ({"dist": "lognormal", "mean": 0.25, "cv": 0.5}, lognorm(0.25, 0.5)),
    "gamma": ({"dist": "gamma", "mean": 18, "cv": 0.3}, stats.gamma(a=1 / 0.09, scale=1.62)),
    "gamma_exponential": ({"dist": "gamma", "mean": 4, "cv": 1.0}, stats.expon(scale=4)),
    "exponential": ({"dist": "exponential", "mean": 1.5}, stats.expon(scale=1.5)),
    "poisson": ({"dist": "poisson", "mean": 3.2}, stats.poisson(mu=3.2)),
    "empirical": ({"dist": "empirical", "values": [30, 20, 40, 25]},
                  stats.rv_discrete(values=([20, 25, 30, 40], [0.25] * 4))),
    # (Weights whose cumulative sums are exact in floating point: at p = 0.6 + 0.3 scipy's
    # ppf steps past the value whose cumulative probability is exactly p; the hand-computed
    # test below checks that boundary.)
    "empirical_weighted": ({"dist": "empirical", "values": [5, 1, 3], "weights": [2, 5, 3]},
                           stats.rv_discrete(values=([1, 3, 5], [0.5, 0.3, 0.2]))),
}


def test_every_registered_distribution_is_covered():
    assert {spec["dist"] for spec, _ in CASES.values()} == set(DISTRIBUTION_NAMES)


@pytest.mark.parametrize("name", list(CASES))
def test_mean_and_quantiles_match_scipy(name):
    spec, reference = CASES[name]
    d = dist(**spec)
    if reference is None:  # constant
        assert d.mean() == spec["value"]
        assert [d.quantile(p) for p in PROBABILITIES] == [spec["value"]] * len(PROBABILITIES)
        return
    assert d.mean() == pytest.approx(reference.mean(), rel=1e-12)
    for p in PROBABILITIES:
        assert d.quantile(p) == pytest.approx(reference.ppf(p), rel=1e-9, abs=1e-12), p


@pytest.mark.parametrize("name", list(CASES))
def test_sample_mean_and_spread_for_a_fixed_seed(name):
    spec, reference = CASES[name]
    d = dist(**spec)
    draws = d.sample(np.random.default_rng(20260105), N)
    assert draws.shape == (N,) and draws.dtype == np.float64
    assert (draws >= 0).all()
    if reference is None:
        assert (draws == spec["value"]).all()
        return
    # Within 5 standard errors of the mean (a fixed seed: deterministic, not flaky).
    se = reference.std() / math.sqrt(N)
    assert abs(draws.mean() - d.mean()) < 5 * se
    assert draws.std() == pytest.approx(reference.std(), rel=0.02)
    # The sample median sits on the distribution's median (within 2 % of the spread).
    assert np.quantile(draws, 0.5) == pytest.approx(d.quantile(0.5), abs=0.02 *
                                                    reference.std())


def test_sample_shapes():
    d = dist(dist="gamma", mean=2, cv=0.5)
    assert d.sample(np.random.default_rng(0), (3, 4)).shape == (3, 4)
    assert dist(dist="constant", value=1).sample(np.random.default_rng(0), (2, 2)).shape == (2, 2)


def test_hand_computed_quantiles():
    # Uniform(2, 6): 2 + 0.9 x 4 = 5.6.
    assert dist(dist="uniform", low=2, high=6).quantile(0.9) == pytest.approx(5.6)
    # Triangular(0, 0, 1): F(x) = 1 - (1 - x)^2 -> x_p = 1 - sqrt(1 - p); p = 0.75 -> 0.5.
    assert dist(dist="triangular", low=0, mode=0, high=1).quantile(0.75) == pytest.approx(0.5)
    # Triangular(0, 1, 2) is symmetric: median 1; F(x) = x^2 / 2 below 1 -> x_0.125 = 0.5.
    tri = dist(dist="triangular", low=0, mode=1, high=2)
    assert tri.quantile(0.5) == pytest.approx(1.0)
    assert tri.quantile(0.125) == pytest.approx(0.5)
    # Degenerate triangle low = high: a constant.
    assert dist(dist="triangular", low=3, mode=3, high=3).quantile(0.9) == 3.0
    # Exponential(mean 2): -2 ln(1 - 0.5) = 2 ln 2.
    assert dist(dist="exponential", mean=2).quantile(0.5) == pytest.approx(2 * math.log(2))
    # Lognormal(mean m, cv): median = exp(mu) = m / sqrt(1 + cv^2); m = 10, cv = 0.75
    # -> 10 / 1.25 = 8.
    assert dist(dist="lognormal", mean=10, cv=0.75).quantile(0.5) == pytest.approx(8.0)
    # Gamma(mean 3, cv 1) is exponential(3): median 3 ln 2.
    assert dist(dist="gamma", mean=3, cv=1).quantile(0.5) == pytest.approx(3 * math.log(2))
    # Poisson(0): always 0. Poisson(1): P(0) = e^-1 = 0.368, P(<=1) = 0.736 ->
    # quantile(0.3) = 0, quantile(0.5) = 1, quantile(0.8) = 2.
    assert dist(dist="poisson", mean=0).quantile(0.99) == 0.0
    pois = dist(dist="poisson", mean=1)
    assert [pois.quantile(p) for p in (0.3, 0.5, 0.8)] == [0.0, 1.0, 2.0]
    # Empirical [30, 20, 40, 25] equally likely: sorted 20 25 30 40, cumulative
    # .25 .5 .75 1 -> the smallest value whose cumulative reaches p.
    emp = dist(dist="empirical", values=[30, 20, 40, 25])
    assert [emp.quantile(p) for p in (0.1, 0.25, 0.26, 0.5, 0.75, 0.76, 1.0)] == \
        [20, 20, 25, 25, 30, 40, 40]
    assert emp.mean() == pytest.approx(28.75)
    # Weighted [5, 1, 3] with 1, 6, 3: P = .1, .6, .3; mean .5 + .6 + .9 = 2.0.
    weighted = dist(dist="empirical", values=[5, 1, 3], weights=[1, 6, 3])
    assert weighted.mean() == pytest.approx(2.0)
    assert [weighted.quantile(p) for p in (0.6, 0.61, 0.9, 0.95)] == [1, 3, 3, 5]


def test_mean_cv_parameterisations_give_the_stated_mean_and_cv():
    for name in ("lognormal", "gamma"):
        d = dist(dist=name, mean=12, cv=0.4)
        draws = d.sample(np.random.default_rng(7), N)
        assert draws.mean() == pytest.approx(12, rel=0.01)
        assert draws.std() / draws.mean() == pytest.approx(0.4, rel=0.02)


def test_empirical_samples_follow_the_weights():
    d = dist(dist="empirical", values=[5, 1, 3], weights=[1, 6, 3])
    draws = d.sample(np.random.default_rng(11), N)
    share = {v: float((draws == v).mean()) for v in (1.0, 3.0, 5.0)}
    assert share == pytest.approx({1.0: 0.6, 3.0: 0.3, 5.0: 0.1}, abs=0.005)


def test_poisson_samples_are_whole_numbers():
    draws = dist(dist="poisson", mean=2.5).sample(np.random.default_rng(3), 1000)
    assert (draws == np.round(draws)).all()


@pytest.mark.parametrize("spec", [
    {"dist": "constant", "value": -1},
    {"dist": "uniform", "low": 5, "high": 4},
    {"dist": "uniform", "low": -1, "high": 4},
    {"dist": "triangular", "low": 1, "mode": 0.5, "high": 2},
    {"dist": "lognormal", "mean": 0, "cv": 0.2},
    {"dist": "gamma", "mean": 3, "cv": 0},
    {"dist": "exponential", "mean": -2},
    {"dist": "poisson", "mean": -0.1},
    {"dist": "empirical", "values": []},
    {"dist": "empirical", "values": [1, 2], "weights": [1]},
    {"dist": "empirical", "values": [1, 2], "weights": [0, 0]},
    {"dist": "empirical", "values": [-1, 2]},
    {"dist": "normal", "mean": 1},
    {"dist": "uniform", "low": 1, "high": 2, "mode": 1.5},
])
def test_parameters_that_could_draw_negative_or_are_malformed_are_rejected(spec):
    with pytest.raises(ValidationError):
        dist(**spec)
