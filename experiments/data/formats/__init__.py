"""Formats of a seller's files, and what they share: the context, problems and the checks.

A format is recognised by its header alone (``Format.score``: the share of its signature
columns present, so a file missing a column is still recognised and the missing column
reported), then ``Format.read`` maps the sheet to a canonical table. Problems are found
column by column with boolean masks; a row with a problem that makes it unusable is
*rejected* (left out, and counted), other problems are warnings. ``finish`` applies the
checks every canonical table shares, so each format only says how its columns map.

Rows keep ``_row`` (the first source row they come from) and ``_rows`` (how many source
rows they stand for: an ad report's campaign rows are summed per day and market), so that
cross-file checks can still name a row and the summary still adds up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from experiments.data.formats.parsing import DEFAULT_CURRENCIES, DEFAULT_TIMEZONES, clean_text
from experiments.data.formats.sources import Sheet
from experiments.data.tables import TABLES

DEFAULT_AD_CHANNEL = "marketplace_ppc"
PROBLEM_COLUMNS = ["file", "row", "column", "problem", "reason", "rejects"]
ORDER_STATUSES = ("shipped", "cancelled")


@dataclass(frozen=True)
class MarketInfo:
    currency: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Context:
    """What the seller's master data (or base scenario) says, used to map and check rows."""

    skus: frozenset[str] | None = None
    """Known SKUs; None when neither a skus table nor a scenario tells them."""
    markets: Mapping[str, MarketInfo] = field(default_factory=dict)
    """The seller's markets; empty when unknown (then any market code is accepted)."""
    overseas: Mapping[str, str] = field(default_factory=dict)
    """The overseas warehouse serving each market (Amazon-fulfilled orders ship from it)."""
    ad_channel: str = DEFAULT_AD_CHANNEL
    channels: frozenset[str] | None = None
    """The scenario's ad channels, when a scenario is given."""

    def timezone(self, market: str) -> str | None:
        info = self.markets.get(market)
        return (info.timezone if info and info.timezone else None) or \
            DEFAULT_TIMEZONES.get(market)

    def timezones(self, markets: pd.Series) -> pd.Series:
        """Each row's time zone (missing when its market has none)."""
        zones = {m: self.timezone(m) for m in markets.dropna().unique()}
        return markets.map(zones)

    def currency(self, market: str) -> str | None:
        info = self.markets.get(market)
        return (info.currency if info and info.currency else None) or \
            DEFAULT_CURRENCIES.get(market)

    def markets_using(self, currency: str) -> list[str]:
        """Markets selling in ``currency``: the seller's own, else the default markets."""
        pool = self.markets or DEFAULT_CURRENCIES
        return sorted(m for m in pool if self.currency(m) == currency)


def problem_lines(file: str | pd.Series, row: pd.Series | None, column: str, reason: str,
                  values: pd.Series | None = None, rejects: bool = True,
                  detail: str = "") -> pd.DataFrame:
    """One problem line per row of ``row`` (or one file-level line when ``row`` is None)."""
    after = (f" {detail}" if detail else "") + (" (row rejected)" if rejects else "")
    if row is None:
        after = after.replace("(row rejected)", "(file not used)")
        return pd.DataFrame([[file, pd.NA, column, reason + after, reason, rejects]],
                            columns=PROBLEM_COLUMNS)
    problem: object = reason + after
    if values is not None:
        shown = values.map("{:g}".format) if values.dtype.kind == "f" else values.astype("str")
        problem = (reason + " '" + shown.fillna("") + "'" + after).to_numpy()
    return pd.DataFrame({"file": file, "row": row.to_numpy(), "column": column,
                         "problem": problem, "reason": reason, "rejects": rejects})


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PROBLEM_COLUMNS})


class Problems:
    """The problems of one sheet, and which of its rows they reject."""

    def __init__(self, sheet: Sheet) -> None:
        self.label, self.rows = sheet.label, sheet.rows
        self.rejected = np.zeros(len(sheet.rows), dtype=bool)
        self._lines: list[pd.DataFrame] = []

    def reject(self, mask: pd.Series | np.ndarray, column: str, reason: str,
               values: pd.Series | None = None, detail: str = "") -> None:
        self._add(np.asarray(mask, dtype=bool), column, reason, values, True, detail)

    def warn(self, mask: pd.Series | np.ndarray, column: str, reason: str,
             values: pd.Series | None = None, detail: str = "") -> None:
        self._add(np.asarray(mask, dtype=bool), column, reason, values, False, detail)

    def note(self, column: str, reason: str, rejects: bool = False, detail: str = "") -> None:
        """A problem of the whole sheet (no row); ``rejects`` rejects every row."""
        self._lines.append(problem_lines(self.label, None, column, reason, None, rejects,
                                         detail))
        if rejects:
            self.rejected[:] = True

    def open(self, mask: pd.Series | np.ndarray) -> np.ndarray:
        """``mask`` restricted to rows not rejected yet (one reason per row suffices)."""
        return np.asarray(mask, dtype=bool) & ~self.rejected

    def frame(self) -> pd.DataFrame:
        return pd.concat(self._lines, ignore_index=True) if self._lines else empty_problems()

    def _add(self, mask: np.ndarray, column: str, reason: str, values: pd.Series | None,
             rejects: bool, detail: str) -> None:
        if not mask.any():
            return
        picked = None if values is None else values[mask]
        self._lines.append(problem_lines(self.label, pd.Series(self.rows[mask]), column,
                                         reason, picked, rejects, detail))
        if rejects:
            self.rejected |= mask


