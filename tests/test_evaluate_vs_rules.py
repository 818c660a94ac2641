"""Every plan is judged against the rules: the plan and the scenario without it, on the same
replication seeds, with the verdict in words and the predictions that missed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from test_cli import run_cli

from experiments import api
from experiments.storage.manifest import EvaluationManifest, read_manifest
from experiments.studies.evaluate import JUDGED, headline_text, judge, missed
from sim.plan import Plan, ShipmentLine, save_plan

TINY = Path(__file__).resolve().parent / "data" / "tiny.yaml"
# US sales pay once the last mile and the pick-and-pack fee are cheap, so stock in the US
# warehouse is worth shipping.
PROFITABLE = ["modes.us_last_mile.cost_per_unit=0.5",
              "warehouses.US_WH.pick_pack_fee_per_order=0.5"]
# Rules that starve the US warehouse: five days of opening stock and no replenishment rule.
STARVED = ["warehouses.US_WH.initial_stock_days=5",
           "policies.replenishment=[{warehouse: SZ, policy: {type: sS, unit: days, "
           "reorder_point: 25, order_up_to: 60}, review_days: 7}]"]
WEEKLY_US_UNITS = {"TEE": 450, "LAMP": 150, "CABLE": 300}  # ~1.5x a week's US demand


def plan(tmp_path: Path, name: str, **fields) -> Path:
    base = {"kind": "peak", "takes_over": [], "scenario": "tiny", "scenario_hash": "-",
            "weeks": 9, "objective_cny": 0.0}
    return save_plan(Plan(**(base | fields)), tmp_path / f"{name}.yaml")


def air_plan(tmp_path: Path) -> Path:
    """Air shipments to the US warehouse every week, on top of the (starving) rules."""
    lines = [ShipmentLine(week=w, sku=sku, origin="SZ", destination="US_WH", mode="air",
                          units=units)
             for w in range(1, 7) for sku, units in WEEKLY_US_UNITS.items()]
    return plan(tmp_path, "air", shipments=lines, weeks=6,
                metrics={"fill_rate": 0.95, "contribution_margin_cny": 50_000.0})


def test_a_plan_that_ships_beats_rules_that_starve_the_warehouse(tmp_path):
    result = api.evaluate(TINY, air_plan(tmp_path), replications=4, days=42,
                          overrides=[*PROFITABLE, *STARVED], backend="serial",
                          out=tmp_path / "won")
    d = result.differences.set_index("kpi")
    assert list(d.index) == list(JUDGED)
    assert d.at["contribution_margin_cny", "ci_low"] > 0
    assert d.at["fill_rate", "ci_low"] > 10  # points
    assert d.at["lost_sales_units", "ci_high"] < 0
    assert d.loc["fill_rate", ["better", "unit"]].tolist() == ["plan", "points"]
    assert result.outcome == "wins"
    assert result.verdict.startswith("This plan earns ")
    assert " CNY more than the rules [" in result.verdict and " points more [" in result.verdict
    assert "(4 replications, common random numbers). It beats the rules." in result.verdict
    # Both arms ran on the same seeds; the plan's arm is what evaluate reported alone.
    samples = result.samples
    assert set(samples["scenario"]) == {"plan", "rules"}
    seeds = samples.pivot(index="replication", columns="scenario", values="seed")
    assert (seeds["plan"] == seeds["rules"]).all()
    assert result.replications.samples["seed"].tolist() == seeds["plan"].tolist()
    manifest = read_manifest(tmp_path / "won")
    assert isinstance(manifest, EvaluationManifest) and manifest.against_rules
    assert manifest.outcome == "wins" and manifest.verdict == result.verdict
    assert manifest.rules_overrides == ["plan=null"] and manifest.replications == 4
    for name in ("differences", "evaluation", "samples", "replications", "summary"):
        assert (tmp_path / "won" / f"{name}.parquet").is_file()
        assert (tmp_path / "won" / f"{name}.csv").is_file()
    stored = pd.read_csv(tmp_path / "won" / "differences.csv").set_index("kpi")
    assert stored.at["fill_rate", "difference"] == pytest.approx(d.at["fill_rate",
                                                                      "difference"])


def test_a_plan_that_ships_nothing_loses_to_good_rules_and_says_why(tmp_path):
    nothing = plan(tmp_path, "nothing", kind="channels", takes_over=["overseas_replenishment"],
                   metrics={"fill_rate": 1.0, "on_time_rate": 0.0})
    out = tmp_path / "lost"
    code, stdout, stderr = run_cli(["evaluate", TINY, "--plan", nothing, "--days", 60,
                                    "--replications", 3, "--backend", "serial",
                                    *[a for o in PROFITABLE for a in ("--set", o)],
                                    "--out", out])
    assert code == 0, stderr  # a losing plan is a finding, not an error
    manifest = read_manifest(out)
    assert isinstance(manifest, EvaluationManifest) and manifest.outcome == "loses"
    differences = pd.read_parquet(out / "differences.parquet").set_index("kpi")
    assert differences.at["contribution_margin_cny", "ci_high"] < 0
    assert differences.at["fill_rate", "difference"] < -0.5
    verdict = manifest.verdict or ""
    assert " CNY less than the rules [" in verdict and " points less [" in verdict
    assert ("It does not beat the rules: its contribution margin is significantly lower "
            "and it fills more than 0.5 points less.") in verdict
    # Why: the plan's own predictions that the simulation did not bear out.
    assert any(line.startswith("the plan predicted fill 100.0 %, the simulation gave ")
               for line in manifest.why)
    assert any(line.startswith("the plan predicted on-time 0.0 %") for line in manifest.why)
    lines = stdout.splitlines()
    assert lines[1].startswith("This plan earns ") and "CNY less than the rules" in lines[1]
    assert lines[2].startswith("It does not beat the rules")
    assert lines[3] == "Where the plan's own prediction missed:"
    assert lines[4].startswith("  - the plan predicted fill 100.0 %, the simulation gave ")
    assert "Paired differences, plan - rules" in stdout
    assert "The plan's predictions against the simulated plan" in stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    sections = [s.split('"')[0] for s in page.split('<section id="')[1:]]
    assert sections[:3] == ["verdict", "prediction", "differences"]
    first = page.split('<section id="verdict">')[1].split("<p>")[1]
    assert first.startswith("This plan earns ") and "CNY less than the rules" in first
    assert "the plan predicted fill 100.0 %" in page


def test_a_plan_that_takes_over_nothing_differs_from_the_rules_by_exactly_zero(tmp_path):
    empty = plan(tmp_path, "empty")
    result = api.evaluate(TINY, empty, replications=3, days=14, backend="serial")
    d = result.differences
    assert len(d) == len(JUDGED)
    assert (d["difference"] == 0).all() and (d["ci_low"] == 0).all()
    assert (d["ci_high"] == 0).all() and not d["significant"].any()
    assert result.outcome == "no difference"
    assert result.verdict.startswith("This plan earns the same as the rules [0, 0] and fills "
                                     "the same [0.0, 0.0] (3 replications")


def test_the_verdict_and_the_why_read_as_the_numbers_say():
    differences = pd.DataFrame([
        {"kpi": "contribution_margin_cny", "difference": -74_945.2, "half_width": 42_637.0,
         "ci_low": -117_582.2, "ci_high": -32_308.2, "significant": True},
        {"kpi": "fill_rate", "difference": -1.6, "half_width": 0.8, "ci_low": -2.4,
         "ci_high": -0.8, "significant": True}])
    assert headline_text(differences, 20) == (
        "This plan earns 74,945 CNY less than the rules [-117,582, -32,308] and fills 1.6 "
        "points less [-2.4, -0.8] (20 replications, common random numbers).")
    assert judge(differences) == ("loses", [
        "its contribution margin is significantly lower",
        "it fills more than 0.5 points less"])
    close = differences.assign(difference=[5_000.0, -0.2], ci_low=[-10_000.0, -0.5],
                               ci_high=[20_000.0, 0.1], significant=[False, False])
    assert headline_text(close, 10) == (
        "This plan earns 5,000 CNY more than the rules, not a significant difference "
        "[-10,000, 20,000] and fills 0.2 points less, not significant [-0.5, 0.1] "
        "(10 replications, common random numbers).")
    assert judge(close)[0] == "no difference"
    table = pd.DataFrame([
        {"kpi": "fill_rate", "predicted": 1.0, "mean": 0.954, "ci_low": 0.951,
         "ci_high": 0.957, "inside": False},
        {"kpi": "logistics_cost_per_unit_cny", "predicted": 41.95, "mean": 42.09,
         "ci_low": 41.56, "ci_high": 42.62, "inside": True},
        {"kpi": "contribution_margin_cny", "predicted": 3_500_000.0, "mean": 3_060_949.0,
         "ci_low": 2_951_377.0, "ci_high": 3_170_521.0, "inside": False},
        {"kpi": "on_time_rate", "predicted": math.nan, "mean": 0.97, "ci_low": 0.96,
         "ci_high": 0.98, "inside": False}])
    some = Plan(kind="channels", scenario="x", scenario_hash="-", weeks=1, objective_cny=0.0)
    assert missed(table, some) == [
        "the plan predicted fill 100.0 %, the simulation gave 95.4 % [95.1, 95.7]",
        "the plan predicted contribution 3,500,000 CNY, the simulation gave 3,060,949 CNY "
        "[2,951,377, 3,170,521]"]


def test_evaluate_without_anything_to_judge_reports_the_policies_alone(tmp_path):
    out = tmp_path / "alone"
    code, stdout, stderr = run_cli(["evaluate", TINY, "--days", 5, "--replications", 2,
                                    "--backend", "serial", "--out", out, "--no-report"])
    assert code == 0, stderr
    assert "Nothing to judge against the rules" in stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["against_rules"] is False and manifest["outcome"] == "no rules"
    assert not (out / "differences.parquet").exists()


def test_optimize_evaluate_judges_the_plan_it_wrote(tmp_path):
    out = tmp_path / "channels"
    code, stdout, stderr = run_cli(["optimize", "channels", TINY, "--out", out,
                                    "--evaluate", 2, "--no-report"])
    assert code == 0, stderr
    assert "tiny: channels plan" in stdout
    assert f"tiny: plan {out / 'plan.yaml'} against the rules" in stdout
    assert "This plan earns " in stdout and "Paired differences, plan - rules" in stdout
    manifest = read_manifest(out / "evaluation")
    assert isinstance(manifest, EvaluationManifest) and manifest.against_rules
    assert manifest.plan_file == str(out / "plan.yaml") and manifest.replications == 2
    assert (out / "evaluation" / "differences.csv").is_file()
