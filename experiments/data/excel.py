"""Excel cells that hold a table's values exactly, and sheets a planner can read at once.

A workbook is where many sellers look at numbers, so what goes into a cell must read back as
what was written: numbers as numbers, dates as dates, text as text. Excel falls short in a
few places, and each is handled here once rather than by every writer:

- integers beyond 2**53 (random seeds) would be rounded by Excel's doubles: such a column is
  written as text, digit for digit;
- NaN and missing values are empty cells; infinities are the text ``inf`` / ``-inf``;
- text that Excel would take for a formula (``=...``) or an error code (``#N/A``) stays
  text; characters XML cannot carry are dropped; at most 32,767 characters are kept;
- time zones are dropped (local wall time is kept), durations become days;
- a date column whose values all fall on midnight is shown as dates, else as date-times.

Sheets are written in openpyxl's write-only mode (rows streamed to disk), with a bold,
frozen header row and column widths set from the header.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MAX_ROWS = 1_048_576
"""Rows of an Excel sheet, the header row included."""
MAX_COLUMNS = 16_384
MAX_SHEET_NAME = 31
MAX_TEXT = 32_767
MAX_WIDTH = 50
"""Widest column set, in characters."""
EXACT_INT = 2**53
"""Largest integer an Excel number (a double) holds exactly."""

_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
_RESERVED = {"history"}
"""Sheet names Excel keeps for itself (compared in lower case)."""


class SheetNames:
    """Hands out sheet names Excel accepts: at most 31 characters, none of ``[]:*?/\\``,
    unique regardless of case (a clash gets ``~2``, ``~3``, ...)."""

    def __init__(self) -> None:
        self._taken: set[str] = set(_RESERVED)

    def take(self, base: str, suffix: str = "") -> str:
        stem = _BAD_NAME.sub("_", base).strip("'") or "sheet"
        name = self._fit(stem, suffix)
        n = 1
        while name.lower() in self._taken:
            n += 1
            name = self._fit(stem, f"{suffix}~{n}")
        self._taken.add(name.lower())
        return name

    @staticmethod
    def _fit(stem: str, suffix: str) -> str:
        return stem[:MAX_SHEET_NAME - len(suffix)].rstrip("'") + suffix


def start_sheet(workbook: Workbook, name: str, header: Sequence[str],
                widths: Sequence[float] | None = None,
                notes: Sequence[str] = ()) -> WriteOnlyWorksheet:
    """A new write-only sheet with its header row bold and frozen; columns ``widths`` wide
    (default: as wide as their names); ``notes`` are the header cells' hover texts."""
    sheet = workbook.create_sheet(name)
    set_widths(sheet, widths or [_width(len(str(column))) for column in header])
    sheet.freeze_panes = "A2"
    cells = [bold(sheet, str(column)) for column in header]
    for cell, note in zip(cells, notes, strict=False):
        cell.comment = Comment(note, "xbsim", width=300, height=100)
    sheet.append(cells)
    return sheet


def fitting_widths(frame: pd.DataFrame, sample: int = 100) -> list[float]:
    """Widths that show each column's name and its first ``sample`` values, so that dates
    are not shown as ``###``."""
    widths = []
    for name in frame.columns:
        column = frame[name].head(sample).dropna()
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            midnight = (column == column.dt.normalize()).all()
            shown = 10 if midnight else 19
        elif pd.api.types.is_float_dtype(column.dtype):
            shown = max((len(f"{v:.10g}") for v in column), default=0)
        else:
            shown = max((len(str(v)) for v in column), default=0)
        widths.append(_width(max(len(str(name)), shown)))
    return widths


def _width(characters: int) -> float:
    return min(max(characters + 2, 10), MAX_WIDTH)


def set_widths(sheet: WriteOnlyWorksheet, widths: Sequence[float]) -> None:
    """Column widths in characters, first column first (before any row is written)."""
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def bold(sheet: WriteOnlyWorksheet, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.font = Font(bold=True)
    return cell


def frame_rows(frame: pd.DataFrame, sheet: WriteOnlyWorksheet) -> Iterator[list[object]]:
    """The frame's rows as cell values for ``sheet``, converted column by column."""
    columns = [column_values(frame[name], sheet) for name in frame.columns]
    return (list(row) for row in zip(*columns, strict=True))


def column_values(series: pd.Series, sheet: WriteOnlyWorksheet) -> list[object]:
    """One column as values Excel holds exactly (see the module docstring)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _objects(series.astype(object), sheet)
    if pd.api.types.is_bool_dtype(dtype):
        return _with_none(series.astype(object), series.notna())
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _dates(series)
    if pd.api.types.is_timedelta64_dtype(dtype):
        return _with_none((series / pd.Timedelta(days=1)).astype(object), series.notna())
    if pd.api.types.is_integer_dtype(dtype):
        return _integers(series)
    if pd.api.types.is_float_dtype(dtype):
        return _floats(series)
    return _objects(series, sheet)


def cell_value(value: Any, sheet: WriteOnlyWorksheet) -> object:
    """One Python value as a cell value; lists and dicts become JSON text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value) if abs(int(value)) < EXACT_INT else str(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else _not_finite(float(value))
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dt.timedelta | pd.Timedelta):
        return value / dt.timedelta(days=1)
    if isinstance(value, str):
        return text(value, sheet)
    if isinstance(value, list | tuple | dict):
        return text(json.dumps(value, default=str), sheet)
    return text(str(value), sheet)


def text(value: str, sheet: WriteOnlyWorksheet) -> object:
    """A string cell that stays a string, whatever it starts with."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_TEXT]
    if (len(value) > 1 and value.startswith("=")) or value in ERROR_CODES:
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def _with_none(values: pd.Series, present: pd.Series) -> list[object]:
    return values.where(present.to_numpy(), None).tolist()


def _integers(series: pd.Series) -> list[object]:
    present = series.notna()
    values = series[present]
    if len(values) and (values.max() >= EXACT_INT or values.min() <= -EXACT_INT):
        return _with_none(series.astype(object).map(str, na_action="ignore"), present)
    return _with_none(series.astype(object), present)


def _floats(series: pd.Series) -> list[object]:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    out: list[object] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)):
        out[i] = _not_finite(float(values[i]))
    return out


def _not_finite(value: float) -> str | None:
    """NaN is an empty cell; an infinity, which Excel cannot hold, is text."""
    return None if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _dates(series: pd.Series) -> list[object]:
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    present = series.notna()
    midnight = bool((series[present] == series[present].dt.normalize()).all())
    values = series.dt.date if midnight else pd.Series(series.dt.to_pydatetime(),
                                                       index=series.index, dtype=object)
    return _with_none(values.astype(object), present)


def _objects(series: pd.Series, sheet: WriteOnlyWorksheet) -> list[object]:
    return [cell_value(value, sheet) for value in series.tolist()]


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested dicts and lists as (dotted key, value) pairs: ``costs_cny.total``,
    ``replication_seeds.0``; an empty dict or list is one pair with ``{}`` or ``[]``."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    else:
        yield prefix, data
        return
    empty = True
    for key, value in items:
        empty = False
        yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    if empty:
        yield prefix, "{}" if isinstance(data, dict) else "[]"
