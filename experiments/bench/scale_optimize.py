"""Catalogue-scale optimisation: channel plans and rolling re-plans at 1,000 SKUs.

Run on demand (not part of the tests)::

    python -m experiments.bench.scale_optimize [--skus 1000] [--pyomo-skus 200]

Prints, measured in this one run on this machine (issue 15, "Speed and memory"):

(a) the channel MILP at ``--skus`` SKUs x the baseline's 3 markets x 52 weeks: seconds to
    build it from arrays and hand it to HiGHS (``passModel``), target <= 5 s;
(b) the plan by families and SKUs (``optimize.decompose``), asked for a 1 % gap: wall
    seconds from the scenario to the plan's flows, and the proven gap, target < 120 s at
    <= 1 %; and asked for 0.1 %: the gap it reaches (reported);
(c) the Pyomo build + APPSI hand-off of the same model at ``--pyomo-skus`` SKUs against the
    array build + hand-off, and their ratio (reported);
(d) a rolling re-plan at ``--skus`` SKUs (8-week window, persistent highspy instance) over
    six consecutive weekly reviews: the first (cold: hand-off, no start) reported, the
    median of the rest, each starting from the last plan, target < 10 s;
(e) this process's peak memory, target < 3 GB.

The catalogues copy the baseline's 40 SKUs in turn with suffixed names and divided
popularity (``experiments.bench.optimize_speed.instance``), so the demand in total and per
market is the baseline's, spread over more SKUs; copies are alike, so families of copies
lose nothing in the relaxation and the gap is the family MILP's own. Promises are enforced
as ``xbsim optimize channels`` enforces them.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from experiments.bench.optimize_speed import instance
from experiments.bench.summary import print_summary, verdict
from optimize.channel_data import channel_data
from optimize.channels import flows_table
from optimize.core import build_core, channel_options
from optimize.core_arrays import build_core_arrays
from optimize.decompose import solve_decomposed
from optimize.matrix import ArraySolver
from optimize.rolling import RollingPlanner, expected_state
from optimize.solve import SolveOptions, _new_highs

Row = tuple[str, str, str, str]
BUILD_TARGET_S = 5.0
PLAN_TARGET_S = 120.0
PLAN_GAP = 0.01
REPLAN_TARGET_S = 10.0
MEMORY_TARGET_GB = 3.0
REVIEW_WEEKS = range(10, 16)


def array_build(n_skus: int) -> tuple[float, int]:
    """Seconds to build the channel model from arrays and hand it to HiGHS; its columns."""
    data = channel_data(instance(n_skus))
    started = time.perf_counter()
    built = build_core_arrays(data, channel_options(data))
    solver = ArraySolver(built.matrix, SolveOptions())
    solver._instance()
    return time.perf_counter() - started, built.matrix.n_cols


def pyomo_build(n_skus: int) -> float:
    """Seconds to build the same model with Pyomo and hand it over through APPSI."""
    data = channel_data(instance(n_skus))
    started = time.perf_counter()
    built = build_core(data, channel_options(data))
    _new_highs(SolveOptions()).set_instance(built.model)
    return time.perf_counter() - started


def decomposed_plan(n_skus: int, gap: float) -> tuple[float, float]:
    """Wall seconds from the scenario to the plan's flows, and the proven gap."""
    started = time.perf_counter()
    data = channel_data(instance(n_skus))
    plan, report = solve_decomposed(data, SolveOptions(mip_gap=gap, time_limit_s=100.0))
    flows_table(plan)
    return time.perf_counter() - started, report.gap or 0.0


def replan_seconds(n_skus: int) -> tuple[float, float]:
    """Wall seconds of the first rolling re-plan (HiGHS starts cold, the window model is
    handed over) and the median of the weekly re-plans after it (each starts from the last
    plan, as every review of a simulated year but the first does)."""
    scenario = instance(n_skus)
    planner = RollingPlanner(scenario)
    seconds = []
    for week in REVIEW_WEEKS:
        started = time.perf_counter()
        planner.replan(expected_state(scenario, 7 * (week - 1)))
        seconds.append(time.perf_counter() - started)
    return seconds[0], statistics.median(seconds[1:])


def measure(n_skus: int = 1000, pyomo_skus: int = 200) -> list[Row]:
    build_s, columns = array_build(n_skus)
    rows: list[Row] = [(f"(a) channels {n_skus} SKUs ({columns:,} columns): build + hand-off s",
                        f"{build_s:.2f}", f"<= {BUILD_TARGET_S:g}",
                        verdict(build_s <= BUILD_TARGET_S))]
    plan_s, gap = decomposed_plan(n_skus, PLAN_GAP)
    rows.append((f"(b) channels {n_skus} SKUs plan to 1 %: s / gap", f"{plan_s:.1f} / "
                 f"{gap:.2%}", f"< {PLAN_TARGET_S:g}", verdict(plan_s < PLAN_TARGET_S
                                                                 and gap <= PLAN_GAP)))
    fine_s, fine_gap = decomposed_plan(n_skus, 0.001)
    rows.append((f"(b) channels {n_skus} SKUs asked 0.1 %: s / gap reached",
                 f"{fine_s:.1f} / {fine_gap:.3%}", "report", "-"))
    arrays_s, _ = array_build(pyomo_skus)
    reference_s = pyomo_build(pyomo_skus)
    rows.append((f"(c) {pyomo_skus} SKUs Pyomo / array build + hand-off s",
                 f"{reference_s:.1f} / {arrays_s:.2f} = {reference_s / arrays_s:.0f}x",
                 "report", "-"))
    first_s, replan_s = replan_seconds(n_skus)
    rows.append((f"(d) rolling {n_skus} SKUs: first re-plan (cold) s", f"{first_s:.2f}",
                 "report", "-"))
    rows.append((f"(d) rolling {n_skus} SKUs: median weekly re-plan s", f"{replan_s:.2f}",
                 f"< {REPLAN_TARGET_S:g}", verdict(replan_s < REPLAN_TARGET_S)))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    rows.append(("(e) peak memory of (a)-(d), GB", f"{peak_gb:.2f}",
                 f"< {MEMORY_TARGET_GB:g}", verdict(peak_gb < MEMORY_TARGET_GB)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--pyomo-skus", type=int, default=200)
    args = parser.parse_args()
    began = time.perf_counter()
    print_summary("catalogue-scale optimisation", measure(args.skus, args.pyomo_skus), began)


if __name__ == "__main__":
    main()
