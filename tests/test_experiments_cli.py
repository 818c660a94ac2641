"""The experiment commands end to end: ``xbsim run --replications/--precision``, ``compare``
and ``sweep``, what they print and write, and one-line errors for bad input."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_cli import run_cli

from experiments.engine.models import ScenarioModel, flatten_summary
from experiments.engine.progress import BarProgress, LineProgress, Progress, for_stream
from experiments.engine.seeds import replication_seeds
from sim.model import simulate

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SERIAL = ["--backend", "serial"]


@pytest.fixture()
def variant(tmp_path) -> Path:
    path = tmp_path / "cheap_ads.yaml"
    path.write_text(f"extends: {TINY}\nname: cheap_ads\n"
                    "policies: {ad_spend: {ppc: {spend_per_day: 200}}}\n", encoding="utf-8")
    return path


def sweep_file(path: Path, **changes) -> Path:
    data = {"name": "cli_grid", "scenario": str(TINY), "days": 10, "seed": 1,
            "replications": 2, "design": {"kind": "grid"},
            "parameters": {"markets.US.duty_rate": [0.05, 0.25], "service.agents": [1, 3]},
            "kpis": ["contribution_margin_cny", "cs_mean_first_response_hours"]}
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def one_line_error(code: int, stderr: str) -> str:
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# ----------------------------------------------------------------------------- run
def test_run_with_replications_reports_intervals_and_writes_them(tmp_path):
    out = tmp_path / "reps"
    code, stdout, stderr = run_cli(["run", TINY, "--replications", 4, "--days", 15, "--seed", 7,
                                    "--out", out, *SERIAL])
    assert code == 0, stderr
    assert stdout.startswith("tiny: 4 replications of 15 days, root seed 7, ")
    assert "95% CI" in stdout and "Fill rate" in stdout and "±" in stdout
    samples = pd.read_parquet(out / "replications.parquet")
    assert samples["seed"].tolist() == replication_seeds(7, 4)
    direct = simulate(ScenarioModel.from_file(TINY).scenario(), seed=samples["seed"][2], days=15)
    assert samples["orders"][2] == flatten_summary(direct.summary)["orders"]
    summary = pd.read_parquet(out / "summary.parquet").set_index("kpi")
    assert summary.at["orders", "mean"] == pytest.approx(samples["orders"].mean())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 7 and manifest["replication_seeds"] == replication_seeds(7, 4)
    assert {"code_version", "packages", "scenario_hash"} <= set(manifest)
    assert "replications: 4/4 cells (100%)" in stderr  # plain progress lines off a terminal


def test_replications_are_identical_on_every_backend(tmp_path):
    tables = []
    for name, backend in (("serial", SERIAL), ("pool", ["--workers", 2, "--batch-seconds", 0.01])):
        out = tmp_path / name
        assert run_cli(["run", TINY, "--replications", 5, "--days", 10, "--out", out,
                        *backend])[0] == 0
        tables.append((out / "replications.parquet").read_bytes())
    assert tables[0] == tables[1]


def test_run_to_a_precision_target(tmp_path):
    code, stdout, stderr = run_cli(["run", TINY, "--precision", 0.02, "--replications", 4,
                                    "--kpi", "orders", "--days", 15, "--out", tmp_path / "p",
                                    *SERIAL])
    assert code == 0, stderr
    assert "precision ±2.0% reached with" in stdout
    summary = pd.read_parquet(tmp_path / "p" / "summary.parquet").set_index("kpi")
    assert summary.at["orders", "rel_half_width"] <= 0.02
    assert summary.at["orders", "n"] > 4


def test_run_precision_cap_is_reported(tmp_path):
    code, stdout, _ = run_cli(["run", TINY, "--precision", 0.0001, "--replications", 3,
                               "--max-replications", 5, "--days", 10,
                               "--out", tmp_path / "p", *SERIAL])
    assert code == 0
    assert "NOT reached (cap 5 replications)" in stdout


@pytest.mark.parametrize("argv, message", [
    (["--replications", 0], "--replications must be >= 1"),
    (["--replications", 3, "--days", 99], "--days must be between 1 and 60"),
    (["--precision", 2], "--precision must be >= 1e-06 and < 1"),
    (["--replications", 3, "--kpi", "fill_rat"], "unknown KPI 'fill_rat' (did you mean"),
    (["--replications", 3, "--workers", 0, "--backend", "local"],
     "--workers must be between 1 and 256"),
    (["--replications", 3, "--set", "markets.US.duty_rate=2"], "markets.US.duty_rate"),
])
def test_bad_replication_input_is_one_line(tmp_path, argv, message):
    code, _, stderr = run_cli(["run", TINY, *argv, "--out", tmp_path / "x"])
    assert message in one_line_error(code, stderr)
    assert not (tmp_path / "x").exists()


# ----------------------------------------------------------------------------- compare
def test_compare_prints_differences_ranking_and_crn_gain(tmp_path, variant):
    out = tmp_path / "cmp"
    code, stdout, stderr = run_cli(["compare", TINY, variant, "--replications", 5, "--days", 20,
                                    "--kpi", "orders", "--kpi", "ad_spend_cny", "--out", out,
                                    *SERIAL])
    assert code == 0, stderr
    assert stdout.startswith("compare tiny, cheap_ads: 5 replications each, common random "
                             "numbers (root seed 0)")
    assert "Paired differences" in stdout and "cheap_ads - tiny" in stdout
    assert "Ranking by mean" in stdout
    differences = pd.read_parquet(out / "differences.parquet").set_index("kpi")
    assert differences.at["orders", "better"] == "tiny"  # half the ads, fewer orders
    assert differences.at["orders", "variance_reduction"] > 0
    assert differences.at["ad_spend_cny", "better"] == ""  # spend is a decision, not ranked
    ranking = pd.read_parquet(out / "ranking.parquet")
    assert set(ranking["kpi"]) == {"orders", "ad_spend_cny"}
    assert set(pd.read_parquet(out / "samples.parquet")["scenario"]) == {"tiny", "cheap_ads"}


def test_compare_with_independent_seeds(variant):
    code, stdout, _ = run_cli(["compare", TINY, variant, "--replications", 3, "--days", 10,
                               "--independent", *SERIAL])
    assert code == 0
    assert "independent seeds" in stdout


def test_compare_a_scenario_with_variants_given_as_overrides(tmp_path):
    code, stdout, stderr = run_cli(["compare", TINY, "--variant", "no_ads",
                                    "policies.ad_spend.ppc.spend_per_day=0",
                                    "--variant", "duty_free", "markets.US.duty_rate=0",
                                    "markets.DE.duty_rate=0", "--replications", 3, "--days", 10,
                                    "--kpi", "ad_spend_cny", "--out", tmp_path / "v", *SERIAL])
    assert code == 0, stderr
    assert stdout.startswith("compare tiny, no_ads, duty_free: 3 replications each")
    summary = pd.read_parquet(tmp_path / "v" / "summary.parquet").set_index(["scenario", "kpi"])
    assert summary.at[("no_ads", "ad_spend_cny"), "mean"] == 0.0
    assert summary.at[("duty_free", "ad_spend_cny"), "mean"] > 0.0
    manifest = json.loads((tmp_path / "v" / "manifest.json").read_text())
    assert manifest["variants"]["duty_free"] == ["markets.US.duty_rate=0", "markets.DE.duty_rate=0"]


@pytest.mark.parametrize("variant, message", [
    (["markets.US.duty_rate=0.2"], "--variant needs a new name"),
    (["tiny", "markets.US.duty_rate=0.2"], "--variant needs a new name"),
    (["steep", "markets.US.duty_rate=3"], "markets.US.duty_rate: Input should be less than"),
])
def test_bad_variants_are_one_line(variant, message):
    code, _, stderr = run_cli(["compare", TINY, "--variant", *variant, *SERIAL])
    assert message in one_line_error(code, stderr)


def test_compare_needs_two_scenarios():
    code, _, stderr = run_cli(["compare", TINY, *SERIAL])
    assert "at least two scenarios" in one_line_error(code, stderr)


# ----------------------------------------------------------------------------- sweep
def test_sweep_runs_resumes_and_refuses_a_changed_file(tmp_path):
    file, out = sweep_file(tmp_path / "s.yaml"), tmp_path / "out"
    code, stdout, stderr = run_cli(["sweep", file, "--out", out, *SERIAL])
    assert code == 0, stderr
    assert stdout.startswith("sweep cli_grid: grid design, 4 points x 2 replications = 8 cells; "
                             "0 done earlier, 8 run now")
    assert "cli_grid: 8/8 cells (100%)" in stderr
    assert {"results.parquet", "points.parquet", "manifest.json"} <= {p.name for p in
                                                                       out.iterdir()}
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 4 and (points["n"] == 2).all()
    # more agents answer faster
    fast = points[points["service.agents"] == 3]["cs_mean_first_response_hours_mean"]
    slow = points[points["service.agents"] == 1]["cs_mean_first_response_hours_mean"]
    assert fast.max() < slow.min()

    code, stdout, _ = run_cli(["sweep", file, "--out", out, *SERIAL])
    assert code == 0 and "8 done earlier, 0 run now" in stdout

    sweep_file(file, replications=3)
    line = one_line_error(*run_cli(["sweep", file, "--out", out, *SERIAL])[::2])
    assert "different sweep file" in line and "--force" in line
    code, stdout, _ = run_cli(["sweep", file, "--out", out, "--force", *SERIAL])
    assert code == 0 and "12 cells; 0 done earlier, 12 run now" in stdout


def test_sweep_on_a_dask_local_cluster(tmp_path):
    file = sweep_file(tmp_path / "s.yaml", replications=1)
    code, stdout, stderr = run_cli(["sweep", file, "--out", tmp_path / "d", "--backend", "dask",
                                    "--workers", 2])
    assert code == 0, stderr
    assert "on Dask LocalCluster, 2 worker threads" in stdout
    assert len(pd.read_parquet(tmp_path / "d" / "results.parquet")) == 4


@pytest.mark.parametrize("changes, message", [
    ({"designn": {}}, "s.yaml: designn: unknown key"),
    ({"parameters": {"markets.US.duty_rate": [0.1, -1]}},
     "parameters.markets.US.duty_rate: value -1 is refused by the scenario"),
    ({"parameters": {"policies.replenishment.0.policy.reorder_point": [25, 50],
                     "policies.replenishment.0.policy.order_up_to": [30, 60]}},
     "point 2 (policies.replenishment.0.policy.reorder_point=50, "
     "policies.replenishment.0.policy.order_up_to=30), replication 0"),
])
def test_bad_sweeps_are_one_line(tmp_path, changes, message):
    file = sweep_file(tmp_path / "s.yaml", **changes)
    code, _, stderr = run_cli(["sweep", file, "--out", tmp_path / "o", *SERIAL])
    assert message in one_line_error(code, stderr)


def test_missing_sweep_file_is_one_line(tmp_path):
    code, _, stderr = run_cli(["sweep", tmp_path / "nope.yaml"])
    assert "nope.yaml: (top level): no such file" in one_line_error(code, stderr)


# ----------------------------------------------------------------------------- progress
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    assert isinstance(for_stream(io.StringIO()), LineProgress)
    terminal = Terminal()
    bar = for_stream(terminal)
    assert isinstance(bar, BarProgress)
    bar.start("sweep x", 10)
    bar.update(4, note="point means ±3.0% median")
    bar.update(10, total=10)
    bar.close()
    assert "10/10" in terminal.getvalue() and "ETA" in terminal.getvalue()


def test_plain_progress_lines_carry_rate_eta_and_note():
    stream = io.StringIO()
    progress = LineProgress(stream, interval=0.0)
    progress.start("sweep x", 100, done=20)
    progress.update(60, note="worst fill_rate ±2.0%")
    line = stream.getvalue().splitlines()[0]
    assert line.startswith("sweep x: 60/100 cells (60%), ")
    assert "cells/s" in line and "ETA" in line and line.endswith("worst fill_rate ±2.0%")


def test_a_silent_reporter_still_keeps_the_phase_state():
    progress = Progress()
    progress.start("replications", 10, done=2)
    progress.update(7, total=12, note="±3%")
    assert (progress.label, progress.done, progress.total, progress.note) == (
        "replications", 7, 12, "±3%")
    progress.close()
    ran = progress.elapsed
    time.sleep(0.01)
    assert progress.elapsed == ran >= 0  # frozen once closed
