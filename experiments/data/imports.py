"""Import a seller's files into canonical tables (``xbsim import SOURCES... --out DIR``).

Each file is recognised by its header, whatever its name: canonical tables (CSV, or the
filled-in template workbook), an Amazon "All Orders" report, a Shopify orders export or an
Amazon Sponsored Products report (``experiments.data.formats``). Master tables are read
first, because they tell how to read the rest: the skus table (or the base scenario) which
SKUs exist, the markets table each market's currency and time zone, the warehouses table
which overseas warehouse ships a market's Amazon-fulfilled orders.

Then the checks that need every file at once: an order line (order_id, sku) or any keyed row
seen twice is rejected after its first sight, even in another file; days with no orders at
all inside the period are reported as ranges; a market sold in several currencies, or in
another than its own, is reported; cancelled orders are kept (status cancelled) and counted.

A row rejected is left out and counted with its reason; every other problem is a warning.
The import is usable when any row of any table remains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.data.formats import (
    DEFAULT_AD_CHANNEL,
    PROBLEM_COLUMNS,
    Context,
    Format,
    Mapped,
    MarketInfo,
    ad_report,
    amazon_orders,
    canonical,
    empty_problems,
    problem_lines,
    shopify_orders,
)
from experiments.data.formats.sources import Sheet, SourceError, read_sheets
from experiments.data.tables import MASTER, TABLES, write_table
from sim.atomic import atomic_write
from sim.scenario import OverseasWarehouse, Scenario

FORMATS: tuple[Format, ...] = (canonical.FORMAT, amazon_orders.FORMAT, shopify_orders.FORMAT,
                               ad_report.FORMAT)
MIN_SCORE = 0.5
"""Least share of a format's signature columns a header must hold to be read as it."""
SUMMARY_COLUMNS = ["file", "format", "table", "rows_read", "rows_used", "rows_rejected"]
ALL_FILES = "(all files)"


@dataclass(frozen=True)
class ImportResult:
    tables: dict[str, pd.DataFrame]
    """Canonical tables with at least one row."""
    summary: pd.DataFrame
    """SUMMARY_COLUMNS plus ``cancelled``, one row per file (workbook: per tab)."""
    problems: pd.DataFrame
    """PROBLEM_COLUMNS: ``reason`` is the short kind of problem, ``rejects`` whether the
    row was left out; ``row`` is missing for a problem of a whole file or of all files."""

    @property
    def usable(self) -> bool:
        return bool(self.tables)

    def rejections(self, file: str) -> dict[str, int]:
        """Problem lines that rejected rows of ``file``, per reason."""
        lines = self.problems[(self.problems["file"] == file) & self.problems["rejects"]]
        return lines.groupby("reason", sort=False).size().astype(int).to_dict()


def import_sources(paths: Sequence[Path], scenario: Scenario | None = None,
                   ad_channel: str = DEFAULT_AD_CHANNEL) -> ImportResult:
    """Read, map and check every source; nothing is written."""
    recognised, summary, problems = _recognised(paths)
    is_master = [f is canonical.FORMAT and canonical.table_for(s)[0] in MASTER
                 for _, s, f in recognised]
    firsts = [(n, f.read(s, Context(ad_channel=ad_channel)))
              for (n, s, f), master in zip(recognised, is_master, strict=True) if master]
    context = _context(scenario, [m for _, m in firsts], ad_channel)
    mapped = firsts + [(n, f.read(s, context))
                       for (n, s, f), master in zip(recognised, is_master, strict=True)
                       if not master]
    tables, checks = _combined([m for _, m in mapped], context)
    if context.channels is not None and "ad_spend" in tables \
            and ad_channel not in context.channels:
        checks.append(problem_lines(ALL_FILES, None, "channel", "ad channel not in the "
                                    "scenario", None, False, f"'{ad_channel}' (channels: "
                                    f"{', '.join(sorted(context.channels)) or 'none'})"))
    used = {name: frame.groupby("_src")["_rows"].sum() for name, frame in tables.items()}
    for i, (n, m) in enumerate(mapped):
        rows_used = int(used.get(m.table, pd.Series(dtype=int)).get(i, 0))
        cancelled = 0
        if m.table == "orders" and "orders" in tables:
            orders = tables["orders"]
            cancelled = int(((orders["_src"] == i) & (orders["status"] == "cancelled")).sum())
        summary[n] = _row(m.label, m.format, m.table, m.rows_read, rows_used, cancelled)
        problems[n] = [m.problems.sort_values("row", na_position="first", kind="stable")]
        if cancelled:
            problems[n].append(problem_lines(m.label, None, "status", "cancelled orders", None,
                                             False, f"({_lines(cancelled)} kept with status "
                                             "cancelled)"))
    lines = [p for n in sorted(problems) for p in problems[n] if len(p)]
    lines += [p for p in checks if len(p)]
    kept = {name: frame.drop(columns=["_src", "_row", "_rows"]) for name, frame in tables.items()
            if len(frame)}
    return ImportResult(kept, pd.DataFrame([summary[n] for n in sorted(summary)],
                                           columns=[*SUMMARY_COLUMNS, "cancelled"]),
                        _typed_problems(pd.concat(lines, ignore_index=True) if lines
                                        else empty_problems()))


