"""Bad input the extended fuzzer (plans, sweeps, flags) was built to find: plan and sweep
files read as strictly as scenarios, a precision target that cannot overflow, the bounds
every count flag states in its help, and backtest and tune results written under the same
lock and crash-safe swap as every other command's."""

from __future__ import annotations

import argparse
import fcntl
import json
import math
from pathlib import Path

import pytest
import yaml
from test_cli import run_cli

from experiments.cli.backtest import add_arguments, backtest_command
from experiments.cli.limits import BOUNDS, MAX_REPLICATIONS, allowed
from experiments.cli.main import main
from experiments.errors import SweepFileError
from experiments.storage import swap
from experiments.storage.writelock import lock_path
from experiments.studies import tune
from experiments.studies.replications import estimate
from experiments.studies.sweepfile import load_sweep
from sim.plan import PlanFileError, load_plan

TINY = Path(__file__).parent / "data" / "tiny.yaml"
PLAN = ("kind: channels\nscenario: tiny\nscenario_hash: '0'\nweeks: {weeks}\n"
        "objective_cny: 1000.0\n")


@pytest.mark.parametrize(("weeks", "reason"), [
    ("1:40", "weeks: must be a number, not str (got '1:40')"),
    ("true", "weeks: must be a number, not bool"),
    ("2\nweeks: 3", "duplicate key 'weeks' (lines 4 and 5)"),
])
def test_a_plan_file_is_read_as_strictly_as_a_scenario(tmp_path, weeks, reason):
    """Base-60 (``1:40`` was 100 weeks), true/false and a repeated key are refused."""
    file = tmp_path / "plan.yaml"
    file.write_text(PLAN.format(weeks=weeks), encoding="utf-8")
    message = str(pytest.raises(PlanFileError, load_plan, file).value)
    assert message.startswith(f"{file}: not a plan: ") and reason in message, message
    assert "\n" not in message


def test_a_plan_that_is_a_device_is_refused_unread(tmp_path):
    message = str(pytest.raises(PlanFileError, load_plan, Path("/dev/zero")).value)
    assert message == "/dev/zero: cannot read: not a regular file"


@pytest.mark.parametrize(("text", "where"), [
    ("replications: 1:40\n", "replications"),
    ("seed: 1\nseed: 2\n", "line 5"),
])
def test_a_sweep_file_is_read_as_strictly_as_a_scenario(tmp_path, text, where):
    file = tmp_path / "sweep.yaml"
    file.write_text(f"name: s\nscenario: {TINY}\nparameters: {{service.agents: [2, 3]}}\n"
                    + text, encoding="utf-8")
    error = pytest.raises(SweepFileError, load_sweep, file).value
    assert error.path == where and "\n" not in str(error), str(error)


@pytest.mark.parametrize(("width", "expected"), [
    (1e200, 100),          # (width / precision) ** 2 overflowed: OverflowError
    (math.inf, 20),        # a mean of ~0: twice as many, within the cap
    (math.nan, 20),
    (0.04, 40),            # the classic rule: 10 * (0.04 / 0.02) ** 2
    (0.0, 0),
])
def test_the_replications_a_precision_needs_never_overflow(width, expected):
    assert estimate(10, width, 0.02, 100) == expected


def test_every_count_flag_states_its_bound_in_its_help(capsys):
    assert allowed("replications") == f"1 to {MAX_REPLICATIONS}"
    assert allowed("time_limit") == "> 0 and <= 86400"
    for command, bound in (("run", f"(1 to {MAX_REPLICATIONS})"),
                           ("optimize", f"2 to {BOUNDS['points'].high}")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert bound in " ".join(capsys.readouterr().out.split())


def test_more_replications_than_the_bound_are_refused_before_any_run():
    code, _, stderr = run_cli(["run", TINY, "--replications", MAX_REPLICATIONS + 1])
    assert code == 2 and stderr.strip() == (
        f"error: --replications must be >= 1 and <= {MAX_REPLICATIONS} "
        f"(got {MAX_REPLICATIONS + 1})")


def test_a_backtest_claims_its_output_before_it_runs(tmp_path, capsys):
    """A second writer of the same --out is refused in one line, as for run and sweep."""
    out = tmp_path / "bt"
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(TINY), "--actuals", str(tmp_path / "missing"),
                              "--out", str(out), "--backend", "serial"])
    with lock_path(out).open("w") as other:  # another process's lock: not re-entrant
        other.write("4242\n")
        other.flush()
        fcntl.flock(other, fcntl.LOCK_EX)
        code = backtest_command(args)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == (f"error: {out} is being written by another xbsim (pid 4242); "
                                 "wait for it to finish or choose another --out")


def test_a_backtest_directory_is_replaced_only_by_a_backtest(tmp_path):
    out = tmp_path / "bt"
    out.mkdir()
    (out / "backtest.json").write_text("{}")
    assert swap.kind_of(out) == swap.BACKTEST
    swap.check_replaceable(out, swap.BACKTEST)
    with pytest.raises(swap.StoreError, match="holds an xbsim backtest result, not a run"):
        swap.check_replaceable(out, "run")


def test_tune_results_are_swapped_in_whole(tmp_path, monkeypatch):
    """A tune that fails while writing leaves the previous result as it was, no leftovers."""
    out = tmp_path / "tuned"
    out.mkdir()
    (out / "manifest.json").write_text('{"kind": "tune"}')

    def half_written(result, model, staging, final, manifest):
        (staging / "trials.parquet").write_text("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tune, "_write", half_written)
    with pytest.raises(OSError):
        tune.save(object(), object(), out, object())  # type: ignore[arg-type]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuned"]


def test_a_json_plan_with_nan_units_is_one_line(tmp_path):
    file = tmp_path / "plan.json"
    plan = yaml.safe_load(PLAN.format(weeks=2)) | {
        "fulfilment": [{"week": 1, "sku": "TEE", "market": "US", "route": "warehouse",
                        "mode": "us_last_mile", "warehouse": "US_WH", "units": math.nan}]}
    file.write_text(json.dumps(plan))
    message = str(pytest.raises(PlanFileError, load_plan, file).value)
    assert message.endswith("fulfilment.0.units: must be a finite number (got nan)"), message


def test_a_control_character_in_a_sweep_key_stays_on_one_line(tmp_path):
    """Found by the fuzzer: ``\\x1e`` and ``\\x0b`` split an error for ``splitlines`` and
    for terminals; every message ``xbsim`` prints shows them escaped."""
    file = tmp_path / "sweep.yaml"
    file.write_text(f"name: s\nscenario: {TINY}\nparameters: {{service.agents: [2, 3]}}\n"
                    '"a\\x1eb\\vc": 1\n', encoding="utf-8")
    code, _, stderr = run_cli(["sweep", file, "--backend", "serial"])
    assert code == 2 and stderr.splitlines() == [
        f"error: {file}: a\\x1eb\\x0bc: unknown key"], stderr


def test_an_unknown_argument_with_a_newline_is_one_error_line(capsys):
    """Found by the fuzzer: argparse's usage, then one error line quoting the argument."""
    with pytest.raises(SystemExit):
        main(["validate", str(TINY), "a\nb"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("usage: xbsim validate")
    assert lines[-1] == "xbsim validate: error: unrecognized arguments: a b"
    assert sum("error: " in line for line in lines) == 1
