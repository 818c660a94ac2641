"""Sweeps end to end: the same numbers on every backend and worker count, a sweep killed with
SIGKILL resumes to byte-identical results, and a results directory is never mixed up."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_cli import run_cli

from experiments import api
from experiments.engine.backends import DaskBackend, open_backend
from experiments.engine.models import ScenarioModel, flatten_summary
from experiments.errors import BackendError, CellError, StoreError
from experiments.studies.sweep import run_sweep
from experiments.studies.sweepfile import load_sweep
from sim.model import simulate

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def write_sweep(path: Path, **changes) -> Path:
    data = {"name": "tiny_grid", "scenario": str(TINY), "days": 20, "seed": 9,
            "replications": 3, "design": {"kind": "grid"},
            "parameters": {"markets.US.duty_rate": [0.05, 0.25],
                           "policies.fulfilment.DE.mode": ["postal", "express"]},
            "kpis": ["contribution_margin_cny", "on_time_rate"]}
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def cheap(params, seed):
    return {"y": params["x"] * 2.0 + seed % 7}


CHEAP = {"name": "cheap", "replications": 2, "design": {"kind": "grid"},
         "parameters": {"x": [1.0, 2.0, 3.0]}, "kpis": ["y"]}


@pytest.fixture(scope="module")
def dask_backend():
    """One LocalCluster of 2 single-threaded worker processes for the module."""
    with open_backend("dask", workers=2) as backend:
        yield backend


# ----------------------------------------------------------------------------- backends
def test_every_backend_and_worker_count_gives_byte_identical_results(tmp_path, dask_backend):
    sweep = load_sweep(write_sweep(tmp_path / "s.yaml"))
    outputs = {}
    runs = {"serial": ("serial", None, 1.0), "local-1": ("local", 1, 1.0),
            "local-2-small-batches": ("local", 2, 0.01)}
    for name, (kind, workers, batch) in runs.items():
        with open_backend(kind, workers) as backend:
            run_sweep(sweep, backend, tmp_path / name, batch_seconds=batch)
        outputs[name] = (tmp_path / name / "results.parquet").read_bytes()
    run_sweep(sweep, dask_backend, tmp_path / "dask-local-cluster", batch_seconds=0.01)
    outputs["dask-local-cluster"] = (tmp_path / "dask-local-cluster" / "results.parquet") \
        .read_bytes()
    address = dask_backend._cluster.scheduler_address
    with open_backend("dask", address=address) as remote:
        assert remote.workers == 2
        run_sweep(sweep, remote, tmp_path / "dask-address")
    outputs["dask-address"] = (tmp_path / "dask-address" / "results.parquet").read_bytes()
    assert len(set(outputs.values())) == 1, {k: len(v) for k, v in outputs.items()}

    # ... and they are the numbers of simulate() itself for that point and seed.
    results = pd.read_parquet(tmp_path / "serial" / "results.parquet")
    assert len(results) == 4 * 3
    row = results.iloc[7]
    model = ScenarioModel.from_file(TINY, days=20)
    params = {"markets.US.duty_rate": row["markets.US.duty_rate"],
              "policies.fulfilment.DE.mode": row["policies.fulfilment.DE.mode"]}
    direct = flatten_summary(simulate(model.scenario(params), seed=int(row["seed"]),
                                      days=20).summary)
    assert row["contribution_margin_cny"] == direct["contribution_margin_cny"]
    assert row["orders"] == direct["orders"]


def test_points_share_replication_seeds(tmp_path):
    results = api.sweep(write_sweep(tmp_path / "s.yaml"), backend="serial").results
    seeds = results.pivot(index="replication", columns="point", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()
    assert seeds[0].nunique() == 3


def test_dask_scheduler_that_cannot_be_reached_is_one_clear_error(monkeypatch):
    monkeypatch.setattr("experiments.engine.backends.CONNECT_TIMEOUT_S", 1)
    with pytest.raises(BackendError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        DaskBackend(address="tcp://127.0.0.1:9")


@pytest.mark.parametrize("kind, workers, address, message", [
    ("cloud", None, None, "unknown backend"),
    ("local", 0, None, "--workers must be between 1 and 256"),
    ("local", None, "tcp://x:1", "--address needs --backend dask"),
    ("dask", 2, "tcp://x:1", "--workers applies to local pools"),
])
def test_bad_backend_requests(kind, workers, address, message):
    with pytest.raises(BackendError, match=message):
        open_backend(kind, workers, address)


# ----------------------------------------------------------------------------- resume
def _parts(out: Path) -> list[Path]:
    return sorted((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else []


def test_a_sweep_killed_with_sigkill_resumes_to_identical_results(tmp_path):
    sweep = write_sweep(tmp_path / "s.yaml", name="kill_me", days=20, replications=4,
                        design={"kind": "lhs", "samples": 12},
                        parameters={"markets.US.duty_rate": {"low": 0.05, "high": 0.3},
                                    "service.agents": {"low": 1, "high": 3, "integer": True}})
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    command = [sys.executable, "-m", "experiments.cli.main", "sweep", str(sweep), "--out",
               str(killed), "--workers", "1", "--batch-seconds", "0.05"]
    proc = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(_parts(killed)) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the pool worker too, should it linger
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "results.parquet").exists(), "the sweep finished before the kill"
    stored = sum(len(pd.read_parquet(p)) for p in _parts(killed))
    assert 0 < stored < 48
    # Debris a kill can leave: half-written temporaries. They must never be read.
    (killed / "parts" / ".part-000999.parquet.abc123.tmp").write_bytes(b"PAR1 half a part")
    (killed / ".results.parquet.def456.tmp").write_bytes(b"PAR1 half the results")

    code, stdout, stderr = run_cli(["sweep", sweep, "--out", killed, "--backend", "serial"])
    assert code == 0, stderr
    assert f"48 cells; {stored} done earlier, {48 - stored} run now" in stdout
    assert run_cli(["sweep", sweep, "--out", whole, "--backend", "serial"])[0] == 0
    assert (killed / "results.parquet").read_bytes() == (whole / "results.parquet").read_bytes()
    assert (killed / "points.parquet").read_bytes() == (whole / "points.parquet").read_bytes()
    assert not [p for p in killed.rglob("*.tmp")]
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    first, second = manifest["sessions"]
    assert first["ended"] is None and first["backend"] == "1 local worker"
    assert second["cells_done_before"] == stored and second["cells_run"] == 48 - stored


def test_rerunning_a_finished_sweep_runs_nothing(tmp_path):
    first = api.sweep(CHEAP, out=tmp_path / "d", model=cheap, backend="serial")
    again = api.sweep(CHEAP, out=tmp_path / "d", model=cheap, backend="serial")
    assert again.cells_before == 6 and again.stats.cells == 0
    pd.testing.assert_frame_equal(first.results, again.results)


def test_a_changed_sweep_is_refused_unless_forced(tmp_path):
    api.sweep(CHEAP, out=tmp_path / "d", model=cheap, backend="serial")
    changed = {**CHEAP, "replications": 3}
    with pytest.raises(StoreError, match="different sweep file; use another --out, or --force"):
        api.sweep(changed, out=tmp_path / "d", model=cheap, backend="serial")
    forced = api.sweep(changed, out=tmp_path / "d", model=cheap, backend="serial", force=True)
    assert forced.cells_before == 0 and len(forced.results) == 9
    assert len(pd.read_parquet(tmp_path / "d" / "results.parquet")) == 9


def test_changed_code_is_refused(tmp_path, monkeypatch):
    api.sweep(CHEAP, out=tmp_path / "d", model=cheap, backend="serial")
    monkeypatch.setattr("experiments.studies.sweep.code_identity", lambda: "edited-since")
    with pytest.raises(StoreError, match=r"different code \(source files"):
        api.sweep(CHEAP, out=tmp_path / "d", model=cheap, backend="serial")


def test_a_directory_with_other_content_is_refused(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(StoreError, match="not empty and holds no xbsim sweep"):
        api.sweep(CHEAP, out=notes, model=cheap, backend="serial")
    assert (notes / "thesis.tex").read_text(encoding="utf-8") == "precious"
    run = tmp_path / "run"
    assert run_cli(["run", TINY, "--days", 3, "--out", run])[0] == 0
    with pytest.raises(StoreError, match="holds an xbsim run, not a sweep"):
        api.sweep(CHEAP, out=run, model=cheap, backend="serial", force=True)


def test_two_sweeps_cannot_share_a_directory_at_once(tmp_path):
    out = tmp_path / "d"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="another xbsim sweep is running"):
            api.sweep(CHEAP, out=out, model=cheap, backend="serial")
    api.sweep(CHEAP, out=out, model=cheap, backend="serial")


def test_a_failing_cell_names_its_point_and_seed(tmp_path):
    sweep = write_sweep(tmp_path / "s.yaml", parameters={
        "policies.replenishment.0.policy.reorder_point": [25, 50],
        "policies.replenishment.0.policy.order_up_to": [30, 60]})
    with pytest.raises(CellError, match=r"point 2 \(.*reorder_point=50.*order_up_to=30\), "
                                        r"replication 0 \(seed \d+\): .*order_up_to must be") \
            as info:
        api.sweep(sweep, backend="serial")
    assert info.value.bad_input


def test_a_closed_serial_backend_takes_no_more_tasks():
    with open_backend("serial") as backend:
        assert backend.submit(abs, -2).result() == 2
    with pytest.raises(BackendError, match="the serial backend is closed"):
        backend.submit(abs, -2)
