"""``xbsim template DIR [--scenario BASE.yaml] [--market M]``: the empty data workbook.

Writes ``DIR/xbsim_data.xlsx`` (a README sheet and one sheet per table of a seller's data)
and the same headers as ``DIR/csv/<table>.csv``. Price columns are made for the markets
given, else the base scenario's, else US, DE and UK.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.cli.output import cannot_write
from experiments.data.template import DEFAULT_MARKETS, TemplateError, write_template
from sim.loader import ScenarioError, load_scenario

EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", type=Path, metavar="DIR",
                   help="where to write xbsim_data.xlsx and csv/")
    p.add_argument("--scenario", type=Path, default=None, metavar="BASE.yaml",
                   help="base scenario whose markets get price columns")
    p.add_argument("--market", dest="markets", action="append", default=None, metavar="M",
                   help="a market to price in (repeatable; default: the base scenario's, "
                        f"else {', '.join(DEFAULT_MARKETS)})")


def template_command(args: argparse.Namespace) -> int:
    try:
        markets = args.markets or _markets_of(args.scenario)
        written = write_template(args.directory, markets)
    except (ScenarioError, TemplateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        return cannot_write(args.directory, exc)
    print(f"template: {written[0]} (price columns for {', '.join(markets)})")
    print(f"csv: {len(written) - 1} header files in {written[1].parent}/")
    return 0


def _markets_of(scenario: Path | None) -> list[str]:
    if scenario is None:
        return list(DEFAULT_MARKETS)
    return list(load_scenario(scenario).markets)
