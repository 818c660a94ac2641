"""The empty workbook a seller fills with their own data, and the same tables as CSV.

A seller starts from ``xbsim_data.xlsx``: a README sheet says what the workbook is for, how
to fill it, which tables are required, and documents every column (meaning, unit, type,
whether required, an example); then one sheet per canonical table
(``experiments.data.tables``) holds just its header row, ready to paste into. The
``price_<MARKET>`` family of ``skus`` becomes one column per market sold in. ``csv/`` holds
the same headers, one file per table, for sellers who export from other systems.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

from openpyxl import Workbook

from experiments.data.excel import bold, set_widths, start_sheet
from experiments.data.tables import HISTORY, MASTER, TABLES, Column, Table, pattern_regex
from experiments.errors import ExperimentError
from sim.atomic import atomic_write

WORKBOOK = "xbsim_data.xlsx"
CSV_DIRECTORY = "csv"
README = "README"
DEFAULT_MARKETS = ("US", "DE", "UK")
REQUIRED_TABLES = ("skus",)
COLUMNS_HEADER = ("table", "column", "meaning", "unit", "type", "required", "example")
README_WIDTHS = (18, 26, 70, 18, 18, 10, 24)
TYPES = {"str": "text", "int": "whole number", "float": "number",
         "date": "date (YYYY-MM-DD)", "bool": "TRUE or FALSE"}
_PLACEHOLDER = re.compile(r"<[A-Z]+>")


class TemplateError(ExperimentError):
    """Markets the template cannot name columns after."""


def write_template(directory: Path, markets: list[str]) -> list[Path]:
    """Write ``directory/xbsim_data.xlsx`` and ``directory/csv/<table>.csv`` (headers only),
    atomically, one price column per market; returns the paths written."""
    _check_markets(markets)
    directory = Path(directory)
    tables = {name: columns(table, markets) for name, table in TABLES.items()}
    workbook_path = directory / WORKBOOK
    atomic_write(workbook_path, lambda tmp: _workbook(tables, markets).save(tmp))
    written = [workbook_path]
    for name, table_columns in tables.items():
        written.append(_write_csv_header(directory / CSV_DIRECTORY / f"{name}.csv",
                                         [column.name for column in table_columns]))
    return written


def columns(table: Table, markets: list[str]) -> list[Column]:
    """The table's columns in order, then its pattern column once per market."""
    out = list(table.columns)
    if table.pattern is not None:
        pattern = table.pattern
        out += [replace(pattern, name=_PLACEHOLDER.sub(market, pattern.name))
                for market in markets]
    return out


def _check_markets(markets: list[str]) -> None:
    """Markets must name columns the importer will recognise as the pattern's."""
    if not markets:
        raise TemplateError("name at least one market")
    if len(set(markets)) < len(markets):
        raise TemplateError(f"markets named twice: {', '.join(markets)}")
    for table in TABLES.values():
        if table.pattern is None:
            continue
        regex = pattern_regex(table.pattern)
        bad = [m for m, c in zip(markets, columns(table, markets)[len(table.columns):],
                                 strict=True) if not regex.fullmatch(c.name)]
        if bad:
            raise TemplateError(f"market codes may hold only letters, digits and _, not "
                                f"{', '.join(map(repr, bad))}")


def _workbook(tables: dict[str, list[Column]], markets: list[str]) -> Workbook:
    workbook = Workbook(write_only=True)
    _readme(workbook, tables, markets)
    for name, table_columns in tables.items():
        start_sheet(workbook, name, [column.name for column in table_columns],
                    notes=[_note(column) for column in table_columns])
    return workbook


def _note(column: Column) -> str:
    """The header cell's hover text: what to write in the column."""
    unit = f" ({column.unit})" if column.unit else ""
    need = "required" if column.required else "optional"
    example = f"; e.g. {column.example}" if column.example else ""
    return f"{column.meaning}{unit}\n{TYPES[column.kind]}, {need}{example}"


def _example(column: Column) -> object:
    """The example as Excel should hold it: numbers as numbers."""
    if not column.example:
        return None
    if column.kind == "float":
        return float(column.example)
    if column.kind == "int":
        return int(column.example)
    return column.example


def _readme(workbook: Workbook, tables: dict[str, list[Column]], markets: list[str]) -> None:
    sheet = workbook.create_sheet(README)
    set_widths(sheet, README_WIDTHS)
    optional = [name for name in MASTER if name not in REQUIRED_TABLES]
    intro = [
        "xbsim data workbook: your business in the tables a scenario is fitted from.",
        "Fill one sheet per table, one row per record, below the header row; keep the "
        "header names as they are. Leave a sheet empty if you have no such data.",
        "Required: skus (one row per product), and as much history as you have: "
        f"{', '.join(HISTORY)}. The more history, the better the fit.",
        f"Optional: {', '.join(optional)} and state; what they leave out is taken from "
        "the base scenario.",
        f"Prices: one price_<MARKET> column per market ({', '.join(markets)}), in the "
        "market's currency, VAT included.",
        "Dates as YYYY-MM-DD (or Excel dates); money in the unit the column names; "
        "shares as 0-1, not percent.",
    ]
    sheet.append([bold(sheet, intro[0])])
    for line in intro[1:]:
        sheet.append([line])
    sheet.append([])
    sheet.append([bold(sheet, "Tables")])
    for name, table in TABLES.items():
        needed = "required" if name in REQUIRED_TABLES else (
            "history" if table.history else "optional")
        key = f" Key: {', '.join(table.key)}." if table.key else ""
        sheet.append([name, needed, f"{table.description}{key}"])
    sheet.append([])
    sheet.append([bold(sheet, "Columns")])
    sheet.append([bold(sheet, title) for title in COLUMNS_HEADER])
    for name, table_columns in tables.items():
        for column in table_columns:
            sheet.append([name, column.name, column.meaning, column.unit or None,
                          TYPES[column.kind], "yes" if column.required else "no",
                          _example(column)])


def _write_csv_header(path: Path, columns: list[str]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    text = buffer.getvalue()
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
