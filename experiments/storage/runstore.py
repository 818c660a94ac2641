"""Write a run's results to a directory: parquet tables, summary and manifest.

A run is written whole into a hidden sibling directory and only then swapped in for the
previous results (``experiments.storage.swap``), so a reader never sees a half-written file
or a mix of two runs, and an interrupted or killed run leaves the earlier results intact.
``simulate_run`` streams the tables that grow with orders into that directory while the run
goes (``experiments.storage.stream``) and writes the rest at its end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.storage.manifest import FILE, RunManifest, write_manifest
from experiments.storage.stream import ParquetSink, chunks, write_frames
from experiments.storage.swap import replace_directory
from sim.atomic import atomic_write
from sim.loader import scenario_hash
from sim.recorder import CHUNK_ROWS
from sim.results import RunResult
from sim.tables import TableSink


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> None:
    """``frame`` as parquet, a row group per ``chunk_rows`` rows: the bytes a streamed
    table of the same rows gets."""
    atomic_write(path, lambda tmp: write_frames(tmp, chunks(frame, chunk_rows)))


def simulate_run(out: Path, run: Callable[[TableSink], RunResult], source: str,
                 state_file: str | None = None, state_hash: str | None = None,
                 chunk_rows: int = CHUNK_ROWS) -> tuple[RunResult, list[Path]]:
    """Call ``run(sink)`` (a simulation handing its growing tables to ``sink``) with the
    tables streamed into ``out``'s staging directory, then write the other tables, the KPI
    summary and the manifest (naming the opening state file the run started from, if any)
    and swap the directory in whole; the result and the paths written."""
    def write(staging: Path) -> tuple[RunResult, list[str]]:
        with ParquetSink(staging, chunk_rows) as sink:
            result = run(sink)
        return result, _write_files(result, staging, source, state_file, state_hash)

    result, names = replace_directory(out, "run", write)
    return result, [out / name for name in names]


def _write_files(result: RunResult, directory: Path, source: str, state_file: str | None,
                 state_hash: str | None) -> list[str]:
    names = []
    for name, frame in result.tables().items():
        if name not in result.streamed:
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
