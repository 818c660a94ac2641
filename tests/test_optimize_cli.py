"""``xbsim optimize``: each model writes its plan, tables and figures from one command."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli.main import main
from sim.plan import load_plan

TINY = Path(__file__).parent / "data" / "tiny.yaml"


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("model, tables", [
    ("channels", ["flows", "costs", "mix"]),
    ("ads", ["allocation", "channels", "curves"]),
    ("peak", ["commitments", "value"]),
])
def test_optimize_writes_plan_and_tables(tmp_path, model, tables):
    code, stdout, stderr = run("optimize", model, TINY, "--out", tmp_path)
    assert code == 0, stderr
    plan = load_plan(tmp_path / "plan.yaml")
    assert plan.kind == model and plan.scenario == "tiny"
    for name in tables:
        csv = pd.read_csv(tmp_path / f"{name}.csv")
        parquet = pd.read_parquet(tmp_path / f"{name}.parquet")
        assert list(csv.columns) == list(parquet.columns) and len(csv) == len(parquet)
    assert "solver status" in stdout


def test_optimize_frontier_draws_the_pareto_curve(tmp_path):
    code, _, stderr = run("optimize", "frontier", TINY, "--points", 5, "--out", tmp_path)
    assert code == 0, stderr
    png = (tmp_path / "frontier.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    front = pd.read_csv(tmp_path / "frontier.csv")
    assert len(list((tmp_path / "plans").glob("point_*.yaml"))) == len(front)


def test_infeasible_plan_is_one_line_in_business_words(tmp_path):
    code, _, stderr = run("optimize", "channels", TINY, "--out", tmp_path,
                          "--set", "planning.channels.allow_lost_sales=false",
                          "--set", "modes.postal.capacity_units_per_day=5",
                          "--set", "modes.express.capacity_units_per_day=5")
    assert code == 2
    assert stderr.startswith("error: no feasible plan: ") and "capacity short by" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
