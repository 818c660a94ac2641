"""Is the fixed cost per simulated day down? Cohort model against the naive one at baseline size.

Run on demand (not part of the tests)::

    python -m experiments.bench.scale_daily

Issue 15, item 4: at baseline size (about 130k orders a year) the cohort model's cost is
mostly a fixed cost per simulated day (ledger bookings, returns, per-day bookkeeping), not
per order, so its lead over the naive one-process-per-order model (``sim_speed.NaiveModel``)
was 5-6x. Prints, measured in this one run: ``simulate()`` seconds and days/s on the baseline
year (median of a few calls, tables and KPIs included), the naive model's seconds replaying
the same orders (the fastest of its runs, which favours it), and the ratio of orders/s, by
wall clock (the target) and by CPU seconds of this process (steadier on a shared machine).

The naive model has none of the commerce levers the baseline turns on (prices, ranking,
returning buyers, rosters and disputes, warehouse work, exceptions, taxes over time, ageing
stock, fixed costs), so the same ratio is also printed for the baseline with every lever
neutral (``experiments.studies.levers.without_levers``), the naive model replaying that
run's own orders: how much of the gap is features the yardstick does not have.
"""

from __future__ import annotations

import os
import statistics
import time

from experiments.bench import sim_speed
from experiments.bench.summary import print_summary, verdict
from experiments.studies.levers import without_levers
from sim.loader import load_scenario
from sim.model import simulate
from sim.scenario import Scenario

TARGET_RATIO = sim_speed.TARGET_RATIO


def race(scenario: Scenario) -> dict[str, float]:
    """The cohort model's year (median wall, mean CPU s per call) and the naive model's on
    the same orders (its fastest run)."""
    days = sim_speed.DAYS
    simulate(scenario, seed=sim_speed.SEED, days=5)  # warm caches and lazy imports
    cpu = time.process_time()
    walls, result = sim_speed.time_simulate(scenario, sim_speed.BASELINE_REPEATS, days)
    cohort_cpu = (time.process_time() - cpu) / sim_speed.BASELINE_REPEATS
    naive = []
    for _ in range(sim_speed.NAIVE_REPEATS):
        cpu = time.process_time()
        n, seconds, _ = sim_speed.time_naive(scenario, result.orders, days)
        naive.append((seconds, time.process_time() - cpu, n))
    naive_s, naive_cpu, naive_n = min(naive)
    wall, orders = statistics.median(walls), len(result.orders)
    return {"wall": wall, "cpu": cohort_cpu, "orders": orders, "days": days,
            "naive_wall": naive_s, "naive_cpu": naive_cpu,
            "ratio": (orders / wall) / (naive_n / naive_s),
            "ratio_cpu": (orders / cohort_cpu) / (naive_n / naive_cpu)}


def measure() -> list[tuple[str, str, str, str]]:
    """Rows of (figure, value, target, verdict) for the cohort model at baseline size."""
    file = sim_speed.scenario_file()
    base = load_scenario(file)
    on = race(base)
    off = race(without_levers(base))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        (f"baseline simulate() wall s ({file.name}, {on['days']} days, "
         f"{on['orders']:,} orders)", f"{on['wall']:.3f}", "-", "-"),
        ("baseline simulate() CPU s", f"{on['cpu']:.3f}", "-", "-"),
        ("baseline days/s", f"{on['days'] / on['wall']:,.0f}", "-", "-"),
        ("naive model, same orders, wall s (fastest)", f"{on['naive_wall']:.2f}", "-", "-"),
        (f"cohort / naive orders/s, baseline (load {load})", f"{on['ratio']:.1f}x",
         f">= {TARGET_RATIO:g}x", verdict(on["ratio"] >= TARGET_RATIO)),
        ("cohort / naive orders/s by CPU s, baseline", f"{on['ratio_cpu']:.1f}x", "-", "-"),
        (f"levers neutral: simulate() wall s ({off['orders']:,} orders)", f"{off['wall']:.3f}",
         "-", "-"),
        ("levers neutral: cohort / naive orders/s", f"{off['ratio']:.1f}x", "-", "-"),
    ]


def main() -> None:
    began = time.perf_counter()
    print_summary("issue 15, per-day fixed cost", measure(), began)


if __name__ == "__main__":
    main()
