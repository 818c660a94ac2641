"""Write a few result tables and a manifest as one directory that appears whole.

Replications and comparisons are quick to redo, so they are not resumable like sweeps, but
they are still never left half-written: the tables go to a hidden staging directory that is
swapped in for the previous results (``experiments.storage.swap``). A directory that holds
something other than xbsim results of the same kind is refused.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from experiments.storage.manifest import (
    FILE,
    CompareManifest,
    EvaluationManifest,
    ReplicationsManifest,
    write_manifest,
)
from experiments.storage.runstore import write_parquet
from experiments.storage.swap import replace_directory


def write_tables(out: Path, tables: dict[str, pd.DataFrame],
                 manifest: ReplicationsManifest | EvaluationManifest | CompareManifest,
                 csv: bool = False) -> list[str]:
    """Write ``NAME.parquet`` (and with ``csv`` also ``NAME.csv``) per table and
    ``manifest.json``; returns the file names."""

    def write(staging: Path) -> list[str]:
        names = []
        for name, frame in tables.items():
            write_parquet(staging / f"{name}.parquet", frame)
            names.append(f"{name}.parquet")
            if csv:
                frame.to_csv(staging / f"{name}.csv", index=False)
                names.append(f"{name}.csv")
        write_manifest(staging, manifest)
        return [*names, FILE]

    return replace_directory(Path(out), manifest.kind, write)
