"""Write a run's results to a directory: parquet tables, summary and manifest.

A run is written whole into a hidden sibling directory and only then swapped in for the
previous results, so a reader never sees a half-written file or a mix of two runs, and an
interrupted run leaves the earlier results intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.storage.manifest import FILE, RunManifest, write_manifest
from sim.atomic import atomic_write
from sim.loader import scenario_hash
from sim.results import RunResult


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


class OutputDirectoryError(Exception):
    """The output directory holds something that is not an earlier xbsim run."""


def write_run(result: RunResult, out: Path, source: str, state_file: str | None = None,
              state_hash: str | None = None) -> list[Path]:
    """Write every table, the KPI summary and the manifest (naming the opening state file
    the run started from, if any); returns the paths written."""
    if out.exists() and any(out.iterdir()) and not (out / FILE).exists():
        raise OutputDirectoryError(f"{out} is not empty and holds no xbsim run; "
                                   "choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        names = _write_files(result, staging, source, state_file, state_hash)
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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


def _swap_in(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` with two renames; the old run is removed last."""
    os.chmod(staging, 0o755)
    if not out.exists():
        os.replace(staging, out)
        return
    retired = out.parent / f".{out.name}.{os.getpid()}.old"
    os.replace(out, retired)
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)
