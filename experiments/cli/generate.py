"""``xbsim generate --skus N --markets M [--orders-per-year X] [--seed S] --out FILE.yaml``:
write a scale scenario derived from the baseline (``experiments.generate``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from sim.atomic import atomic_write

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--skus", dest="sku_count", type=int, required=True, metavar="N",
                   help="SKUs: the baseline's 40, then perturbed copies of them")
    p.add_argument("--markets", dest="market_count", type=int, default=3, metavar="M",
                   help="the baseline's first M markets (US, DE, UK; default 3)")
    p.add_argument("--orders-per-year", type=float, default=None, metavar="X",
                   help="scale sessions, ad reach and spend and the capacities they need to "
                        "about X orders a year (default: the baseline's sessions)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the SKU perturbations (default 0)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.yaml",
                   help="scenario file to write (replaced whole)")


def generate_command(args: argparse.Namespace) -> int:
    from experiments.generate import scale_scenario

    doc = scale_scenario(args.sku_count, args.market_count, args.orders_per_year, args.seed)
    text = yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, default_flow_style=None,
                     width=120)
    atomic_write(args.out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    print(f"{args.out}: {args.sku_count} SKUs x {args.market_count} markets"
          + (f", ~{args.orders_per_year:,.0f} orders a year" if args.orders_per_year else ""))
    return 0
