"""Re-planning on a rolling horizon against a static plan, and both from the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from conftest import load
from scipy import stats
from test_cli import run_cli

from experiments.studies.levers import without
from optimize.channels import optimize_channels
from optimize.rolling import RollingPlanner
from sim.loader import validate
from sim.model import simulate
from sim.plan import Plan, ShipmentLine, save_plan

SHOCK_DAYS = 120
SEEDS = range(4)


def with_demand_shock(scenario, start: str, multiplier: float):
    """The scenario with a lasting demand surge its planners were not told about."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["calendar"]["peak_events"].append(
        {"name": "unforeseen_surge", "start": start, "days": 365,
         "demand_multiplier": multiplier})
    return validate(data)


def test_rolling_re_plan_beats_the_static_plan_under_an_unforeseen_demand_shock():
    # Ranking neutral: a stock-out's lost ranking would hide part of the shortfall that the
    # fill rate measures (demand adapts to the stock), which is not what this test is about.
    planned = without(load("baseline"), ["ranking"])
    world = with_demand_shock(planned, "2026-02-15", 1.6)
    static = optimize_channels(planned).plan
    fill_static, fill_rolling = [], []
    for seed in SEEDS:  # common random numbers: the same seed for both policies
        fill_static.append(simulate(world, seed, SHOCK_DAYS, plan=static).summary["fill_rate"])
        rolling = simulate(world, seed, SHOCK_DAYS, policy=RollingPlanner(planned))
        fill_rolling.append(rolling.summary["fill_rate"])
    gain = np.array(fill_rolling) - np.array(fill_static)
    assert stats.ttest_rel(fill_rolling, fill_static, alternative="greater").pvalue < 0.05
    assert gain.mean() > 0.03


def test_a_scenario_that_re_plans_runs_from_the_command_line(tmp_path):
    out = tmp_path / "rolling"
    code, stdout, stderr = run_cli(["run", "tests/data/tiny.yaml", "--days", "28",
                                    "--set", "policies.replan={window_weeks: 6}",
                                    "--out", out, "--no-report"])
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["orders"] > 0
    # Re-planning replaced the overseas rules: goods leave for overseas on review days only.
    daily = pd.read_parquet(out / "daily.parquet").set_index("day")
    departures = daily.index[daily["in_transit_units"].diff().fillna(
        daily["in_transit_units"]) > 0]
    assert len(departures) and (departures % 7 == 0).all()


def test_evaluate_puts_the_plan_beside_its_prediction(tmp_path):
    scenario = load("tiny")
    plan_file = save_plan(optimize_channels(scenario).plan, tmp_path / "plan.yaml")
    out = tmp_path / "evaluation"
    code, stdout, stderr = run_cli(["evaluate", "tests/data/tiny.yaml", "--plan", plan_file,
                                    "--replications", 3, "--backend", "serial",
                                    "--out", out, "--no-report"])
    assert code == 0, stderr
    table = pd.read_parquet(out / "evaluation.parquet").set_index("kpi")
    for kpi in ("fill_rate", "on_time_rate", "logistics_cost_per_unit_cny",
                "mean_delivery_days"):
        assert np.isfinite(table.at[kpi, "predicted"]) and table.at[kpi, "mean"] > 0
    assert "plan predicted" in stdout and "Fill rate" in stdout


def test_evaluate_with_a_broken_plan_is_one_line(tmp_path):
    bad = tmp_path / "plan.yaml"
    bad.write_text("kind: channels\nweeks: [1\n")
    code, _, stderr = run_cli(["evaluate", "tests/data/tiny.yaml", "--plan", bad])
    assert code == 2 and stderr.startswith(f"error: {bad}: not a plan")
    assert len(stderr.strip().splitlines()) == 1


def test_evaluate_refuses_a_plan_made_for_another_network(tmp_path):
    plan = Plan(kind="channels", scenario="elsewhere", scenario_hash="-", weeks=1,
                objective_cny=0.0,
                shipments=[ShipmentLine(week=1, sku="TEE", origin="SZ", destination="EU_WH",
                                        mode="rail", units=10)])
    odd = tmp_path / "odd: name"  # a path YAML would misread unless quoted
    plan_file = save_plan(plan, odd / "plan.yaml")
    code, _, stderr = run_cli(["evaluate", "tests/data/tiny.yaml", "--plan", plan_file])
    assert code == 2
    assert stderr == (f"error: {plan_file}: shipments.0: unknown warehouse 'EU_WH' in "
                      "scenario 'tiny'\n")


def test_a_window_shorter_than_the_review_period_is_one_line():
    code, _, stderr = run_cli(["run", "tests/data/tiny.yaml", "--set",
                               "policies.replan={review_days: 30, window_weeks: 2}"])
    assert code == 2 and stderr == (
        "error: tests/data/tiny.yaml: policies.replan: window_weeks must cover the 6 weeks "
        "executed between reviews 30 days apart\n")
