"""Replication statistics against what they promise: seeds that are stable and shared,
t-intervals that cover a known mean 95 % of the time, a precision rule that stops where it
should, and paired comparisons whose ranking survives multiple comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import api
from experiments.engine.backends import open_backend
from experiments.engine.seeds import replication_seed, replication_seeds
from experiments.errors import ExperimentError
from experiments.stats import paired_differences, rank, relative, summarize
from experiments.studies.comparison import compare
from experiments.studies.replications import replicate

MEAN, SD, RATE = 3.0, 2.0, 20.0


def noisy(params, seed):
    """A cheap model with known means: a normal, a Poisson count and a uniform."""
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(MEAN, SD), "count": float(rng.poisson(RATE)), "u": rng.uniform()}


class Shifted:
    """Scenario ``shift``: the same noise (common part from the seed) plus a fixed effect and
    a small scenario-specific noise. Picklable, so it also runs in worker processes."""

    def __init__(self, shift: float) -> None:
        self.shift = shift

    def __call__(self, params, seed):
        common = np.random.default_rng(seed).normal(0.0, 10.0)
        own = np.random.default_rng([seed, int(self.shift * 1000)]).normal(0.0, 1.0)
        return {"contribution_margin_cny": 100.0 + self.shift + common + own,
                "lost_sales_units": 50.0 - self.shift + common + own}


# ----------------------------------------------------------------------------- seeds
def test_replication_seeds_are_the_spawned_children_of_the_root():
    children = np.random.SeedSequence(42).spawn(5)
    expected = [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]
    assert replication_seeds(42, 5) == expected


def test_more_replications_keep_the_earlier_seeds():
    assert replication_seeds(7, 10)[:4] == replication_seeds(7, 4)
    assert replication_seeds(7, 3, start=4) == replication_seeds(7, 7)[4:]


def test_seeds_differ_between_roots_replications_and_streams():
    seeds = {replication_seed(root, r, stream) for root in range(5) for r in range(20)
             for stream in (None, 0, 1)}
    assert len(seeds) == 5 * 20 * 3
    assert all(0 <= s < 2 ** 63 for s in seeds)


def test_negative_seeds_are_refused():
    with pytest.raises(ExperimentError, match="seeds must be >= 0"):
        replication_seed(-1, 0)


# ----------------------------------------------------------------------------- intervals
def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    repetitions = 2000
    hits = {"x": 0, "count": 0, "u": 0}
    truth = {"x": MEAN, "count": RATE, "u": 0.5}
    for root in range(repetitions):
        summary = api.replicate(noisy, replications=10, seed=root, backend="serial").summary
        for kpi, value in truth.items():
            hits[kpi] += summary.at[kpi, "ci_low"] <= value <= summary.at[kpi, "ci_high"]
    for kpi, count in hits.items():
        assert abs(count / repetitions - 0.95) <= 0.03, (kpi, count / repetitions)


def test_summary_matches_a_hand_computation():
    samples = pd.DataFrame({"x": [1.0, 2.0, 3.0, 6.0]})
    row = summarize(samples, ["x"]).loc["x"]
    sd = np.std([1, 2, 3, 6], ddof=1)
    half = 3.182446305284263 * sd / 2.0  # t(0.975, 3) = 3.1824...
    assert row["n"] == 4 and row["mean"] == 3.0
    assert row["std"] == pytest.approx(sd)
    assert row["half_width"] == pytest.approx(half)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3.0 - half, 3.0 + half))
    assert row["rel_half_width"] == pytest.approx(half / 3.0)


def test_relative_half_width_of_constant_and_zero_mean_kpis():
    assert list(relative(np.array([0.0, 1.0, 1.0]), np.array([0.0, 0.0, -4.0]))) == \
        [0.0, np.inf, 0.25]


# ----------------------------------------------------------------------------- precision
def test_precision_target_adds_replications_until_it_is_met():
    reps = api.replicate(noisy, replications=5, precision=0.05, kpis=["count"],
                         backend="serial")
    n = len(reps.samples)
    assert reps.reached
    assert reps.summary.at["count", "rel_half_width"] <= 0.05
    # Var(Poisson 20) = 20: about (1.96 * sqrt(20) / (0.05 * 20))^2 = 77 replications needed.
    assert 40 <= n <= 100
    assert reps.samples["replication"].tolist() == list(range(n))
    assert reps.samples["seed"].tolist() == replication_seeds(0, n)


def test_precision_stops_at_the_cap_and_says_so():
    reps = api.replicate(noisy, replications=4, precision=0.001, kpis=["x"],
                         max_replications=9, backend="serial")
    assert len(reps.samples) == 9
    assert reps.reached is False
    assert reps.worst()[0] == "x"


def test_replications_do_not_depend_on_how_many_were_asked_for():
    five = api.replicate(noisy, replications=5, seed=3, backend="serial").samples
    eight = api.replicate(noisy, replications=8, seed=3, backend="serial").samples
    pd.testing.assert_frame_equal(five, eight.head(5))


@pytest.mark.parametrize("kwargs, message", [
    ({"replications": 0}, "--replications must be >= 1"),
    ({"precision": 1.5}, "relative half-width in"),
    ({"precision": 0.1, "replications": 1}, "at least 2 starting"),
    ({"precision": 0.1, "replications": 20, "max_replications": 10}, "--max-replications"),
    ({"kpis": ["nope"]}, "no KPI named nope"),
])
def test_bad_replication_requests_are_refused(kwargs, message):
    with pytest.raises(ExperimentError, match=message), open_backend("serial") as backend:
        replicate(noisy, backend, **kwargs)


# ----------------------------------------------------------------------------- comparisons
def test_bonferroni_ranking_finds_the_real_differences():
    models = {"low": Shifted(0.0), "mid": Shifted(2.0), "high": Shifted(20.0)}
    with open_backend("serial") as backend:
        cmp = compare(models, backend, replications=30, kpis=["contribution_margin_cny",
                                                              "lost_sales_units"])
    diffs = cmp.differences.set_index(["kpi", "a", "b"])
    margin = diffs.loc[("contribution_margin_cny", "low", "high")]
    assert margin["ci_low"] < 20.0 < margin["ci_high"]
    assert margin["better"] == "high"
    # The common noise (sd 10) cancels in the pairs; only the own noise (sd 1 each) remains.
    assert margin["variance_reduction"] > 0.9
    # Three pairs: the intervals are Bonferroni-wide, p-values Bonferroni-adjusted.
    assert margin["p_bonferroni"] == pytest.approx(min(1.0, 3 * margin["p_value"]))
    ranking = cmp.ranking.set_index(["kpi", "scenario"])
    assert ranking.loc[("contribution_margin_cny", "high"), "rank"] == 1
    assert ranking.loc[("contribution_margin_cny", "high"), "best"]
    assert not ranking.loc[("contribution_margin_cny", "low"), "best"]
    # Less lost sales is better: the same scenario wins, ranked the other way round.
    assert ranking.loc[("lost_sales_units", "high"), "rank"] == 1
    assert "low" in ranking.loc[("lost_sales_units", "high"), "better_than"]


def test_best_subset_keeps_scenarios_that_cannot_be_told_apart():
    rng = np.random.default_rng(1)
    samples = pd.DataFrame({"scenario": ["a"] * 5 + ["b"] * 5, "replication": list(range(5)) * 2,
                            "fill_rate": np.r_[rng.normal(0.9, 0.05, 5),
                                               rng.normal(0.9, 0.05, 5)]})
    diffs = paired_differences(samples, ["fill_rate"], ["a", "b"])
    means = samples.groupby("scenario")[["fill_rate"]].mean()
    ranking = rank(diffs, means, ["a", "b"])
    assert not diffs.loc[0, "significant"]
    assert ranking["best"].all()


def test_common_random_numbers_beat_independent_seeds_on_a_cheap_model():
    models = {"a": Shifted(0.0), "b": Shifted(1.0)}
    with open_backend("serial") as backend:
        crn = compare(models, backend, replications=20, crn=True)
        independent = compare(models, backend, replications=20, crn=False)
    assert crn.samples.groupby("replication")["seed"].nunique().eq(1).all()
    assert independent.samples.groupby("replication")["seed"].nunique().eq(2).all()
    d_crn = crn.differences.set_index("kpi").loc["contribution_margin_cny"]
    d_ind = independent.differences.set_index("kpi").loc["contribution_margin_cny"]
    assert d_crn["std"] ** 2 < 0.1 * d_ind["std"] ** 2
