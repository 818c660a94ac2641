"""The notebook API: every function returns its tables as frames and a repr of a few lines;
``with_overrides`` validates as the loader does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments import api
from experiments.data.history import write_history
from experiments.data.tables import write_table
from sim.loader import ScenarioError, load_scenario
from sim.model import simulate
from sim.plan import save_plan

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SERIAL = {"backend": "serial"}
MOST_LINES = 6


def short(result: object, frames: list[str]) -> str:
    """The repr, checked to be a few lines naming each frame with its shape."""
    text = repr(result)
    lines = text.splitlines()
    assert 2 <= len(lines) <= MOST_LINES, text
    assert all(len(line) < 300 for line in lines), text
    for name in frames:
        assert f" {name} " in lines[-1], text
    return text


def frames(result: object, names: list[str]) -> None:
    for name in names:
        assert isinstance(getattr(result, name), pd.DataFrame), name


def cheap(params, seed):
    return {"y": params["x"] + seed % 3}


def bowl(params, seed):
    return {"score": -(params["x"] - 3.0) ** 2 + (seed % 5) * 0.01}


def test_run_gives_its_kpis_as_a_frame():
    run = api.run(TINY, days=10)
    frames(run, ["kpis", "orders", "daily"])
    assert run.kpis.at["orders", "value"] == run.summary["orders"]
    assert "Run of tiny: 10 days, seed 0" in short(run, ["kpis", "orders"])


def test_replicate_and_compare():
    reps = api.replicate(TINY, replications=2, days=5, **SERIAL)
    frames(reps, ["samples", "summary"])
    assert short(reps, ["samples", "summary"]).startswith("Replications: 2 from root seed 0")
    cmp = api.compare(TINY, variants={"duty": ["markets.US.duty_rate=0.3"]}, replications=2,
                      days=5, **SERIAL)
    frames(cmp, ["samples", "summary", "differences", "ranking"])
    assert short(cmp, ["differences", "ranking"]).startswith("Comparison of tiny, duty: 2 ")


def test_sweep_and_tune_on_model_functions():
    sw = api.sweep({"name": "cheap", "seed": 1, "replications": 2, "design": {"kind": "grid"},
                    "parameters": {"x": [0.0, 1.0, 2.0]}, "kpis": ["y"]}, model=cheap, **SERIAL)
    frames(sw, ["results", "points"])
    assert short(sw, ["results", "points"]).startswith("Sweep cheap: grid design, 3 points")
    tuned = api.tune(bowl, {"x": (0.0, 6.0)}, "score", budget=4, replications=2,
                     start={"x": 0.0}, maximize=True, **SERIAL)
    frames(tuned, ["trials", "validation", "samples"])
    assert "best trial" in short(tuned, ["trials", "validation"])


def test_optimise_evaluate_and_report(tmp_path):
    plan = api.optimise(TINY, "channels")
    assert isinstance(plan.summary, pd.DataFrame) and "total_cost_cny" in plan.summary.index
    assert all(isinstance(t, pd.DataFrame) for t in plan.tables.values())
    assert short(plan, ["summary", "flows"]).startswith("Optimisation channels of tiny: ")
    plan_file = save_plan(plan.plan, tmp_path / "plan.yaml")
    evaluation = api.evaluate(TINY, plan_file, replications=2, days=14, out=tmp_path / "ev",
                              **SERIAL)
    frames(evaluation, ["differences", "table", "samples"])
    assert short(evaluation, ["differences", "table"]).startswith("Evaluation: the plan ")
    page = api.report(tmp_path / "ev")
    assert page == tmp_path / "ev" / "report.html" and page.is_file()


def test_calibrate_returns_a_summary_frame(tmp_path):
    run = simulate(load_scenario(TINY), seed=3)
    data = tmp_path / "data"
    write_history(run, data)
    write_table(data, "skus", pd.DataFrame([
        {"sku": name, "category": s.category, "supplier": s.supplier,
         "unit_cost_cny": s.unit_cost_cny, "weight_kg": s.weight_kg, "volume_m3": s.volume_m3,
         "price_US": s.price["US"]} for name, s in run.scenario.skus.items()]))
    result = api.calibrate(data, tmp_path / "mine.yaml", extends=TINY)
    assert isinstance(result.summary, pd.DataFrame) and "demand" in result.summary.index
    assert all(isinstance(t, pd.DataFrame) for t in result.tables.values())
    assert short(result, ["summary"]).startswith(f"Calibration: {tmp_path / 'mine.yaml'}")
    assert load_scenario(result.scenario_file).name == "mine"


def test_with_overrides_validates_as_the_loader_does():
    base = load_scenario(TINY)
    changed = api.with_overrides(base, ["markets.US.duty_rate=0.25"])
    assert changed.markets["US"].duty_rate == 0.25 and base.markets["US"].duty_rate != 0.25
    assert changed == load_scenario(TINY, ["markets.US.duty_rate=0.25"])
    with pytest.raises(ScenarioError) as from_loader:
        load_scenario(TINY, ["markets.US.duty_rate=3"])
    with pytest.raises(ScenarioError) as from_api:
        api.with_overrides(base, ["markets.US.duty_rate=3"])
    reason = str(from_loader.value).split(": ", 1)[1]
    assert str(from_api.value) == f"tiny: {reason}"
    assert "\n" not in str(from_api.value)
