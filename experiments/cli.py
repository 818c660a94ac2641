"""The ``xbsim`` command: validate, show and run scenarios.

Library code raises typed exceptions; only this module turns them into one line on stderr
and an exit code (2 for bad input), so users never see a traceback for a bad file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from experiments.store import OutputDirectoryError, write_run
from experiments.tables import kpi_table
from sim.loader import ScenarioError, load_scenario
from sim.model import simulate

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xbsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def scenario_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("scenario", type=Path, help="scenario YAML file")
        p.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="PATH=VALUE", help="override a field by dotted path")
        return p

    scenario_command("validate", "check a scenario file")
    scenario_command("show", "print the fully resolved scenario as YAML")
    run = scenario_command("run", "simulate a scenario and write its tables")
    run.add_argument("--seed", type=int, default=0, help="root random seed (default 0)")
    run.add_argument("--days", type=int, default=None, help="simulate only the first D days")
    run.add_argument("--out", type=Path, default=None, help="output directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario, args.overrides)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "validate":
        print(f"{args.scenario}: ok ({scenario.name}: {len(scenario.markets)} markets, "
              f"{len(scenario.skus)} SKUs, {scenario.horizon.days} days)")
        return 0
    if args.command == "show":
        print(yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False),
              end="")
        return 0
    return _run(args, scenario)


def _run(args: argparse.Namespace, scenario) -> int:
    if args.days is not None and not 0 < args.days <= scenario.horizon.days:
        print(f"error: --days must be between 1 and {scenario.horizon.days}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or Path("out") / scenario.name
    result = simulate(scenario, seed=args.seed, days=args.days)
    try:
        write_run(result, out, str(args.scenario))
    except OutputDirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: cannot write results to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    days = result.scenario.horizon.days
    print(f"{scenario.name}: {days} days, seed {args.seed}, "
          f"{result.summary['orders']:,} orders in {result.wall_seconds:.2f} s")
    print(kpi_table(result.summary))
    print(f"\nresults: {out}/ (orders, daily, shipments, ledger, tickets .parquet; "
          "summary.json; manifest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
