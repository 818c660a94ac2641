"""Write a run's results to a directory: parquet tables, summary and manifest.

A run is written whole into a hidden sibling directory and only then swapped in for the
previous results (``experiments.storage.swap``), so a reader never sees a half-written file
or a mix of two runs, and an interrupted or killed run leaves the earlier results intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.storage.manifest import FILE, RunManifest, write_manifest
from experiments.storage.swap import replace_directory
from sim.atomic import atomic_write
from sim.loader import scenario_hash
from sim.results import RunResult


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


def write_run(result: RunResult, out: Path, source: str, state_file: str | None = None,
              state_hash: str | None = None) -> list[Path]:
    """Write every table, the KPI summary and the manifest (naming the opening state file
    the run started from, if any) as one directory swapped in whole; the paths written."""
    names = replace_directory(out, "run", lambda staging: _write_files(
        result, staging, source, state_file, state_hash))
    return [out / name for name in names]


def _write_files(result: RunResult, directory: Path, source: str, state_file: str | None,
                 state_hash: str | None) -> list[str]:
    names = []
    for name, frame in result.tables().items():
        write_parquet(directory / f"{name}.parquet", frame)
        names.append(f"{name}.parquet")
    summary = {**result.summary, "conservation": result.conservation}
    write_json(directory / "summary.json", summary)
    write_manifest(directory, RunManifest(
        scenario_file=source, scenario_hash=scenario_hash(result.scenario), seed=result.seed,
        days=result.scenario.horizon.days, wall_seconds=round(result.wall_seconds, 3),
        scenario=result.scenario.model_dump(mode="json", by_alias=True),
        state_file=state_file, state_hash=state_hash))
    return [*names, "summary.json", FILE]