@dataclass
class Mapped:
    """One sheet mapped to one canonical table."""

    label: str
    format: str
    table: str
    frame: pd.DataFrame
    """Canonical columns plus ``_row`` and ``_rows``; rejected rows left out."""
    rows_read: int
    problems: pd.DataFrame


@dataclass(frozen=True)
class Format:
    """A kind of file: how well a header matches it (0-1) and how to read it."""

    name: str
    score: Callable[[Sheet], float]
    read: Callable[[Sheet, Context], Mapped]


def share_present(header: Iterable[str], signature: Iterable[str]) -> float:
    """Share of the signature columns present in the header (case and spaces ignored)."""
    have = {h.strip().lower() for h in header}
    wanted = [s.lower() for s in signature]
    return sum(w in have for w in wanted) / len(wanted)


def with_names(frame: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """The columns of ``frame`` that are ``names`` (but for case), so spelt, as clean text
    (stripped, empty cells missing); the others are not read."""
    spelling = {n.lower(): n for n in names}
    picked = {c: spelling[str(c).lower()] for c in frame.columns if str(c).lower() in spelling}
    return frame[list(picked)].rename(columns=picked).apply(clean_text)


def missing_columns(frame: pd.DataFrame, required: Iterable[str], problems: Problems) -> bool:
    """Report each missing required column (every row is rejected); True if any."""
    missing = [c for c in required if c not in frame.columns]
    for column in missing:
        problems.note(column, "missing required column", rejects=True)
    return bool(missing)


def finish(sheet: Sheet, fmt: str, table: str, frame: pd.DataFrame, problems: Problems,
           context: Context, source: Mapping[str, str] | None = None) -> Mapped:
    """Apply the checks every table shares, drop rejected rows, and wrap the result.

    ``frame`` holds canonical values aligned with the sheet's rows; ``source`` names the
    file's column each canonical column comes from, so problems name the user's column.
    """
    spec = TABLES[table]
    named = dict(source or {})
    for column in spec.required:
        if column in frame.columns:
            problems.reject(problems.open(frame[column].isna()), named.get(column, column),
                            "missing value")
    for name in frame.columns:
        column_spec = spec.column(name)
        if column_spec is not None and column_spec.kind in ("int", "float"):
            negative = problems.open(frame[name] < 0)
            problems.reject(negative, named.get(name, name), f"negative {name}", frame[name])
    if table == "orders":
        _order_rules(frame, problems, named)
    if context.skus is not None and "sku" in frame.columns:
        unknown = problems.open(frame["sku"].notna() & ~frame["sku"].isin(context.skus))
        problems.reject(unknown, named.get("sku", "sku"), "unknown SKU", frame["sku"])
    if context.markets and "market" in frame.columns:
        known = sorted(context.markets)
        unknown = problems.open(frame["market"].notna() & ~frame["market"].isin(known))
        problems.reject(unknown, named.get("market", "market"), "unknown market",
                        frame["market"], detail=f"(known: {', '.join(known)})")
    ordered = [c.name for c in spec.columns if c.name in frame.columns]
    ordered += [c for c in frame.columns if c not in ordered]
    kept = frame.loc[~problems.rejected, ordered].copy()
    kept["_row"] = sheet.rows[~problems.rejected]
    kept["_rows"] = 1
    return Mapped(sheet.label, fmt, table, kept.reset_index(drop=True), len(sheet.rows),
                  problems.frame())


def _order_rules(frame: pd.DataFrame, problems: Problems, named: dict[str, str]) -> None:
    if "status" in frame.columns:
        bad = problems.open(frame["status"].notna() & ~frame["status"].isin(ORDER_STATUSES))
        problems.reject(bad, named.get("status", "status"), "unknown status", frame["status"],
                        detail="(shipped or cancelled)")
    if "quantity" in frame.columns:
        zero = frame["quantity"] == 0
        if "status" in frame.columns:
            zero &= frame["status"] != "cancelled"
        problems.reject(problems.open(zero), named.get("quantity", "quantity"), "zero quantity")
