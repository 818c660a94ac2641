"""``xbsim export DIR --xlsx [--out FILE]``: a results directory as one Excel workbook.

Every table, plan and JSON summary of DIR and its sub-directories, one sheet each, with a
contents sheet first (``experiments.data.export``). A directory without tables is bad
input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.cli.output import cannot_write
from experiments.data.export import DEFAULT_FILE, ExportError, export_workbook
from sim.plan import PlanFileError

EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", type=Path, metavar="DIR",
                   help="results directory of run, compare, sweep, optimize, evaluate or tune")
    p.add_argument("--xlsx", action="store_true", required=True,
                   help="write an Excel workbook (the one format so far)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help=f"workbook to write (default DIR/{DEFAULT_FILE})")


def export_command(args: argparse.Namespace) -> int:
    try:
        path = export_workbook(args.directory, args.out)
    except (ExportError, PlanFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        return cannot_write(args.out or args.directory, exc)
    print(f"workbook: {path}")
    return 0
