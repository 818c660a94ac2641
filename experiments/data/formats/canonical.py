"""Canonical tables as files: one CSV per table, or a workbook with one tab per table (the
template a seller filled in). A tab named as a table is that table; any other sheet is the
table whose required columns its header holds best.

Cells are read strictly by each column's declared kind: a date that is not a date, a
number that is not a number, a count that is not whole, or an empty required cell rejects
the row and says why. Enumerations (``status``, ``kind``) are read case-insensitively.
"""

from __future__ import annotations

import pandas as pd

from experiments.data.formats import (
    Context,
    Format,
    Mapped,
    Problems,
    finish,
    missing_columns,
    share_present,
    with_names,
)
from experiments.data.formats.parsing import local_dates, numbers, whole_numbers
from experiments.data.formats.sources import Sheet
from experiments.data.tables import TABLES, Table

NAME = "canonical"
_ENUMS = ("status", "kind")
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def table_for(sheet: Sheet) -> tuple[str, float]:
    """The table a sheet holds and how sure that is (0-1)."""
    if sheet.name in TABLES:
        return sheet.name, 1.0
    header = sheet.header
    scored = [(share_present(header, t.required),
               sum(t.column(h) is not None for h in header), name) for name, t in TABLES.items()]
    share, _, name = max(scored)
    return name, share


def score(sheet: Sheet) -> float:
    return table_for(sheet)[1]


def read(sheet: Sheet, context: Context) -> Mapped:
    name = table_for(sheet)[0]
    table = TABLES[name]
    known = [c.name for c in table.columns] + [h for h in sheet.header if table.column(h)]
    frame = with_names(sheet.frame, known)
    problems = Problems(sheet)
    for column in sheet.header:
        if column.lower() not in {k.lower() for k in known}:
            problems.note(column, "unknown column, ignored", detail=f"(not in table {name})")
    if missing_columns(frame, table.required, problems):
        return finish(sheet, NAME, name, pd.DataFrame(index=frame.index), problems, context)
    return finish(sheet, NAME, name, _values(frame, table, problems, context), problems,
                  context)


def _values(frame: pd.DataFrame, table: Table, problems: Problems,
            context: Context) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = table.column(name)
        if column is None:
            continue
        text = frame[name]
        if column.kind == "str":
            out[name] = text.str.lower() if name in _ENUMS else text
        elif column.kind in ("int", "float"):
            values, bad = numbers(text)
            problems.reject(bad, name, "not a number", text)
            if column.kind == "int":
                problems.reject(problems.open(whole_numbers(values)), name,
                                "not a whole number", text)
            out[name] = values
        elif column.kind == "bool":
            out[name] = text.str.lower().map(_BOOLS)
            problems.reject(out[name].isna() & text.notna(), name, "not true or false", text)
        else:
            zones = context.timezones(frame["market"]) if "market" in frame.columns else None
            out[name], bad = local_dates(text, zones)
            problems.reject(bad, name, "bad date", text)
    return out


FORMAT = Format(NAME, score, read)
