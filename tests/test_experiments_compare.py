"""Common random numbers on the real model: two close variants of the tiny scenario differ
far less noisily when compared on the same seeds than on independent ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import api
from experiments.engine.models import ScenarioModel

TINY = Path(__file__).resolve().parent / "data" / "tiny.yaml"
KPIS = ["contribution_margin_cny", "fill_rate", "on_time_rate"]


@pytest.fixture(scope="module")
def comparisons():
    """Reorder point of the origin warehouse 25 vs 28 days of cover, 10 replications each."""
    base = ScenarioModel.from_file(TINY, days=60)
    variant = ScenarioModel.from_file(TINY, ["policies.replenishment.0.policy.reorder_point=28"],
                                      days=60)
    variant = ScenarioModel(variant.document, "reorder28.yaml", variant.overrides, 60)
    runs = {}
    for crn in (True, False):
        runs[crn] = api.compare(base, variant, replications=10, seed=3, crn=crn, kpis=KPIS,
                                backend="local", workers=2)
    return runs


def test_common_random_numbers_give_lower_variance_differences(comparisons):
    crn = comparisons[True].differences.set_index("kpi")
    independent = comparisons[False].differences.set_index("kpi")
    for kpi in KPIS:
        assert crn.at[kpi, "std"] ** 2 < 0.2 * independent.at[kpi, "std"] ** 2, kpi
        assert crn.at[kpi, "variance_reduction"] > 0.8, kpi
        assert crn.at[kpi, "half_width"] < independent.at[kpi, "half_width"], kpi


def test_crn_pairs_share_seeds_and_independent_runs_do_not(comparisons):
    crn, independent = comparisons[True].samples, comparisons[False].samples
    assert crn.groupby("replication")["seed"].nunique().eq(1).all()
    assert independent.groupby("replication")["seed"].nunique().eq(2).all()
    # Scenario 'tiny' under CRN runs the replicate() seeds, so results line up with it too.
    reps = api.replicate(TINY, replications=3, seed=3, days=60, backend="serial").samples
    tiny = crn[crn["scenario"] == "tiny"].head(3).reset_index(drop=True)
    assert tiny["seed"].tolist() == reps["seed"].tolist()
    assert tiny["contribution_margin_cny"].tolist() == reps["contribution_margin_cny"].tolist()


def test_labels_fall_back_to_file_names_when_names_clash(comparisons):
    assert comparisons[True].labels == ["tiny", "reorder28"]
