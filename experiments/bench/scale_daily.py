"""Is the fixed cost per simulated day down? Cohort model against the naive one at baseline size.

Run on demand (not part of the tests)::

    python -m experiments.bench.scale_daily

Issue 15, item 4: at baseline size (about 130k orders a year) the cohort model's cost is
mostly a fixed cost per simulated day (ledger bookings, returns, per-day bookkeeping), not
per order, so its lead over the naive one-process-per-order model (``sim_speed.NaiveModel``)
was 5-6x. Prints, measured in this one run: ``simulate()`` seconds and days/s on the baseline
year (median of a few calls, tables and KPIs included), the naive model's seconds replaying
the same orders (the fastest of its runs, which favours it), and the ratio of orders/s.
"""

from __future__ import annotations

import os
import statistics
import time

from experiments.bench import sim_speed
from experiments.bench.summary import print_summary, verdict
from sim.loader import load_scenario
from sim.model import simulate

TARGET_RATIO = sim_speed.TARGET_RATIO


def measure() -> list[tuple[str, str, str, str]]:
    """Rows of (figure, value, target, verdict) for the cohort model at baseline size."""
    file = sim_speed.scenario_file()
    base = load_scenario(file)
    days = sim_speed.DAYS
    simulate(base, seed=sim_speed.SEED, days=5)  # warm caches and lazy imports
    walls, result = sim_speed.time_simulate(base, sim_speed.BASELINE_REPEATS, days)
    wall = statistics.median(walls)
    n_orders = len(result.orders)
    runs = [sim_speed.time_naive(base, result.orders, days)
            for _ in range(sim_speed.NAIVE_REPEATS)]
    naive_n, naive_s, _ = min(runs, key=lambda r: r[1])
    ratio = (n_orders / wall) / (naive_n / naive_s)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        (f"baseline simulate() wall s ({file.name}, {days} days, {n_orders:,} orders)",
         f"{wall:.3f}", "-", "-"),
        ("baseline days/s", f"{days / wall:,.0f}", "-", "-"),
        ("naive model, same orders, wall s (fastest)", f"{naive_s:.2f}", "-", "-"),
        (f"cohort / naive orders/s, baseline (load {load})", f"{ratio:.1f}x",
         f">= {TARGET_RATIO:g}x", verdict(ratio >= TARGET_RATIO)),
    ]


def main() -> None:
    began = time.perf_counter()
    print_summary("issue 15, per-day fixed cost", measure(), began)


if __name__ == "__main__":
    main()
