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
from experiments.cli.limits import BOUNDS, allowed
from experiments.cli.main import one_line
from experiments.cli.output import cannot_write
from experiments.data.backtest import Backtest, backtest, write_backtest
from experiments.data.backtest_report import REPORT, write_backtest_report
from experiments.engine.backends import open_backend
from experiments.engine.progress import for_stream
from experiments.errors import CellError, ExperimentError
from experiments.storage.names import OUT, safe_name
from experiments.storage.swap import BACKTEST, claimed, replace_directory
from sim.loader import ScenarioError

EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--actuals", type=Path, required=True, metavar="DIR",
                   help="data directory of the history to compare with (orders.parquet, ...)")
    p.add_argument("--replications", type=int, default=20, metavar="N",
                   help=f"replications (default 20; 2 to {BOUNDS['replications'].high})")
    p.add_argument("--seed", type=int, default=0, help=f"root seed (default 0; {allowed('seed')})")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="PATH=VALUE", help="override a field by dotted path")
    p.add_argument("--out", type=Path, default=None,
                   help="output directory (default out/NAME-backtest)")
    report_option(p)
    backend_options(p)


def backtest_command(args: argparse.Namespace) -> int:
    """Run, print and write one backtest; the exit code. The results directory is claimed
    before the replications run and swapped in whole (``storage.swap``), like every other
    command's."""
    out = args.out or OUT / f"{safe_name(args.scenario.stem)}-backtest"
    try:
        with claimed(out, BACKTEST):
            return _backtest(args, out)
    except (ScenarioError, ExperimentError) as exc:
        return _bad_input(exc)
    except CellError as exc:
        if not exc.bad_input:
            raise
        return _bad_input(exc)


def _backtest(args: argparse.Namespace, out: Path) -> int:
    with open_backend(args.backend, args.workers, args.address) as pool:
        result = backtest(args.scenario, args.actuals, args.replications, pool, args.seed,
                          args.overrides, for_stream(), args.batch_seconds)
    print(f"backtest of {args.scenario} against {args.actuals} ({result.first} to "
          f"{result.last}): {len(result.seeds)} replications (root seed {args.seed}), "
          f"{result.stats.wall_seconds:.1f} s on {result.backend}")
    for line in result.verdicts():
        print(f"  {line}")
    for note in result.notes:
        print(f"note: {note}")
    try:
        written = replace_directory(out, BACKTEST, lambda staging: _write(
            staging, result, not args.no_report))
    except OSError as exc:
        return cannot_write(out, exc)
    print(f"\nresults: {out}/ ({', '.join(written)})")
    if not args.no_report:
        print(f"report: {out / REPORT}")
    return 0


def _write(directory: Path, result: Backtest, report: bool) -> list[str]:
    """The tables, ``backtest.json`` and (with ``report``) the page, into ``directory``."""
    written = write_backtest(directory, result)
    if report:
        write_backtest_report(directory, result)
    return written


def _bad_input(exc: Exception) -> int:
    print(f"error: {one_line(str(exc))}", file=sys.stderr)
    return EXIT_BAD_INPUT
