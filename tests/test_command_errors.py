"""Bad flags, missing sections, damaged result directories and failing disks: every command
answers with one ``error:`` line and a non-zero exit (2 for bad input, 1 when the system
fails), no traceback, and writes nothing."""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_cli import run_cli

from experiments.storage.stream import TableWriter

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SERIAL = ["--backend", "serial"]


def one_line(code: int, stderr: str, expected_code: int = 2) -> str:
    assert code == expected_code, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def sweep_file(path: Path, **changes) -> Path:
    data = {"name": "errors", "scenario": str(TINY), "days": 5, "seed": 1, "replications": 1,
            "design": {"kind": "grid"},
            "parameters": {"markets.US.duty_rate": [0.05, 0.25]},
            "kpis": ["contribution_margin_cny"]}
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("argv", "message"), [
    (["run", TINY, "--seed", -1], "--seed must be >= 0"),
    (["run", TINY, "--seed", 2**40, "--replications", 2], "--seed must be >= 0"),
    (["run", TINY, "--precision", "1e-300"], "--precision must be >= 1e-06"),
    (["run", TINY, "--precision", "nan"], "--precision must be"),
    (["run", TINY, "--replications", 10**12], "--replications must be >= 1 and <= 10000"),
    (["run", TINY, "--replications", 3, "--max-replications", 10**9], "--max-replications"),
    (["run", TINY, "--days", 0], "--days must be between 1 and 60"),
    (["run", TINY, "--replications", 2, "--batch-seconds", "inf"], "--batch-seconds"),
    (["run", TINY, "--replications", 2, "--workers", 0], "--workers must be between 1"),
    (["run", TINY, "--replications", 2, "--workers", -1], "--workers must be between 1"),
    (["run", TINY, "--replications", 2, "--backend", "dask", "--address", "notaurl"],
     "--address must be tcp://HOST:PORT (got 'notaurl')"),
    (["run", TINY, "--replications", 2, "--kpi", "fill_rat"], "unknown KPI 'fill_rat'"),
    (["optimize", "channels", TINY, "--time-limit", -1], "--time-limit must be > 0"),
    (["optimize", "channels", TINY, "--mip-gap", 2], "--mip-gap must be >= 0 and < 1"),
    (["optimize", "frontier", TINY, "--points", -1], "--points must be >= 2"),
    (["optimize", "channels", TINY, "--evaluate", 0], "--evaluate must be >= 1"),
    (["optimize", "channels", TINY, "--set", "horizon.days=1"],
     "optimize channels plans whole weeks: the horizon must be at least 7 days (it is 1)"),
    (["optimize", "peak", TINY, "--set", "planning.peak=null"],
     "optimize peak needs a planning.peak section"),
    (["evaluate", TINY, "--replications", 10**7], "--replications must be >= 1"),
    (["compare", TINY, "--variant", "x", "service.agents=2", "--seed", -5], "--seed"),
    (["tune", TINY, "--param", "service.agents=1:3", "--objective", "fill_rate",
      "--budget", -1], "--budget must be >= 1"),
    (["tune", TINY, "--param", "service.agents=1:3", "--objective", "fill_rate",
      "--budget", 2, "--batch-trials", 0], "--batch-trials must be >= 1"),
    (["backtest", TINY, "--actuals", ROOT, "--replications", 0], "--replications must be"),
    (["validate", "/dev/zero"], "/dev/zero is not a regular file"),
])
def test_a_bad_flag_is_one_line_before_any_work(tmp_path, argv, message):
    out = tmp_path / "out"
    if argv[0] != "validate":
        argv = [*argv, "--out", out]
    if argv[0] not in ("validate", "optimize") and "--backend" not in argv:
        argv = [*argv, *SERIAL]
    code, _, stderr = run_cli(argv)
    assert message in one_line(code, stderr)
    assert not out.exists()


def test_a_plan_path_that_is_a_directory_is_refused(tmp_path):
    out = tmp_path / "out"
    code, _, stderr = run_cli(["evaluate", TINY, "--plan", tmp_path, "--replications", 2,
                               "--days", 5, "--out", out, *SERIAL])
    assert one_line(code, stderr) == f"error: {tmp_path} is a directory; give a file"
    assert not out.exists()


@pytest.fixture(scope="module")
def written_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert run_cli(["run", TINY, "--days", 5, "--out", out, "--no-report"])[0] == 0
    return out


