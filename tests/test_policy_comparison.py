"""The policy comparison: heuristics built from any scenario, run on common random numbers."""

from __future__ import annotations

import pandas as pd
from conftest import ROOT, load

from experiments.engine.backends import open_backend
from experiments.engine.models import ScenarioModel
from experiments.studies.policy_comparison import (
    KPIS,
    express_overrides,
    run,
    surface_overrides,
)


def test_surface_heuristic_moves_every_air_rule_to_the_slowest_mode():
    baseline = load("baseline")
    assert any(rule.mode == "air" for rule in baseline.policies.replenishment)
    surface = ScenarioModel.from_file(ROOT / "scenarios" / "baseline.yaml",
                                      surface_overrides(baseline)).scenario()
    modes = {rule.warehouse: rule.mode for rule in surface.policies.replenishment if rule.mode}
    assert modes == {"US_WH": "sea_fcl", "EU_WH": "rail"}


def test_express_heuristic_serves_every_market_direct_with_no_overseas_stock():
    baseline = load("baseline")
    express = ScenarioModel.from_file(ROOT / "scenarios" / "baseline.yaml",
                                      express_overrides(baseline)).scenario()
    for market, route in express.policies.fulfilment.items():
        assert (route.route, route.warehouse, route.mode) == ("direct", "SZ", "express")
        assert route.promise_days == baseline.policies.fulfilment[market].promise_days
    assert [r.warehouse for r in express.policies.replenishment] == ["SZ"]
    assert all(spec.initial_stock_days == 0 for spec in express.warehouses.values()
               if spec.kind == "overseas")


def test_policies_are_compared_on_the_same_seeds_and_written_for_the_docs(tmp_path):
    with open_backend("serial", None, None) as backend:
        table = run(ROOT / "tests" / "data" / "tiny.yaml", tmp_path, 2, 0, backend)
    samples = pd.read_parquet(tmp_path / "comparison" / "samples.parquet")
    seeds = samples.groupby("scenario")["seed"].apply(tuple)
    assert set(seeds.index) == {"rules", "static_plan", "rolling", "sS_surface",
                                "express_direct"}
    assert seeds.nunique() == 1  # common random numbers
    assert set(KPIS) <= set(samples.columns)
    assert table.count("\n| ") == 6 and (tmp_path / "policies.png").stat().st_size > 10_000
    assert (tmp_path / "static_plan.yaml").exists()
