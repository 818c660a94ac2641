"""Is a results directory readable? Checked before a report or an export reads it.

A results directory can be damaged after it was written (a copy cut short, a file edited by
hand, a full disk elsewhere). Reading every table's parquet footer and parsing every JSON
file (each an object: a summary, a manifest) is cheap, and finding the damage here names
the file in one line instead of failing somewhere inside the report.
"""

from __future__ import annotations

import json
from pathlib import Path

from experiments.errors import StoreError


def check_readable(directory: Path) -> None:
    """``StoreError`` naming the first table or JSON file of ``directory`` (its
    sub-directories included, hidden files not) that cannot be read. The top-level
    ``manifest.json`` is left to the manifest reader, whose messages say what it lacks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory = Path(directory)
    if not directory.exists():
        raise StoreError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise StoreError(f"{directory}: not a directory")
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(directory).parts)
        and p != directory / "manifest.json")
    for path in files:
        try:
            if path.suffix == ".parquet":
                pq.read_metadata(path)
            elif path.suffix == ".json" and not isinstance(
                    json.loads(path.read_text(encoding="utf-8")), dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError, pa.ArrowException) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise StoreError(f"{path} is damaged ({reason}); re-run the command that wrote "
                             f"{directory}") from None