def _recognised(paths: Sequence[Path]) -> tuple[list[tuple[int, Sheet, Format]],
                                                dict[int, dict[str, object]],
                                                dict[int, list[pd.DataFrame]]]:
    """Every sheet of every file with its format, numbered in the order given; the files
    and sheets that cannot be used get their summary row and problem already."""
    recognised: list[tuple[int, Sheet, Format]] = []
    summary: dict[int, dict[str, object]] = {}
    problems: dict[int, list[pd.DataFrame]] = {}
    for path in paths:
        n = len(recognised) + len(summary)
        try:
            sheets = read_sheets(Path(path))
        except SourceError as exc:
            problems[n] = [problem_lines(str(path), None, "", "unreadable file", None, True,
                                         f"({exc})")]
            summary[n] = _row(str(path), "unreadable", "", 0, 0)
            continue
        for sheet in sheets:
            n = len(recognised) + len(summary)
            fmt, score = max(((f, f.score(sheet)) for f in FORMATS), key=lambda fs: fs[1])
            if score >= MIN_SCORE:
                recognised.append((n, sheet, fmt))
                continue
            columns = ", ".join(sheet.header[:6]) + (", ..." if len(sheet.header) > 6 else "")
            problems[n] = [problem_lines(sheet.label, None, "", "header matches no known "
                                         "format", None, True, f"(columns: {columns})")]
            summary[n] = _row(sheet.label, "unknown", "", len(sheet.rows), 0)
    return recognised, summary, problems


def write_import(result: ImportResult, out: Path) -> tuple[list[Path], list[Path]]:
    """Write the tables, ``import_summary.csv`` and ``import_problems.csv`` into ``out``,
    each atomically; a usable import also removes the canonical tables an earlier import
    left there that this one does not have, so the directory holds this import only (an
    unusable one leaves them, with its summary saying why). (written, removed)."""
    out = Path(out)
    written = [write_table(out, name, frame) for name, frame in result.tables.items()]
    removed = [out / f"{name}.parquet" for name in TABLES if result.usable
               and name not in result.tables and (out / f"{name}.parquet").exists()]
    for path in removed:
        path.unlink()
    for name, frame in (("import_summary.csv", result.summary[SUMMARY_COLUMNS]),
                        ("import_problems.csv", result.problems[PROBLEM_COLUMNS[:4]])):
        atomic_write(out / name, _csv(frame))
        written.append(out / name)
    return written, removed


def _csv(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_csv(path, index=False)
    return write


def _row(file: str, fmt: str, table: str, read: int, used: int,
         cancelled: int = 0) -> dict[str, object]:
    return {"file": file, "format": fmt, "table": table, "rows_read": read, "rows_used": used,
            "rows_rejected": read - used, "cancelled": cancelled}


def _typed_problems(problems: pd.DataFrame) -> pd.DataFrame:
    return problems.astype({"row": "Int64", "rejects": bool})


def _context(scenario: Scenario | None, master: list[Mapped], ad_channel: str) -> Context:
    """What the master tables and the base scenario tell (the tables win)."""
    frames: dict[str, list[pd.DataFrame]] = {}
    for m in master:
        frames.setdefault(m.table, []).append(m.frame)
    skus: set[str] | None = None
    markets: dict[str, MarketInfo] = {}
    overseas: dict[str, str] = {}
    channels = None
    if scenario is not None:
        skus = set(scenario.skus)
        markets = {name: MarketInfo(m.currency) for name, m in scenario.markets.items()}
        for name, w in reversed(scenario.warehouses.items()):
            if isinstance(w, OverseasWarehouse):
                overseas[w.market] = name
        channels = frozenset(scenario.ad_channels)
    if "skus" in frames:
        skus = (skus or set()) | set(pd.concat(frames["skus"])["sku"].dropna())
    for frame in frames.get("markets", []):
        zones = frame["timezone"] if "timezone" in frame.columns else pd.Series(pd.NA,
                                                                                index=frame.index)
        for market, currency, zone in zip(frame["market"], frame["currency"], zones,
                                          strict=True):
            markets[market] = MarketInfo(currency, None if pd.isna(zone) else zone)
    for frame in frames.get("warehouses", []):
        if "market" in frame.columns:
            served = frame[(frame["kind"] == "overseas") & frame["market"].notna()]
            overseas.update(served.drop_duplicates("market").set_index("market")["warehouse"])
    return Context(None if skus is None else frozenset(skus), markets, overseas, ad_channel,
                   channels)


def _combined(mapped: list[Mapped],
              context: Context) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame]]:
    """Each table from all its files, with the checks that need them all."""
    tables: dict[str, pd.DataFrame] = {}
    checks: list[pd.DataFrame] = []
    for name in TABLES:
        parts = [m.frame.assign(_src=i) for i, m in enumerate(mapped)
                 if m.table == name and len(m.frame)]
        if not parts:
            continue
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        labels = pd.Series({i: m.label for i, m in enumerate(mapped)})
        frame, duplicates = _without_duplicates(frame, TABLES[name].key, labels)
        checks.append(duplicates)
        if name == "orders":
            checks.append(_gaps(frame["order_date"]))
        if name == "orders":   # ad platforms bill in their own currency, not the market's
            checks.append(_currencies(frame, labels, context))
        tables[name] = frame
    return tables, checks


