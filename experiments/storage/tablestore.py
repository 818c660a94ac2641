"""Write a few result tables and a manifest as one directory that appears whole.

Replications and comparisons are quick to redo, so they are not resumable like sweeps, but
they are still never left half-written: the tables go to a hidden staging directory that
replaces the previous results with two renames. A directory that holds something other than
xbsim results is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from experiments.errors import StoreError
from experiments.storage.manifest import (
    FILE,
    CompareManifest,
    EvaluationManifest,
    ReplicationsManifest,
    write_manifest,
)
from experiments.storage.runstore import write_parquet


def write_tables(out: Path, tables: dict[str, pd.DataFrame],
                 manifest: ReplicationsManifest | EvaluationManifest | CompareManifest,
                 csv: bool = False) -> list[str]:
    """Write ``NAME.parquet`` (and with ``csv`` also ``NAME.csv``) per table and
    ``manifest.json``; returns the file names."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir())
                                              and not (out / FILE).exists())):
        raise StoreError(f"{out} is not empty and holds no xbsim results; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        names = []
        for name, frame in tables.items():
            write_parquet(staging / f"{name}.parquet", frame)
            names.append(f"{name}.parquet")
            if csv:
                frame.to_csv(staging / f"{name}.csv", index=False)
                names.append(f"{name}.csv")
        write_manifest(staging, manifest)
        os.chmod(staging, 0o755)
        if out.exists():
            retired = out.parent / f".{out.name}.{os.getpid()}.old"
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [*names, FILE]
