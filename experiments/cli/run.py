"""``xbsim run``: simulate a scenario once, write its tables, print its KPIs and write its
report. The command a user waits for most, so this module imports only what a single run
uses; replications (``--replications``, ``--precision``) hand over to ``commands``, which
loads the experiment engine and the statistics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.cli.output import cannot_write, report_page
from experiments.data.state import StateTable, read_state
from experiments.engine.progress import Stopwatch
from experiments.engine.replanning import replan_policy
from experiments.report.tables import kpi_table
from experiments.storage.names import OUT, safe_name
from experiments.storage.runstore import simulate_run
from experiments.storage.swap import claimed
from sim.loader import load_scenario
from sim.model import simulate
from sim.results import RunResult
from sim.tables import TableSink

EXIT_BAD_INPUT = 2


def run_command(args: argparse.Namespace) -> int:
    """One run, or replications when ``--replications`` or ``--precision`` is given."""
    if args.replications is not None or args.precision is not None:
        from experiments.cli.commands import replicate_command

        return replicate_command(args)
    scenario = load_scenario(args.scenario, args.overrides)
    if args.days is not None and not 0 < args.days <= scenario.horizon.days:
        print(f"error: --days must be between 1 and {scenario.horizon.days}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or OUT / safe_name(scenario.name)
    state = state_table(args)
    days = args.days or scenario.horizon.days
    def run(sink: TableSink) -> RunResult:
        with Stopwatch().stage(f"{scenario.name}: simulating {days} days"):
            return simulate(scenario, seed=args.seed, days=args.days,
                            policy=replan_policy(scenario),
                            state=state.opening(scenario) if state is not None else None,
                            sink=sink)

    with claimed(out, "run"):
        try:
            result, _ = simulate_run(out, run, str(args.scenario),
                                     state_file=state.file if state is not None else None,
                                     state_hash=state.fingerprint() if state is not None
                                     else None)
        except OSError as exc:
            return cannot_write(out, exc)
        _print_run(args, result, out)
        return 0 if args.no_report else report_page(out)


def _print_run(args: argparse.Namespace, result: RunResult, out: Path) -> None:
    print(f"{result.scenario.name}: {result.scenario.horizon.days} days, seed {args.seed}, "
          f"{result.summary['orders']:,} orders in {result.wall_seconds:.2f} s")
    print(kpi_table(result.summary))
    print(f"\nresults: {out}/ ({', '.join(result.tables())} .parquet; "
          "summary.json; manifest.json)")


def state_table(args: argparse.Namespace) -> StateTable | None:
    """The rows of ``--state FILE``, if given (``StateFileError`` if it cannot be used)."""
    return read_state(args.state) if args.state is not None else None
