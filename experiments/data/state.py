"""The seller's opening state from a file: what ``--state FILE`` reads.

A state file holds the canonical ``state`` table (``experiments.data.tables``): a CSV file,
the ``state`` sheet of an xlsx workbook, or parquet. ``read_state`` checks its columns and
keeps its rows as a ``StateTable``, small and picklable, so that every replication on any
worker starts from the same rows; ``StateTable.opening`` turns them into the simulation's
``sim.state.OpeningState`` for one scenario: an expected date becomes a day counted from
the scenario's ``horizon.start_date``, names and lanes are checked against the scenario.

    kind        location     sku   units              origin, mode   expected_date
    on_hand     warehouse    SKU   units              -              - (on the shelves now)
    in_transit  warehouse    SKU   units              lane's origin  arrival
                                                      and mode
    open_po     supplier     SKU   units              -              ready at the supplier
    backlog     market       SKU   units waiting      -              -
    adstock     ad channel   -     CNY per day        -              -

Every problem is one line naming the file, the row (as a spreadsheet numbers it, the header
being row 1; parquet rows count from 1) and the column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.data.tables import TABLES
from experiments.errors import ExperimentError
from sim.scenario import Scenario
from sim.state import (
    Adstock,
    Backorder,
    InTransit,
    Item,
    OnHand,
    OpeningState,
    OpenOrder,
    StateError,
)

COLUMNS = tuple(column.name for column in TABLES["state"].columns)
REQUIRED = tuple(TABLES["state"].required)
NEEDS = {"on_hand": ("sku",), "in_transit": ("sku", "origin", "mode", "expected_date"),
         "open_po": ("sku", "expected_date"), "backlog": ("sku",), "adstock": ()}
"""The columns each kind of row must fill, besides kind, location and units."""
DATED = ("in_transit", "open_po")
COLUMN_OF = {"warehouse": "location", "supplier": "location", "market": "location",
             "channel": "location", "arrival_day": "expected_date",
             "ready_day": "expected_date", "cny_per_day": "units"}
"""The file's column for each field of ``sim.state`` (the others share its name)."""


class StateFileError(ExperimentError):
    """A state file that cannot be used: ``FILE: row R, column C: reason``."""

    def __init__(self, file: str | Path, reason: str, row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.reason, self.row, self.column = str(file), reason, row, column
        where = ", ".join(part for part in (f"row {row}" if row is not None else "",
                                            f"column {column}" if column else "") if part)
        super().__init__(f"{self.file}: {where + ': ' if where else ''}{reason}")


@dataclass(frozen=True, eq=False)
class StateTable:
    """The rows of a state file, as read (text, numbers and dates), and where they are."""

    file: str
    rows: pd.DataFrame
    first_row: int
    """The row number of the first data row (2 below a header row, 1 in parquet)."""

    def fingerprint(self) -> str:
        """A hash of the rows: two files with the same rows start runs the same way."""
        text = self.rows.to_csv(index=False, date_format="%Y-%m-%d")
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def opening(self, scenario: Scenario) -> OpeningState:
        """The rows as the simulation's opening state for ``scenario``."""
        items: list[Item] = []
        channels: set[str] = set()
        for i, record in enumerate(self.rows.to_dict("records")):
            row = self.first_row + i
            item = self._item(record, row, scenario.horizon.start_date)
            try:
                item.check(scenario)
            except StateError as exc:
                raise StateFileError(self.file, exc.reason, row,
                                     COLUMN_OF.get(exc.field, exc.field)) from None
            if isinstance(item, Adstock):
                if item.channel in channels:
                    raise StateFileError(self.file, f"adstock of {item.channel} given twice",
                                         row, "location")
                channels.add(item.channel)
            items.append(item)
        return OpeningState(
            on_hand=tuple(i for i in items if isinstance(i, OnHand)),
            in_transit=tuple(i for i in items if isinstance(i, InTransit)),
            open_orders=tuple(i for i in items if isinstance(i, OpenOrder)),
            backlog=tuple(i for i in items if isinstance(i, Backorder)),
            adstock=tuple(i for i in items if isinstance(i, Adstock)))

    def _item(self, record: dict[str, Any], row: int, start: dt.date) -> Item:
        def fail(column: str, reason: str) -> StateFileError:
            return StateFileError(self.file, reason, row, column)

        kind = _text(record.get("kind"))
        if kind not in NEEDS:
            raise fail("kind", f"'{kind or ''}' is not one of {', '.join(NEEDS)}")
        location = _text(record.get("location"))
        if location is None:
            raise fail("location", "is empty")
        for column in NEEDS[kind]:
            if _text(record.get(column)) is None:
                raise fail(column, f"is empty ({kind} rows need it)")
        units = _number(record.get("units"))
        if units is None:
            raise fail("units", f"'{record.get('units')}' is not a number")
        if kind == "adstock":
            return Adstock(location, units)
        if units != math.floor(units):
            raise fail("units", f"{units:g} is not a whole number of units")
        sku = str(_text(record.get("sku")))
        if kind not in DATED:
            if _text(record.get("expected_date")) is not None:
                raise fail("expected_date", f"a {kind} row has no expected date")
            if kind == "on_hand":
                return OnHand(location, sku, int(units))
            return Backorder(location, sku, int(units))
        day = _day(record.get("expected_date"), start)
        if day is None:
            raise fail("expected_date", f"'{record.get('expected_date')}' is not a date")
        if kind == "open_po":
            return OpenOrder(location, sku, int(units), day)
        return InTransit(str(_text(record.get("origin"))), location,
                         str(_text(record.get("mode"))), sku, int(units), day)


def _text(value: Any) -> str | None:
    """A cell as stripped text; None when empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    text = _text(value)
    try:
        number = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _day(value: Any, start: dt.date) -> int | None:
    """Days from ``start`` to the date in a cell (text, date or timestamp)."""
    if _text(value) is None:
        return None
    try:
        date = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(date):
        return None
    return (date.date() - start).days


def read_state(file: str | Path) -> StateTable:
    """The rows of a state file (``.csv``, ``.xlsx`` sheet ``state``, ``.parquet``)."""
    path = Path(file)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        raise StateFileError(path, "a state file is .csv, .xlsx (sheet 'state') or .parquet")
    try:
        if suffix == ".csv":
            rows, first = pd.read_csv(path, dtype=str, keep_default_na=False), 2
        elif suffix == ".xlsx":
            rows, first = pd.read_excel(path, sheet_name="state", dtype=object), 2
        else:
            rows, first = pd.read_parquet(path), 1
    except FileNotFoundError:
        raise StateFileError(path, "no such file") from None
    except Exception as exc:  # a parser's complaint: no 'state' sheet, a damaged file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StateFileError(path, f"cannot be read ({reason})") from None
    rows.columns = [str(c).strip() for c in rows.columns]
    for column in rows.columns:
        if column not in COLUMNS:
            raise StateFileError(path, f"is not a state column (columns: "
                                       f"{', '.join(COLUMNS)})", column=column)
    for column in REQUIRED:
        if column not in rows.columns:
            raise StateFileError(path, "is missing", column=column)
    return StateTable(str(path), rows.reset_index(drop=True), first)


def load_state(file: str | Path, scenario: Scenario) -> OpeningState:
    """A state file read for ``scenario`` (``StateFileError`` if anything is wrong)."""
    return read_state(file).opening(scenario)
