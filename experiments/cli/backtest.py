"""``xbsim backtest SCENARIO --actuals DIR --replications N``: does the scenario reproduce
the history?

Simulates the actuals' period N times, prints the verdict per measure and writes the cells,
scores and replications (parquet and CSV), ``backtest.json`` and the report page. Bad input
is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.cli.arguments import backend_options, report_option
from experiments.data.backtest import backtest, write_backtest
from experiments.data.backtest_report import write_backtest_report
from experiments.engine.backends import open_backend
from experiments.engine.progress import for_stream
from experiments.errors import CellError, ExperimentError
from sim.loader import ScenarioError

EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--actuals", type=Path, required=True, metavar="DIR",
                   help="data directory of the history to compare with (orders.parquet, ...)")
    p.add_argument("--replications", type=int, default=20, metavar="N",
                   help="replications (default 20)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE", help="override a field by dotted path")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default out/NAME-backtest)")
    report_option(p)
    backend_options(p)


def backtest_command(args: argparse.Namespace) -> int:
    """Run, print and write one backtest; the exit code."""
    try:
        with open_backend(args.backend, args.workers, args.address) as pool:
            result = backtest(args.scenario, args.actuals, args.replications, pool, args.seed,
                              args.overrides, for_stream(), args.batch_seconds)
    except (ScenarioError, ExperimentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CellError as exc:
        if not exc.bad_input:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or Path("out") / f"{args.scenario.stem}-backtest"
    print(f"backtest of {args.scenario} against {args.actuals} ({result.first} to "
          f"{result.last}): {len(result.seeds)} replications (root seed {args.seed}), "
          f"{result.stats.wall_seconds:.1f} s on {result.backend}")
    for line in result.verdicts():
        print(f"  {line}")
    for note in result.notes:
        print(f"note: {note}")
    try:
        written = write_backtest(out, result)
        report = None if args.no_report else write_backtest_report(out, result)
    except OSError as exc:
        print(f"error: cannot write results to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"\nresults: {out}/ ({', '.join(written)})")
    if report is not None:
        print(f"report: {report}")
    return 0
