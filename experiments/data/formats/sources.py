"""Files to sheets of text: a CSV or tab-separated file (gzip-compressed or not) is one
sheet, a workbook one per tab.

A workbook's README tab (the template's guide to its tables) holds no data and is skipped.
Every cell is read as text so that the importer, not the reader, decides what a bad value
is and says so. Rows are numbered as the user counts data rows: the first row under the
header is row 1 (a spreadsheet shows it as row 2), blank rows included, so that a problem's
row number finds the row in the file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.data.template import README as TEMPLATE_README

WORKBOOKS = (".xlsx", ".xlsm")
DELIMITERS = ("\t", ",", ";", "|")


class SourceError(Exception):
    """A file that cannot be read at all; ``str()`` is the one line a user sees."""


@dataclass(frozen=True, eq=False)
class Sheet:
    """One table of text from a file: a CSV, or one tab of a workbook."""

    label: str
    """How problems name it: the path as given, with ``[tab]`` for a workbook tab."""
    name: str | None
    """The workbook tab's name (None for a CSV)."""
    frame: pd.DataFrame
    """Every cell as text, empty cells missing, blank rows dropped (formats clean the
    columns they read)."""
    rows: np.ndarray
    """The 1-based data row of each frame row."""

    @property
    def header(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def read_sheets(path: Path) -> list[Sheet]:
    """The sheets of a file; raises SourceError when it cannot be read."""
    if not path.is_file():
        raise SourceError("no such file")
    if path.suffix.lower() == ".xls":
        raise SourceError("old .xls workbooks cannot be read: save it as .xlsx or CSV")
    if path.suffix.lower() in WORKBOOKS:
        return _workbook(path)
    return [_sheet(str(path), None, _delimited(path))]


def _delimited(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":   # gzip, whatever the file is called
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(f"damaged gzip file: {exc}") from None
    if not data.strip():
        raise SourceError("empty file")
    try:
        data.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"
    first_line = data.split(b"\n", 1)[0].decode(encoding, errors="replace")
    delimiter = max(DELIMITERS, key=first_line.count)
    end = len(data) - (len(data[-4096:]) - len(data[-4096:].rstrip()))
    blank_lines = data.find(b"\n\n", 0, end) >= 0 or data.find(b"\n\r\n", 0, end) >= 0
    options: dict[str, Any] = {"sep": delimiter, "dtype": str, "encoding": encoding,
                               "keep_default_na": False, "na_values": [""]}
    try:
        if not blank_lines:
            try:
                return pd.read_csv(io.BytesIO(data), engine="pyarrow", **options)
            except Exception:  # the C reader below tells what is wrong, with its line
                pass
        return pd.read_csv(io.BytesIO(data), skip_blank_lines=False, quotechar='"',
                           **options)
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceError(f"cannot be read as a table: {str(exc).strip()}") from None


def _workbook(path: Path) -> list[Sheet]:
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SourceError(f"cannot be read as a workbook: {exc}") from None
    return [_sheet(f"{path}[{name}]", str(name), frame) for name, frame in book.items()
            if len(frame.columns) and str(name).lower() != TEMPLATE_README.lower()]


def _sheet(label: str, name: str | None, frame: pd.DataFrame) -> Sheet:
    frame = frame.rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    rows = np.arange(1, len(frame) + 1)
    filled = frame.notna().any(axis=1).to_numpy()
    if not filled.all():
        frame, rows = frame[filled].reset_index(drop=True), rows[filled]
    return Sheet(label, name, frame.astype("str"), rows)

