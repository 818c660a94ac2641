"""``xbsim import SOURCES... --out DIR``: a seller's exports and filled-in template to
canonical tables, with a line per file and the problems found.

Problems are warnings: the exit code is 0 when anything usable was imported, 2 (with a
one-line reason) only when nothing usable remains.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from experiments.cli.output import cannot_write
from experiments.data.formats import DEFAULT_AD_CHANNEL
from experiments.data.imports import ImportResult, import_sources, write_import
from sim.loader import ScenarioError, load_scenario

EXIT_NOTHING_USABLE = 2
SHOWN_PROBLEMS = 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", type=Path, nargs="+", metavar="SOURCE",
                   help="exports (Amazon All Orders report, Shopify orders CSV, Sponsored "
                        "Products report) and canonical tables (CSV, or the filled-in "
                        "template .xlsx), recognised by their header")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="directory for <table>.parquet, import_summary.csv and "
                        "import_problems.csv")
    p.add_argument("--scenario", type=Path, default=None, metavar="BASE.yaml",
                   help="base scenario: known SKUs, markets and overseas warehouses when "
                        "the sources hold no skus, markets or warehouses table")
    p.add_argument("--ad-channel", default=DEFAULT_AD_CHANNEL, metavar="NAME",
                   help="ad channel the ad reports' spend belongs to (default %(default)s)")


def import_command(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    result = import_sources(args.sources, scenario, args.ad_channel)
    try:
        written, removed = write_import(result, args.out)
    except OSError as exc:
        return cannot_write(args.out, exc)
    print(report(result))
    tables = ", ".join(f"{name} ({len(frame):,} row{'' if len(frame) == 1 else 's'})"
                       for name, frame in result.tables.items())
    for path in removed:
        print(f"removed {path.name} left by an earlier import")
    if not result.usable:
        print(f"error: nothing usable imported: {_why_nothing(result)} "
              f"(see {args.out / 'import_problems.csv'})", file=sys.stderr)
        return EXIT_NOTHING_USABLE
    print(f"\ntables: {tables} in {args.out}/ ({len(written)} files written)")
    return 0


def report(result: ImportResult) -> str:
    """A line per file, then the first problems and how many more there are."""
    lines = []
    for row in result.summary.itertuples():
        if not row.table:
            lines.append(f"{row.file}: {row.format} file, nothing read")
            continue
        if not row.rows_read:
            lines.append(f"{row.file}: {row.format} -> {row.table}: empty")
            continue
        cancelled = f" ({row.cancelled:,} cancelled)" if row.cancelled else ""
        reasons = result.rejections(row.file)
        why = f": {', '.join(f'{n:,} {r}' for r, n in reasons.items())}" if reasons else ""
        lines.append(f"{row.file}: {row.format} -> {row.table}: {row.rows_read:,} read, "
                     f"{row.rows_used:,} used{cancelled}, {row.rows_rejected:,} rejected{why}")
    problems = result.problems
    if len(problems):
        lines.append(f"\nproblems ({len(problems):,}):")
        for p in problems.head(SHOWN_PROBLEMS).itertuples():
            lines.append(f"  {_where(p.file, p.row, p.column)}: {p.problem}")
        if len(problems) > SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(problems) - SHOWN_PROBLEMS:,} more in "
                         "import_problems.csv")
    return "\n".join(lines)


def _where(file: str, row: object, column: str) -> str:
    place = file if pd.isna(row) else f"{file} row {row}"
    return f"{place}, {column}" if column else place


def _why_nothing(result: ImportResult) -> str:
    if not (result.summary["table"] != "").any():
        return "no file holds a known table or export"
    if not result.summary["rows_read"].any():
        return "the files hold no rows"
    return "every row was rejected"
