"""``xbsim calibrate DIR --out FILE``: fit a scenario to a seller's data directory.

Writes the scenario file (extending ``--extends BASE`` when the loader can express it), the
fit report and the fits' tables as CSV. Bad input (no such directory, no orders table, an
unknown or invalid base) is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.data.calibrate.scenario_file import group_comment
from experiments.errors import ExperimentError
from sim.loader import ScenarioError

EXIT_BAD_INPUT = 2
DEFAULT_BASE = Path("scenarios") / "baseline.yaml"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", type=Path, metavar="DIR",
                   help="data directory of canonical tables (orders.parquet, skus.parquet, ...)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="scenario file to write, e.g. scenarios/mine.yaml")
    p.add_argument("--extends", type=Path, default=None, metavar="BASE",
                   help="base scenario for what the data cannot tell; the file extends it "
                        f"when it can (default: the whole document on top of {DEFAULT_BASE})")
    p.add_argument("--report-dir", type=Path, default=None, metavar="DIR",
                   help="where report.html and fit_tables/ go (default: beside --out)")


def calibrate_command(args: argparse.Namespace) -> int:
    """Calibrate, print what was fitted and where it went; the exit code."""
    from experiments.data.calibrate.run import calibrate  # the fitters load only when used

    base = args.extends or DEFAULT_BASE
    try:
        result = calibrate(args.data, args.out, base, args.report_dir,
                           extends=args.extends is not None)
    except (ScenarioError, ExperimentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    how = f"extends {base}" if result.extends else f"full document, unfitted values from {base}"
    print(f"{result.scenario_file}: fitted to {args.data} ({result.first} to {result.last}); "
          f"{how}")
    for fit in result.fits:
        print(f"  {group_comment(fit)}")
    warnings = [f"{fit.group}: {w}" for fit in result.fits for w in fit.warnings]
    warnings += [f"scenario: dropped {note}" for note in result.dropped]
    for line in warnings:
        print(f"warning: {line}")
    print(f"report: {result.report}")
    print(f"fit tables: {len(result.tables)} CSV files in {result.report.parent / 'fit_tables'}")
    return 0
