"""Manifests: each command writes one naming its kind, read back through the same models, and
a directory whose manifest is missing or damaged is one line of error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import run_cli

from experiments import api
from experiments.engine.seeds import replication_seeds
from experiments.storage.manifest import (
    CompareManifest,
    EvaluationManifest,
    ManifestError,
    ReplicationsManifest,
    RunManifest,
    SweepManifest,
    read_manifest,
    write_manifest,
)

TINY = Path(__file__).resolve().parent / "data" / "tiny.yaml"
SERIAL = ["--backend", "serial", "--no-report"]


def cheap(params, seed):
    return {"y": params["x"] * 2.0 + seed % 7}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("manifests")
    commands = {
        "run": ["run", TINY, "--days", 3, "--seed", 4, "--no-report"],
        "replications": ["run", TINY, "--days", 3, "--replications", 2, "--seed", 5, *SERIAL],
        "evaluation": ["evaluate", TINY, "--days", 3, "--replications", 2, *SERIAL],
        "compare": ["compare", TINY, "--variant", "tariff", "markets.US.duty_rate=0.3",
                    "--days", 3, "--replications", 2, *SERIAL],
    }
    for kind, argv in commands.items():
        code, _, stderr = run_cli([str(a) for a in [*argv, "--out", base / kind]])
        assert code == 0, stderr
    api.sweep({"name": "cheap", "seed": 2, "replications": 2, "design": {"kind": "grid"},
               "parameters": {"x": [1.0, 2.0]}, "kpis": ["y"]},
              out=base / "sweep", model=cheap, backend="serial")
    return {kind: base / kind for kind in (*commands, "sweep")}


def test_each_command_writes_the_manifest_of_its_kind(results):
    run = read_manifest(results["run"])
    assert isinstance(run, RunManifest) and run.seed == 4 and run.days == 3
    assert run.scenario["name"] == "tiny" and run.scenario_file == str(TINY)
    reps = read_manifest(results["replications"])
    assert isinstance(reps, ReplicationsManifest)
    assert reps.replication_seeds == replication_seeds(5, 2) and reps.days == 3
    assert reps.backend == "serial (this process)" and reps.precision is None
    evaluation = read_manifest(results["evaluation"])
    assert isinstance(evaluation, EvaluationManifest) and evaluation.plan_file is None
    compare = read_manifest(results["compare"])
    assert isinstance(compare, CompareManifest)
    assert compare.variants == {"tariff": ["markets.US.duty_rate=0.3"]}
    assert set(compare.scenario_hashes) == {"tiny", "tariff"} and compare.replications == 2
    sweep = read_manifest(results["sweep"])
    assert isinstance(sweep, SweepManifest) and sweep.status == "complete"
    assert sweep.design.cells == 4 and [s.cells_run for s in sweep.sessions] == [4]
    for directory in results.values():
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        assert next(iter(data)) == "kind"
        assert data["code_version"] and "numpy" in data["packages"]


def test_a_manifest_is_written_whole_and_reads_back_equal(results, tmp_path):
    manifest = read_manifest(results["compare"])
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == manifest
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


@pytest.mark.parametrize("damage, reason", [
    (lambda m: m.unlink(), "holds no xbsim result (no manifest.json or plan.yaml)"),
    (lambda m: m.write_text("{", encoding="utf-8"), "manifest.json cannot be read"),
    (lambda m: m.write_text("[1, 2]", encoding="utf-8"), "manifest.json is not an xbsim"),
    (lambda m: m.write_text(json.dumps({"seed": 1, "scenario": {}}), encoding="utf-8"),
     "manifest.json is not an xbsim manifest (no known 'kind'"),
    (lambda m: m.write_text(json.dumps({
        k: v for k, v in json.loads(m.read_text(encoding="utf-8")).items() if k != "seed"}),
        encoding="utf-8"), "manifest.json is damaged (seed: Field required)"),
    (lambda m: m.write_text(json.dumps({
        **json.loads(m.read_text(encoding="utf-8")), "kind": "compare"}), encoding="utf-8"),
     "manifest.json is damaged ("),
])
def test_a_missing_or_damaged_manifest_is_one_line(results, tmp_path, damage, reason):
    directory = tmp_path / "run"
    directory.mkdir()
    for file in results["run"].iterdir():
        if file.is_file():
            (directory / file.name).write_bytes(file.read_bytes())
    damage(directory / "manifest.json")
    code, stdout, stderr = run_cli(["report", str(directory)])
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"error: {directory}: {reason}")
    if (directory / "manifest.json").exists():
        with pytest.raises(ManifestError, match="manifest.json"):
            read_manifest(directory)