def _without_duplicates(frame: pd.DataFrame, key: tuple[str, ...],
                        labels: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose key was seen before are left out, each naming where it was first seen.

    Each key column is coded as integers, so that rows compare as one integer each.
    """
    if not key or not set(key) <= set(frame.columns) or frame.empty:
        return frame, empty_problems()
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in key:
        column_codes, uniques = pd.factorize(frame[column])
        codes, _ = pd.factorize(codes * (len(uniques) + 1) + column_codes + 1)
    repeated = pd.Series(codes).duplicated(keep="first").to_numpy()
    if not repeated.any():
        return frame, empty_problems()
    suspects = np.isin(codes, codes[repeated])
    candidates = frame.loc[suspects, [*key, "_src", "_row"]]
    firsts = candidates[~repeated[suspects]].drop_duplicates(list(key))
    seconds = candidates[repeated[suspects]].merge(firsts, on=list(key),
                                                   suffixes=("", "_first"))
    names = " and ".join(key)
    where = labels[seconds["_src_first"]].to_numpy() + " row " + \
        seconds["_row_first"].astype(str).to_numpy()
    lines = pd.DataFrame({
        "file": labels[seconds["_src"]].to_numpy(), "row": seconds["_row"].to_numpy(),
        "column": ", ".join(key),
        "problem": "duplicate line: same " + names + " as " + where + " (row rejected)",
        "reason": "duplicate line", "rejects": True})
    return frame[~repeated].reset_index(drop=True), lines


def _gaps(dates: pd.Series) -> pd.DataFrame:
    """Days inside the period with no order at all, as ranges."""
    seen = pd.DatetimeIndex(dates.dropna().unique())
    if seen.empty:
        return empty_problems()
    missing = pd.date_range(seen.min(), seen.max(), freq="D").difference(seen)
    if missing.empty:
        return empty_problems()
    run = (pd.Series(missing).diff() != pd.Timedelta(days=1)).cumsum()
    lines = []
    for _, days in pd.Series(missing).groupby(run.to_numpy()):
        first, last = days.iloc[0].date(), days.iloc[-1].date()
        span = f"on {first}" if first == last else f"from {first} to {last} ({len(days)} days)"
        lines.append(problem_lines(ALL_FILES, None, "order_date", "days without orders",
                                   None, False, span))
    return pd.concat(lines, ignore_index=True)


def _currencies(frame: pd.DataFrame, labels: pd.Series, context: Context) -> pd.DataFrame:
    """A market sold in several currencies, or in another than its own."""
    counts = frame.groupby(["market", "currency"], sort=True).agg(
        lines=("_rows", "sum"), src=("_src", "first"), row=("_row", "first")).reset_index()
    lines = []
    for market, part in counts.groupby("market", sort=True):
        info = context.markets.get(str(market))
        expected = info.currency if info else None
        if len(part) == 1 and (expected is None or part["currency"].iloc[0] == expected):
            continue
        listed = ", ".join(f"{r.currency} {_lines(int(r.lines))} (first: {labels[r.src]} "
                           f"row {r.row})" for r in part.itertuples())
        own = f"; its currency is {expected}" if expected else ""
        reason = "mixed currencies" if len(part) > 1 else "not the market's currency"
        lines.append(problem_lines(ALL_FILES, None, "currency", reason, None, False,
                                   f"in market {market}: {listed}{own}"))
    return pd.concat(lines, ignore_index=True) if lines else empty_problems()


def _lines(n: int) -> str:
    return f"{n:,} line" + ("" if n == 1 else "s")
