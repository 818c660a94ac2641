"""How fast do a seller's data come in? Import and calibrate a catalogue-size history.

Run on demand (not part of the tests)::

    python -m experiments.bench.data_speed [--skus 2000] [--years 2]

A history of ``--skus`` SKUs in three markets over ``--years`` years (about 1.4 order lines
a day per SKU: 2 million lines at the defaults) is drawn by the independent generator
(``experiments.data.synthetic``) and written as canonical CSV files; then, timed stage by
stage in this process: import (read, check, write the canonical tables) and calibrate (fit
every group, write the scenario, its report and tables) on top of the baseline scenario.
Targets: import + calibrate under 120 s and the process's peak memory under 4 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

from experiments.bench.summary import print_summary, verdict
from experiments.data.calibrate.run import calibrate
from experiments.data.imports import import_sources, write_import
from experiments.data.synthetic import example_truth, generate, write_csv
from sim.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TARGET_SECONDS = 120.0
TARGET_GB = 4.0


def peak_gb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--years", type=float, default=2.0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    start = dt.date(2025, 1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clock = time.perf_counter()
        truth = example_truth(args.skus, years=args.years, start=start)
        tables = generate(truth, start, int(round(365 * args.years)), seed=1)
        files = write_csv(tables, work / "exports")
        lines = len(tables["orders"])
        del tables
        print(f"generated {lines:,} order lines for {args.skus:,} SKUs x 3 markets x "
              f"{args.years:g} years in {time.perf_counter() - clock:.1f} s "
              f"(not part of the target)")

        clock = time.perf_counter()
        result = import_sources(files, load_scenario(BASELINE))
        write_import(result, work / "data")
        import_s = time.perf_counter() - clock
        rows = int(result.summary["rows_read"].sum())
        print(f"import: {rows:,} rows in {import_s:.1f} s ({rows / import_s:,.0f} rows/s), "
              f"peak memory {peak_gb():.2f} GB")
        del result

        clock = time.perf_counter()
        calibrate(work / "data", work / "mine.yaml", BASELINE, extends=True)
        calibrate_s = time.perf_counter() - clock
        print(f"calibrate: {lines:,} order lines in {calibrate_s:.1f} s "
              f"({lines / calibrate_s:,.0f} lines/s), peak memory {peak_gb():.2f} GB")

    total = import_s + calibrate_s
    memory = peak_gb()
    print_summary(f"{lines:,} order lines", [
        ("import rows/s", f"{rows / import_s:,.0f}", "-", "-"),
        ("calibrate order lines/s", f"{lines / calibrate_s:,.0f}", "-", "-"),
        ("import + calibrate s", f"{total:.1f}", f"< {TARGET_SECONDS:.0f}",
         verdict(total < TARGET_SECONDS)),
        ("peak memory GB", f"{memory:.2f}", f"< {TARGET_GB:.0f}", verdict(memory < TARGET_GB)),
    ], began)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