def _copy(run: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(run, target)
    return target


def test_report_on_a_truncated_table_names_it(written_run, tmp_path):
    damaged = _copy(written_run, tmp_path / "damaged")
    orders = damaged / "orders.parquet"
    orders.write_bytes(orders.read_bytes()[:100])
    line = one_line(*run_cli(["report", damaged])[::2])
    assert line.startswith(f"error: {orders} is damaged (")
    assert not (damaged / "report.html").exists()


@pytest.mark.parametrize("text", ["{not json", "[]"])
def test_report_on_an_unparsable_summary_names_it(written_run, tmp_path, text):
    damaged = _copy(written_run, tmp_path / "damaged")
    (damaged / "summary.json").write_text(text, encoding="utf-8")
    line = one_line(*run_cli(["report", damaged])[::2])
    assert line.startswith(f"error: {damaged / 'summary.json'} is damaged (")


def test_a_damaged_sweep_part_is_named_on_resume(tmp_path):
    file = sweep_file(tmp_path / "s.yaml")
    out = tmp_path / "sweep"
    assert run_cli(["sweep", file, "--out", out, "--no-report", *SERIAL])[0] == 0
    part = sorted((out / "parts").glob("part-*.parquet"))[0]
    part.write_bytes(b"PAR1 cut short")
    line = one_line(*run_cli(["sweep", file, "--out", out, "--no-report", *SERIAL])[::2])
    assert line.startswith(f"error: {part} is damaged (")


def test_a_sweep_kpi_typo_stops_at_the_first_cell(tmp_path, monkeypatch):
    from experiments.engine import runner

    calls = []
    real = runner.run_task
    monkeypatch.setattr(runner, "run_task", lambda models, cells: calls.append(cells) or
                        real(models, cells))
    file = sweep_file(tmp_path / "s.yaml", parameters={
        "markets.US.duty_rate": [round(0.02 * i, 2) for i in range(10)]},
        kpis=["contribution_margin_cny", "profit_and_loss_cny.salse"])
    out = tmp_path / "sweep"
    line = one_line(*run_cli(["sweep", file, "--out", out, *SERIAL])[::2])
    assert line.startswith("error: kpis: the model reports no KPI named "
                           "profit_and_loss_cny.salse; it reports profit_and_loss_cny.ads, ")
    assert len(calls) <= 2  # the tasks under way when the first finished, not all ten
    # The directory is left as found, so the corrected file may use it.
    fixed = sweep_file(tmp_path / "s.yaml", kpis=["contribution_margin_cny"])
    assert run_cli(["sweep", fixed, "--out", out, "--no-report", *SERIAL])[0] == 0


@pytest.mark.parametrize(("changes", "message"), [
    ({"replications": 10**30}, "replications: Input should be less than or equal to 100000"),
    ({"design": {"kind": "sobol", "samples": 2**40},
      "parameters": {"markets.US.duty_rate": {"low": 0.05, "high": 0.25}}},
     "design: the design has 3,298,534,883,328 points, more than the 1,000,000"),
    ({"design": {"kind": "grid"}, "parameters": {
        "markets.US.duty_rate": {"low": 0.05, "high": 0.25, "levels": 10**4},
        "markets.DE.duty_rate": {"low": 0.0, "high": 0.1, "levels": 10**4}}},
     "design: the design has 100,000,000 points"),
    ({"replications": 100_000, "design": {"kind": "grid"},
      "parameters": {"markets.US.duty_rate": {"low": 0.05, "high": 0.25, "levels": 20}}},
     "replications: 20 points x 100,000 replications = 2,000,000 model calls"),
    ({"name": ".."}, "name: String should match pattern"),
])
def test_a_sweep_too_big_to_run_is_refused_before_it_is_drawn(tmp_path, changes, message):
    file = sweep_file(tmp_path / "s.yaml", **changes)
    line = one_line(*run_cli(["sweep", file, "--out", tmp_path / "out", *SERIAL])[::2])
    assert message in line
    assert not (tmp_path / "out").exists()


def _fail_writes(monkeypatch, code: int) -> None:
    """Every parquet write fails as a read-only (EROFS) or full (ENOSPC) disk would: the
    result writers' (``TableWriter``, streamed or whole) and pandas' own."""
    def failing(self, path, *args, **kwargs):
        raise OSError(code, __import__("os").strerror(code), str(path))

    def failing_chunk(self, chunk):
        raise OSError(code, __import__("os").strerror(code), str(self.path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    monkeypatch.setattr(TableWriter, "write", failing_chunk)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_sweep_on_a_failing_disk_is_one_line_with_exit_1(tmp_path, monkeypatch, code):
    file = sweep_file(tmp_path / "s.yaml")
    out = tmp_path / "sweep"
    _fail_writes(monkeypatch, code)
    code_, _, stderr = run_cli(["sweep", file, "--out", out, "--no-report", *SERIAL])
    line = one_line(code_, stderr, expected_code=1)
    assert line.startswith(f"error: cannot write results to {out}: ")
    assert __import__("os").strerror(code) in line


def test_a_sweep_in_a_read_only_place_is_one_line_with_exit_1(tmp_path, monkeypatch):
    file = sweep_file(tmp_path / "s.yaml")
    out = tmp_path / "locked" / "sweep"
    real = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self == out or out.is_relative_to(self) and self != tmp_path:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    line = one_line(*run_cli(["sweep", file, "--out", out, *SERIAL])[::2], expected_code=1)
    assert line == f"error: cannot write results to {out}: Permission denied"


@pytest.mark.parametrize("command", ["run", "replications"])
def test_a_run_on_a_full_disk_is_one_line_with_exit_1(tmp_path, monkeypatch, command):
    out = tmp_path / "out"
    _fail_writes(monkeypatch, errno.ENOSPC)
    extra = ["--replications", 2, *SERIAL] if command == "replications" else []
    code, _, stderr = run_cli(["run", TINY, "--days", 5, "--out", out, *extra])
    errors = [line for line in stderr.splitlines() if not line.startswith("replications: ")]
    assert code == 1 and "Traceback" not in stderr
    assert errors == [f"error: cannot write results to {out}: No space left on device"]
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []
