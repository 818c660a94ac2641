"""A results directory as one Excel workbook, for the people who read results in Excel.

Every command writes its results as parquet tables, plan files and JSON summaries, in the
directory and its sub-directories (``comparison/``, ``evaluation/``, ``parts/``, ``plans/``).
``export_workbook`` puts them all in one workbook:

- a first sheet ``contents``: sheet -> source file, what it holds, rows and columns;
- one sheet per parquet table, named from its path (``evaluation/summary.parquet`` ->
  ``evaluation.summary``); a table longer than Excel's 1,048,576 rows continues on
  numbered sheets (``orders (1)``, ``orders (2)``), as the contents sheet says;
- per plan file (``plan.yaml``, ``*_plan.yaml``, ``plans/*.yaml``): its summary as
  key/value rows, and its shipments, fulfilment, ad spend, containers and metrics;
- per JSON file (manifest, summary): its keys, flattened to dotted paths, and values.

Files are visited directory by directory (a directory's own files before its
sub-directories), plans then tables then JSON, by name; hidden files and CSV copies of the
tables are left out. Values keep their types as far as Excel allows
(``experiments.data.excel``). Tables are streamed in batches, so a large table is never
held in memory whole; the workbook appears whole or not at all.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from experiments.data.excel import (
    MAX_COLUMNS,
    MAX_ROWS,
    SheetNames,
    fitting_widths,
    flatten,
    frame_rows,
    start_sheet,
)
from experiments.errors import ExperimentError
from sim.atomic import atomic_write
from sim.plan import AdSpendLine, FulfilmentLine, Plan, ShipmentLine, load_plan

DEFAULT_FILE = "results.xlsx"
CONTENTS = "contents"
CONTENTS_HEADER = ("sheet", "source", "content", "rows", "columns", "note")
CONTENTS_WIDTHS = (34, 44, 18, 12, 10, 44)
BATCH_ROWS = 50_000
"""Rows read from a parquet file at a time."""

_CONTAINER_KEY = re.compile(r"(?P<lane>.+?) (?P<mode>\S+)(?: week (?P<week>\d+))?")
"""A plan's container key: ``'SZ->US_WH sea_fcl week 1'``, or without the week for the
peak plan's season-long contracts."""
_KINDS = ("plan", "table", "json")


class ExportError(ExperimentError):
    """A directory with nothing to export, or a file in it that cannot be read."""


@dataclass(frozen=True)
class Entry:
    """One line of the contents sheet."""

    sheet: str
    source: str
    content: str
    rows: int
    columns: int
    note: str = ""


@dataclass(frozen=True)
class _Table:
    """A table to write: header, row count and its rows as a stream of frames."""

    source: str
    content: str
    base: str
    header: list[str]
    rows: int
    frames: Callable[[], Iterator[pd.DataFrame]]


def export_workbook(result_dir: Path, out: Path | None = None,
                    max_rows: int = MAX_ROWS - 1) -> Path:
    """Write every table, plan and JSON file of ``result_dir`` to one workbook (default
    ``result_dir/results.xlsx``); ``max_rows`` data rows per sheet, at most Excel's."""
    result_dir = Path(result_dir)
    if not 0 < max_rows < MAX_ROWS:
        raise ValueError(f'"max_rows" must be between 1 and {MAX_ROWS - 1:,}.')
    if not result_dir.is_dir():
        raise ExportError(f"{result_dir}: no such directory")
    sources = list(_sources(result_dir))
    if not any(_kind(path) in ("plan", "table") for path in sources):
        raise ExportError(f"{result_dir}: no result tables (*.parquet) or plans to export")
    out = Path(out) if out is not None else result_dir / DEFAULT_FILE
    atomic_write(out, lambda tmp: _write(result_dir, sources, tmp, max_rows))
    return out


def _write(root: Path, sources: list[Path], path: Path, max_rows: int) -> None:
    workbook = Workbook(write_only=True)
    names = SheetNames()
    contents = start_sheet(workbook, names.take(CONTENTS), CONTENTS_HEADER, CONTENTS_WIDTHS)
    entries: list[Entry] = []
    for source in sources:
        for table in _tables(source, source.relative_to(root)):
            entries += _write_table(workbook, names, table, max_rows)
    for entry in entries:
        contents.append([entry.sheet, entry.source, entry.content, entry.rows,
                         entry.columns, entry.note or None])
    workbook.save(path)


def _write_table(workbook: Workbook, names: SheetNames, table: _Table,
                 max_rows: int) -> list[Entry]:
    """The table on one sheet, or on numbered sheets of ``max_rows`` rows each."""
    if len(table.header) > MAX_COLUMNS:
        raise ExportError(f"{table.source}: {len(table.header):,} columns, more than an "
                          f"Excel sheet holds ({MAX_COLUMNS:,})")
    parts = max(1, math.ceil(table.rows / max_rows))
    sheet_names = [names.take(table.base, f" ({i})" if parts > 1 else "")
                   for i in range(1, parts + 1)]
    frames = table.frames()
    first = next(frames, pd.DataFrame(columns=table.header))
    widths = fitting_widths(first)
    current, sheet = 0, start_sheet(workbook, sheet_names[0], table.header, widths)
    for part, chunk in _chunks(itertools.chain([first], frames), max_rows):
        if part != current:
            current = part
            sheet = start_sheet(workbook, sheet_names[part], table.header, widths)
        for row in frame_rows(chunk, sheet):
            sheet.append(row)
    return _entries(table, sheet_names, max_rows)


def _entries(table: _Table, sheet_names: list[str], max_rows: int) -> list[Entry]:
    """The contents lines of a table's sheets; a split table's say which rows each holds."""
    parts, entries = len(sheet_names), []
    for i, name in enumerate(sheet_names):
        low, high = i * max_rows + 1, min((i + 1) * max_rows, table.rows)
        note = (f"part {i + 1} of {parts}: rows {low:,}-{high:,} of {table.rows:,}"
                if parts > 1 else "")
        entries.append(Entry(name, table.source, table.content, high - low + 1,
                             len(table.header), note))
    return entries


def _chunks(frames: Iterable[pd.DataFrame], size: int) -> Iterator[tuple[int, pd.DataFrame]]:
    """(part, rows) pieces of consecutive frames, ``size`` rows to a part."""
    done = 0
    for frame in frames:
        start = 0
        while start < len(frame):
            part, filled = divmod(done, size)
            take = min(size - filled, len(frame) - start)
            yield part, frame.iloc[start:start + take]
            start += take
            done += take


def _sources(directory: Path) -> Iterator[Path]:
    """The files to export: a directory's own (plans, tables, JSON; by name), then its
    sub-directories'."""
    entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    files = [p for p in entries if p.is_file() and _kind(p) is not None]
    yield from sorted(files, key=lambda p: (_KINDS.index(str(_kind(p))), p.name))
    for sub in entries:
        if sub.is_dir():
            yield from _sources(sub)


def _kind(path: Path) -> str | None:
    if path.suffix == ".parquet":
        return "table"
    if path.suffix == ".json":
        return "json"
    if path.suffix in (".yaml", ".yml") and (
            path.stem == "plan" or path.stem.endswith("_plan") or path.parent.name == "plans"):
        return "plan"
    return None


def _tables(path: Path, relative: Path) -> list[_Table]:
    base = relative.with_suffix("").as_posix().replace("/", ".")
    source = relative.as_posix()
    kind = _kind(path)
    if kind == "table":
        return [_parquet_table(path, source, base)]
    if kind == "plan":
        return _plan_tables(load_plan(path), source, base)
    return [_frame_table(source, "key/value", base, _key_values(_read_json(path, source)))]


def _parquet_table(path: Path, source: str, base: str) -> _Table:
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise ExportError(f"{source}: cannot be read as parquet ({exc})") from None
    header = [str(c) for c in _frame(parquet.schema_arrow.empty_table()).columns]

    def frames() -> Iterator[pd.DataFrame]:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            yield _frame(pa.Table.from_batches([batch]))

    return _Table(source, "table", base, header, parquet.metadata.num_rows, frames)


def _frame(table: pa.Table) -> pd.DataFrame:
    """The table as pandas, with any stored index as ordinary columns."""
    frame = table.to_pandas()
    return frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index()


def _plan_tables(plan: Plan, source: str, base: str) -> list[_Table]:
    """A plan's summary, lines, containers and metrics, each a table."""
    lines = ("shipments", "fulfilment", "ad_spend")
    summary = plan.model_dump(mode="json", exclude={*lines, "containers", "metrics"})
    return [
        _frame_table(source, "plan summary", base, _key_values(summary)),
        _frame_table(source, "plan shipments", f"{base}.shipments",
                     _lines(plan.shipments, list(ShipmentLine.model_fields))),
        _frame_table(source, "plan fulfilment", f"{base}.fulfilment",
                     _lines(plan.fulfilment, list(FulfilmentLine.model_fields))),
        _frame_table(source, "plan ad spend", f"{base}.ad_spend",
                     _lines(plan.ad_spend, list(AdSpendLine.model_fields))),
        _frame_table(source, "plan containers", f"{base}.containers",
                     _containers(plan.containers)),
        _frame_table(source, "plan metrics", f"{base}.metrics", _key_values(plan.metrics)),
    ]


def _lines(lines: Sequence[ShipmentLine | FulfilmentLine | AdSpendLine],
           columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([line.model_dump() for line in lines], columns=columns)


def _containers(containers: dict[str, float]) -> pd.DataFrame:
    """One row per container key, split into lane, mode and week (no week: the whole
    season; a key of another shape is kept whole as the lane)."""
    rows: list[tuple[str, str | None, int | None, float]] = []
    for key, count in containers.items():
        match = _CONTAINER_KEY.fullmatch(key)
        if match is None:
            rows.append((key, None, None, count))
        else:
            week = int(match["week"]) if match["week"] else None
            rows.append((match["lane"], match["mode"], week, count))
    frame = pd.DataFrame(rows, columns=["lane", "mode", "week", "containers"])
    return frame.astype({"week": "Int64", "containers": "float64"})


def _key_values(data: Any) -> pd.DataFrame:
    return pd.DataFrame(list(flatten(data)), columns=["key", "value"], dtype=object)


def _frame_table(source: str, content: str, base: str, frame: pd.DataFrame) -> _Table:
    return _Table(source, content, base, [str(c) for c in frame.columns], len(frame),
                  lambda: iter([frame]))


def _read_json(path: Path, source: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"{source}: cannot be read as JSON ({exc})") from None
