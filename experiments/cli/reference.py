"""``xbsim reference``: write the scenario reference (every key, its type, unit, default,
bounds and an example) generated from the schema, so that it never drifts from the code."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.docs.reference import REFERENCE, write_reference


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=REFERENCE, metavar="FILE",
                   help="where to write it (default: docs/scenario-reference.md)")


def reference_command(args: argparse.Namespace) -> int:
    print(f"wrote {write_reference(args.out)}")
    return 0
