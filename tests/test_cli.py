"""The ``xbsim`` command end to end: what a run writes, what validate and show print, and
that a failed write leaves earlier results readable."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli.main import main
from experiments.storage.runstore import atomic_write
from experiments.storage.stream import TableWriter
from sim.loader import load_scenario, scenario_hash, validate

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TABLES = ("orders", "daily", "shipments", "ledger", "tickets", "listings")
RESULT_FILES = [f"{t}.parquet" for t in TABLES] + ["summary.json", "manifest.json"]
ORDER_COLUMNS = ("order_day", "market", "sku", "units", "price", "route", "mode",
                 "promise_days", "delivery_day", "lost", "returned", "return_day", "revenue",
                 "landed_cost_cny")


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``xbsim argv`` in process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (the report's figures included) by relative path."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline") / "run"
    code, stdout, stderr = run_cli(["run", BASELINE, "--days", 30, "--out", out])
    return code, stdout, stderr, out


# ----------------------------------------------------------------------------- run
def test_run_writes_every_result_file(baseline_run):
    code, stdout, stderr, out = baseline_run
    assert code == 0, stderr
    # stderr holds at most the progress lines a slow stage prints to a log (wall-clock paced)
    assert all(": " in line and ("so far" in line or "took" in line)
               for line in stderr.splitlines()), stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*RESULT_FILES, "figures",
                                                            "report.html"])


def test_run_prints_the_kpi_table(baseline_run):
    _, stdout, _, out = baseline_run
    assert stdout.startswith("baseline: 30 days, seed 0, ")
    assert "Fill rate" in stdout
    assert "On-time delivery vs promise" in stdout
    assert str(out) in stdout


def test_manifest_records_how_the_run_was_made(baseline_run):
    _, _, _, out = baseline_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"scenario_hash", "seed", "code_version", "packages", "wall_seconds",
            "scenario"} <= set(manifest)
    assert manifest["seed"] == 0
    assert manifest["days"] == 30
    assert manifest["code_version"]
    assert {"python", "numpy", "pandas", "simpy", "pydantic"} <= set(manifest["packages"])
    assert manifest["wall_seconds"] >= 0
    # The recorded scenario is the one that ran (30-day horizon) and re-validates to its hash.
    resolved = validate(manifest["scenario"])
    assert resolved.horizon.days == 30
    assert scenario_hash(resolved) == manifest["scenario_hash"]
    baseline = load_scenario(BASELINE)
    assert resolved.skus == baseline.skus and resolved.markets == baseline.markets


def test_orders_table_has_the_documented_columns(baseline_run):
    _, _, _, out = baseline_run
    orders = pd.read_parquet(out / "orders.parquet")
    assert set(ORDER_COLUMNS) <= set(orders.columns)
    assert len(orders) > 0
    assert orders["order_day"].between(0, 29).all()
    assert set(orders["market"].astype(str)) == {"US", "DE", "UK"}
    assert set(orders["route"]) <= {"direct", "warehouse"}
    assert (orders["units"] >= 1).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["orders"] == len(orders)
    assert summary["units_sold"] == orders["units"].sum()


def test_daily_table_has_one_row_per_day(baseline_run):
    _, _, _, out = baseline_run
    daily = pd.read_parquet(out / "daily.parquet")
    assert len(daily) == 30
    assert daily["day"].tolist() == list(range(30))
    assert {"orders", "units_demanded", "units_filled", "cash_cny"} <= set(daily.columns)


def test_every_table_reads_back(baseline_run):
    _, _, _, out = baseline_run
    for table in TABLES:
        assert isinstance(pd.read_parquet(out / f"{table}.parquet"), pd.DataFrame)
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["fill_rate"] <= 1.0
    assert summary["conservation"]["units_residual"] == 0


@pytest.mark.parametrize("days", [0, 366])
def test_run_rejects_days_outside_the_horizon(tmp_path, days):
    code, stdout, stderr = run_cli(["run", BASELINE, "--days", days, "--out", tmp_path / "x"])
    assert code == 2
    assert stderr == "error: --days must be between 1 and 365\n"
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------- validate, show
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_validate_accepts_every_shipped_scenario(scenario):
    code, stdout, stderr = run_cli(["validate", scenario])
    assert code == 0, stderr
    assert stdout.startswith(f"{scenario}: ok (")
    assert stderr == ""


@pytest.mark.parametrize("scenario", [*SCENARIOS, TINY], ids=[*(p.name for p in SCENARIOS),
                                                              "tiny.yaml"])
def test_show_prints_yaml_that_reloads_to_the_same_scenario(tmp_path, scenario):
    code, stdout, stderr = run_cli(["show", scenario])
    assert code == 0, stderr
    assert isinstance(yaml.safe_load(stdout), dict)
    shown = tmp_path / "shown.yaml"
    shown.write_text(stdout, encoding="utf-8")
    assert scenario_hash(load_scenario(shown)) == scenario_hash(load_scenario(scenario))


def test_show_applies_overrides(tmp_path):
    code, stdout, _ = run_cli(["show", TINY, "--set", "markets.US.duty_rate=0.2"])
    assert code == 0
    assert yaml.safe_load(stdout)["markets"]["US"]["duty_rate"] == 0.2


# ----------------------------------------------------------------------------- crash safety
def _temporaries(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_crash_keeps_the_old_file(tmp_path):
    target = tmp_path / "orders.parquet"
    target.write_bytes(b"earlier results")

    def crash_half_way(tmp: Path) -> None:
        tmp.write_bytes(b"half of the new fi")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, crash_half_way)
    assert target.read_bytes() == b"earlier results"
    assert _temporaries(tmp_path) == []


def test_atomic_write_interrupt_keeps_the_old_file(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("{}")

    def interrupted(tmp: Path) -> None:
        tmp.write_text('{"orders": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert target.read_text() == "{}"
    assert _temporaries(tmp_path) == []


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "sub" / "daily.parquet"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert _temporaries(target.parent) == []


def _fail_on_third_table(monkeypatch) -> None:
    """Make the parquet writer write part of a file and then fail, on the 3rd table (every
    table of a 10-day tiny run is one chunk: orders, listings, then shipments)."""
    real = TableWriter.write
    calls = []

    def failing(self, chunk):
        calls.append(self.path)
        if len(calls) == 3:
            Path(self.path).write_bytes(b"PAR1 partial")
            raise OSError(28, "No space left on device")
        return real(self, chunk)

    monkeypatch.setattr(TableWriter, "write", failing)


def test_failed_run_reports_and_leaves_no_partial_files(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert run_cli(["run", TINY, "--days", 10, "--out", out])[0] == 0
    before = snapshot(out)

    _fail_on_third_table(monkeypatch)
    code, stdout, stderr = run_cli(["run", TINY, "--days", 10, "--seed", 1, "--out", out])

    assert code == 1
    assert stderr.splitlines() == [
        f"error: cannot write results to {out}: No space left on device"]
    assert _temporaries(out) == []
    after = snapshot(out)
    assert sorted(after) == sorted(before)
    # The table being written when the write failed is the earlier run's, whole.
    assert after["shipments.parquet"] == before["shipments.parquet"]
    assert after["manifest.json"] == before["manifest.json"]
    pd.read_parquet(out / "shipments.parquet")


def test_failed_run_leaves_earlier_results_intact(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert run_cli(["run", TINY, "--days", 10, "--out", out])[0] == 0
    before = snapshot(out)

    _fail_on_third_table(monkeypatch)
    assert run_cli(["run", TINY, "--days", 10, "--seed", 1, "--out", out])[0] == 1

    after = snapshot(out)
    assert sorted(after) == sorted(before)
    assert [name for name in before if after[name] != before[name]] == []


def test_run_refuses_to_replace_a_directory_that_is_not_a_run(tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("precious", encoding="utf-8")
    code, _, err = run_cli(["run", TINY, "--days", 5, "--out", out])
    assert code == 2
    assert (out / "thesis.tex").read_text(encoding="utf-8") == "precious"
    assert "not empty" in err and len(err.strip().splitlines()) == 1
