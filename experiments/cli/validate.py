"""``xbsim validate FILE``: check a scenario file and say everything that is wrong with it.

A planner fixing a file wants the whole list at once: every problem is one ``error:`` line
(file, dotted path, reason), and every entry of a parent that an ``extends:`` file drops by
replacing a list whole is one ``warning:`` line, as is every price under the cost-plus
floor (``sim.pricing.floor_problems``). Exit code 2 when there is an error.
"""

from __future__ import annotations

import argparse
import sys

from sim.loader import ScenarioError, apply_override, resolve_document, validate
from sim.pricing import floor_problems

EXIT_BAD_INPUT = 2


def validate_command(args: argparse.Namespace) -> int:
    """Takes ``args.scenario`` (a path) and ``args.overrides`` (``--set`` assignments)."""
    notes: list[str] = []
    try:
        data = resolve_document(args.scenario, notes)
        for assignment in args.overrides:
            apply_override(data, assignment, args.scenario)
        scenario = validate(data, args.scenario)
    except ScenarioError as exc:
        _warn(notes)
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _warn(notes + [f"{args.scenario}: {p}" for p in floor_problems(scenario)])
    print(f"{args.scenario}: ok ({scenario.name}: {len(scenario.markets)} markets, "
          f"{len(scenario.skus)} SKUs, {scenario.horizon.days} days)")
    return 0


def _warn(notes: list[str]) -> None:
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
