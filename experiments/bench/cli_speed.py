"""How fast does ``xbsim --help`` answer? Against ``python -c pass`` on the same machine.

Run on demand (not part of the tests)::

    python -m experiments.bench.cli_speed [--runs N]

Prints the median wall time of N fresh processes for ``python -c pass`` and for
``python -m experiments.cli.main --help`` (and for one command's ``--help`` and a mistyped
option), measured in this one run, their ratio to ``python -c pass``, and whether the
top-level help meets its target of 0.5 s. The command's parser is built from light modules
only, so the help should cost little more than the interpreter's own start.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_S = 0.5
CASES = {
    "python -c pass": ["-c", "pass"],
    "xbsim --help": ["-m", "experiments.cli.main", "--help"],
    "xbsim compare --help": ["-m", "experiments.cli.main", "compare", "--help"],
    "xbsim sweep --bogus": ["-m", "experiments.cli.main", "sweep", "x.yaml", "--bogus"],
}


def wall_seconds(arguments: list[str]) -> float:
    """Wall time of one fresh interpreter running ``arguments``."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="processes per case (default 9)")
    runs = parser.parse_args().runs
    medians = {}
    for name, arguments in CASES.items():
        wall_seconds(arguments)  # warm the file cache
        medians[name] = statistics.median(wall_seconds(arguments) for _ in range(runs))
    baseline = medians["python -c pass"]
    print(f"median of {runs} fresh processes each ({sys.executable})")
    for name, seconds in medians.items():
        print(f"  {name:<22} {seconds:6.3f} s  {seconds / baseline:5.1f} x python -c pass")
    verdict = "met" if medians["xbsim --help"] < TARGET_S else "MISSED"
    print(f"target: xbsim --help under {TARGET_S} s: {verdict}")


if __name__ == "__main__":
    main()
