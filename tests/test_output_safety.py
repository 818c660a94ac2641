"""Results directories are safe: default paths stay inside ``out/`` whatever the scenario's
name, a kill at any step of replacing a result leaves the old or the new one (and the next
writer puts leftovers right), and a second writer to the same directory is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_cli import run_cli

from experiments.storage import swap
from experiments.storage.names import safe_name
from experiments.storage.writelock import lock_path
from sim.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"


# ----------------------------------------------------------------------------- default paths
@pytest.mark.parametrize(("name", "safe"), [
    ("tiny", "tiny"), ("../x", "_x"), ("/etc/passwd", "_etc_passwd"), ("..", "scenario"),
    ("a b\nc", "a_b_c"), (".hidden", "hidden"), ("x" * 300, "x" * 100)])
def test_a_name_becomes_one_visible_directory_name(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize("hostile", ["../../escape", "/tmp/absolute"])
def test_a_hostile_scenario_name_writes_inside_out(tmp_path, monkeypatch, hostile):
    from experiments.cli import run

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    named = load_scenario(TINY).model_copy(update={"name": hostile})
    monkeypatch.setattr(run, "load_scenario", lambda *args, **kwargs: named)
    code, stdout, stderr = run_cli(["run", TINY, "--days", 3, "--no-report"])
    assert code == 0, stderr
    assert [p.name for p in (work / "out").iterdir()] == [safe_name(hostile)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]


# ----------------------------------------------------------------------------- crash safety
def _result(directory: Path) -> str | None:
    """What a test result directory holds: its ``result.txt``, or None if absent."""
    file = directory / "result.txt"
    return file.read_text(encoding="utf-8") if file.exists() else None


def _old_result(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "result.txt").write_text("old", encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps({"kind": "run"}), encoding="utf-8")


KILL = {
    "while writing": "",
    "after the exchange": "swap.shutil.rmtree = die",
    "between the two renames": "swap.exchange = lambda a, b: False\n"
                               "swap.os.replace = die_on(2, swap.os.replace)",
    "after the two renames": "swap.exchange = lambda a, b: False\nswap.shutil.rmtree = die",
}
"""Where the writer is killed (SIGKILL: no clean-up runs), as patches of ``swap``."""


def _killed_writer(out: Path, where: str) -> None:
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from experiments.storage import swap

        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        def die_on(n, real):
            calls = []
            def call(*args, **kwargs):
                calls.append(args)
                if len(calls) == n:
                    die()
                return real(*args, **kwargs)
            return call

        PATCH

        def write(staging):
            (staging / "result.txt").write_text("new", encoding="utf-8")
            (staging / "manifest.json").write_text('{"kind": "run"}', encoding="utf-8")
            if WHILE_WRITING:
                die()

        swap.replace_directory(Path(sys.argv[1]), "run", write)
    """).replace("PATCH", KILL[where]).replace("WHILE_WRITING", str(where == "while writing"))
    done = subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr


@pytest.mark.parametrize("where", KILL)
def test_a_killed_swap_leaves_the_old_or_the_new_result_and_the_next_run_cleans_up(
        tmp_path, where):
    out = tmp_path / "run"
    _old_result(out)
    _killed_writer(out, where)
    if where == "between the two renames":  # only without an atomic exchange
        assert not out.exists() and _result(swap.retired_path(out)) == "old"
    else:
        assert _result(out) == ("old" if where == "while writing" else "new")

    swap.replace_directory(out, "run", lambda staging: (staging / "result.txt").write_text(
        "next", encoding="utf-8"))
    assert _result(out) == "next"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_the_next_writer_restores_a_retired_result_before_refusing_or_writing(tmp_path):
    out = tmp_path / "run"
    _old_result(swap.retired_path(out))
    swap.recover(out)
    assert _result(out) == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_leftovers_of_older_versions_are_restored_or_removed(tmp_path):
    out = tmp_path / "run"
    _old_result(tmp_path / ".run.4242.old")
    (tmp_path / ".run.ab_cd123.tmp").mkdir()
    (tmp_path / ".run.ab_cd123.tmp" / "half.parquet").write_bytes(b"PAR1")
    (tmp_path / ".run.b.old").mkdir()  # the retired result of another name: untouched
    swap.recover(out)
    assert _result(out) == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.b.old", "run"]


def test_a_failure_inside_the_swap_keeps_the_old_result(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _old_result(out)
    real = swap.os.replace
    calls = []

    def failing(a, b):
        calls.append((a, b))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(a, b)

    monkeypatch.setattr(swap, "exchange", lambda a, b: False)
    monkeypatch.setattr(swap.os, "replace", failing)
    with pytest.raises(OSError):
        swap.replace_directory(out, "run", lambda staging: (staging / "result.txt").write_text(
            "new", encoding="utf-8"))
    assert _result(out) == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_results_of_other_commands_nested_inside_are_kept(tmp_path):
    out = tmp_path / "run"
    _old_result(out)
    nested = out / "evaluation"
    _old_result(nested)
    (nested / "manifest.json").write_text('{"kind": "evaluation"}', encoding="utf-8")
    (out / "figures").mkdir()
    swap.replace_directory(out, "run", lambda staging: (staging / "result.txt").write_text(
        "new", encoding="utf-8"))
    assert _result(out) == "new" and _result(out / "evaluation") == "old"
    assert not (out / "figures").exists()


def test_results_of_another_kind_are_not_replaced(tmp_path):
    out = tmp_path / "sweep"
    _old_result(out)
    (out / "manifest.json").write_text('{"kind": "sweep"}', encoding="utf-8")
    code, _, stderr = run_cli(["run", TINY, "--days", 3, "--out", out])
    assert code == 2
    assert stderr == f"error: {out} holds an xbsim sweep result, not a run; choose another " \
                     "--out\n"
    assert _result(out) == "old"


# ----------------------------------------------------------------------------- one writer
def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom pathlib import Path\n"
         "from experiments.storage.writelock import writer_lock\n"
         "with writer_lock(Path(sys.argv[1])):\n"
         "    print('locked', flush=True)\n    sys.stdin.readline()\n", str(out)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, stderr = run_cli(["run", TINY, "--days", 3, "--out", out])
        assert code == 2
        assert stderr == (f"error: {out} is being written by another xbsim (pid {holder.pid}); "
                          "wait for it to finish or choose another --out\n")
        assert not out.exists()
    finally:
        holder.communicate("\n")
    assert run_cli(["run", TINY, "--days", 3, "--out", out, "--no-report"])[0] == 0


def test_the_lock_of_a_dead_writer_is_taken_over(tmp_path):
    out = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    lock_path(out).write_text(dead.stdout, encoding="utf-8")
    code, _, stderr = run_cli(["run", TINY, "--days", 3, "--out", out, "--no-report"])
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
