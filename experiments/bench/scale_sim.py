"""Does the simulation hold a real seller's scale? Two generated scenarios, whole processes.

Run on demand (not part of the tests)::

    python -m experiments.bench.scale_sim

Generates with ``xbsim generate`` (``experiments.generate``):

(a) the baseline's 40 SKUs x 3 markets with demand scaled to 10 million orders a year (sessions,
    ad reach and spend, and the capacities that would starve them: suppliers, parcel
    carriers, air departures, warehouse m3, packing lines, as ``sim_speed.scaled_overrides``
    does for its 10x case), target < 30 s and < 2 GB;
(b) 10,000 SKUs x 3 markets at the baseline's sessions, target < 10 s and < 1 GB;

and runs each as ``xbsim run FILE --out DIR --no-report`` in a fresh process: wall seconds
(the CPU seconds beside them say how much of the wall the shared machine took) and the
child's peak resident memory (``os.wait4``'s rusage of that child alone). The report page
is left out: it is the next command's work (``xbsim report DIR``), not the simulation's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from experiments.bench.summary import print_summary, verdict

ROOT = Path(__file__).resolve().parents[2]
XBSIM = [sys.executable, "-m", "experiments.cli.main"]
SEED = 0
ORDERS = 10_000_000
ORDERS_TOLERANCE = 0.10
"""The orders simulated against those asked (``tests/test_generate.py``)."""


@dataclass(frozen=True)
class Case:
    label: str
    generate: list[str]
    target_s: float
    target_gb: float
    orders: int | None = None
    """The yearly orders asked for, if any."""


CASES = (
    Case("10 M orders/yr (40 SKUs x 3 markets)",
         ["--skus", "40", "--markets", "3", "--orders-per-year", str(ORDERS)], 30.0, 2.0,
         ORDERS),
    Case("10,000 SKUs x 3 markets x 1 year",
         ["--skus", "10000", "--markets", "3"], 10.0, 1.0),
)


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    peak_gb: float
    orders: int


def run_case(case: Case, directory: Path) -> Measured:
    """Generate the case's scenario, then time ``xbsim run`` on it in a fresh process."""
    scenario, out = directory / "scenario.yaml", directory / "out"
    subprocess.run([*XBSIM, "generate", *case.generate, "--seed", str(SEED), "--out",
                    str(scenario)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    child = subprocess.Popen([*XBSIM, "run", str(scenario), "--seed", str(SEED), "--out",
                              str(out), "--no-report"], cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"xbsim run failed ({child.returncode}) on {case.label}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / 1e9,
                    int(summary["orders"]))


def measure() -> list[tuple[str, str, str, str]]:
    rows = []
    for case in CASES:
        with tempfile.TemporaryDirectory(prefix="xbsim-scale-") as tmp:
            got = run_case(case, Path(tmp))
        print(f"{case.label}: {got.orders:,} orders, {got.wall_s:.1f} s wall "
              f"({got.cpu_s:.1f} s CPU), peak {got.peak_gb:.2f} GB")
        rows += [
            (f"{case.label}: xbsim run, s (CPU s)", f"{got.wall_s:.1f} ({got.cpu_s:.1f})",
             f"< {case.target_s:g}", verdict(got.wall_s < case.target_s)),
            (f"{case.label}: peak RSS, GB", f"{got.peak_gb:.2f}", f"< {case.target_gb:g}",
             verdict(got.peak_gb < case.target_gb)),
            (f"{case.label}: orders simulated", f"{got.orders:,}", _asked(case.orders),
             verdict(got.orders > 0 if case.orders is None
                     else abs(got.orders / case.orders - 1) < ORDERS_TOLERANCE)),
        ]
    return rows


def _asked(orders: int | None) -> str:
    return "> 0" if orders is None else f"{orders / 1e6:g} M +-{ORDERS_TOLERANCE:.0%}"


def main() -> None:
    began = time.perf_counter()
    print(f"load average before: {tuple(round(x, 2) for x in os.getloadavg())}")
    print_summary("simulation at scale", measure(), began)


if __name__ == "__main__":
    main()
