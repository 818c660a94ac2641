"""How fast are the optimisers? Pyomo build and hand-off against HiGHS, and against highspy.

Run on demand (not part of the tests)::

    python -m experiments.bench.optimize_speed [--time-limit-s 300]

Prints, all measured in this one run on this machine (issue 3, "Speed"):

(1) the channel MILP (optimize/channels) at 50 SKUs and at 4x that, 200 SKUs, over the
    baseline's 3 markets and 52 weeks, with promises relaxed (``enforce_promise=False``) so
    that every market has all its routes: seconds in ``channel_data``, in
    ``build_channels_model``, in the hand-off of the model to HiGHS (the first
    ``Solver.solve``: APPSI ``set_instance``) and in HiGHS itself; the gap reached; target
    build + hand-off <= HiGHS time at both sizes;
(2) the same matrix handed to HiGHS directly: the ``HighsLp`` that APPSI passed is read back
    from the solver, and a fresh ``highspy.Highs`` gets it by ``passModel`` and solves it
    with the same gap and time limit; the ratio (Pyomo build + hand-off) / passModel is the
    model-building overhead against its lower bound;
(3) a 10-point time-versus-cost frontier on the baseline (optimize/tradeoff): total,
    Python (total - HiGHS) and HiGHS seconds, target Python share <= 20 %; and 3 of its
    points solved twice more, re-solving one persistent model against rebuilding the
    model for each point.

The larger instances replicate the baseline's 40 SKUs with suffixed names (``_2``, ``_3``,
...). Each copy gets its original's popularity divided by the number of copies, so every
original keeps its share of sessions: the total demand (units per market and week) and its
mix stay the baseline's, only spread over more SKUs. Capacities, warehouse space and
prices are unchanged, so the instances are as tight as the baseline.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import os
import platform
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
import yaml

from experiments.bench.summary import print_summary, verdict
from optimize.channel_data import ChannelData, channel_data
from optimize.core import build_core, channel_options
from optimize.solve import SolveError, SolveOptions, Solver
from optimize.tradeoff import FrontierModel, optimize_frontier
from sim.loader import load_scenario, validate
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SIZES = (50, 200)
FRONTIER_POINTS = 10
REBUILD_POINTS = 3
TARGET_PYTHON_SHARE = 0.20


# ---------------------------------------------------------------------------- instances
def replicate_skus(document: dict[str, Any], n_skus: int) -> dict[str, Any]:
    """The scenario document with ``n_skus`` SKUs, copies of the originals in turn.

    SKU i is a copy of original i mod 40; a copy's popularity is its original's divided by
    the number of copies, so each original's share of demand (and the total) is kept.
    """
    out = copy.deepcopy(document)
    names = list(out["skus"])
    base = len(names)
    copies = [len(range(j, n_skus, base)) for j in range(base)]
    skus = {}
    for i in range(n_skus):
        j = i % base
        spec = dict(out["skus"][names[j]])
        spec["popularity"] = spec["popularity"] / copies[j]
        skus[names[j] if i < base else f"{names[j]}_{i // base + 1}"] = spec
    out["skus"] = skus
    return out


def instance(n_skus: int) -> Scenario:
    document = yaml.safe_load(BASELINE.read_text())
    return validate(replicate_skus(document, n_skus), BASELINE)


def routes_by_market(data: ChannelData) -> dict[str, list]:
    """The routes that can bring a unit to each market: direct parcels, last-mile legs and
    the bulk legs that stock the warehouses those last-mile legs leave from."""
    out = {}
    for market in data.markets:
        facing = [r for r in data.routes if r.kind != "bulk" and r.destination == market]
        stocking = {r.origin for r in facing if r.kind == "last_mile"}
        out[market] = facing + [r for r in data.routes
                                if r.kind == "bulk" and r.destination in stocking]
    return out


def model_size(m: pyo.ConcreteModel) -> tuple[int, int, int]:
    """Variables, constraints and integer (incl. binary) variables of a Pyomo model."""
    variables = [v for var in m.component_objects(pyo.Var, active=True) for v in var.values()]
    constraints = sum(len(c) for c in m.component_objects(pyo.Constraint, active=True))
    integers = sum(1 for v in variables if v.is_integer() or v.is_binary())
    return len(variables), constraints, integers


# ---------------------------------------------------------------------------- (1) + (2)
def time_channels(n_skus: int, options: SolveOptions) -> dict[str, Any]:
    """Load, prepare, build and solve the channel MILP once; print and return figures."""
    started = time.perf_counter()
    scenario = instance(n_skus)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    data = channel_data(scenario, enforce_promise=False)
    data_s = time.perf_counter() - started
    started = time.perf_counter()
    model = build_core(data, channel_options(data)).model
    build_s = time.perf_counter() - started
    n_vars, n_rows, n_int = model_size(model)

    by_market = routes_by_market(data)
    modes = {market: sorted({r.mode for r in routes}) for market, routes in by_market.items()}
    print(f"\n== (1) channel MILP, {n_skus} SKUs x {len(data.markets)} markets x "
          f"{'/'.join(str(len(k)) for k in modes.values())} modes "
          f"({'/'.join(modes)}; {len({r.mode for r in data.routes})} in all) x "
          f"{data.weeks} weeks, enforce_promise=False")
    print(f"demand {data.demand.sum():,.0f} units over the horizon (baseline total kept); "
          f"{len(data.routes)} routes")
    for market, routes in by_market.items():
        print(f"  {market}: {len(modes[market])} modes over {len(routes)} routes "
              f"({', '.join(modes[market])})")
    print(f"variables {n_vars:,}  constraints {n_rows:,}  integers {n_int:,}")
    print(f"scenario load + validate s {load_s:.3f}  channel_data s {data_s:.3f}  "
          f"build_channels_model s {build_s:.3f}")

    solver = Solver(options)
    try:
        report = solver.solve(model, build_s)
    except SolveError as exc:
        print(f"!! no plan: {exc}")
        return {"n": n_skus, "solved": False, "build_s": build_s}
    capped = report.time_limited
    gap = report.gap
    print(f"hand-off s {report.handoff_s:.3f}  HiGHS s {report.highs_s:.3f}  "
          f"(Solver.solve wall after hand-off {report.solve_s:.3f})")
    gap_text = f"{gap:.2%}" if gap is not None else "n/a"
    print(f"status {report.status}  objective {report.objective:,.0f} CNY  gap {gap_text}")
    if capped:
        print(f"!! HiGHS hit the time limit ({options.time_limit_s:g} s): the HiGHS time is "
              f"a floor, not the time to {options.mip_gap:.1%}")
    python_s = build_s + report.handoff_s
    print(f"build + hand-off {python_s:.3f} s vs HiGHS {report.highs_s:.3f} s: "
          f"{verdict(python_s <= report.highs_s)}")
    figures = {"n": n_skus, "solved": True, "data_s": data_s, "build_s": build_s,
               "handoff_s": report.handoff_s, "highs_s": report.highs_s, "gap": gap,
               "capped": capped, "objective": report.objective}
    figures |= direct_highspy(solver, options, python_s, report.highs_s)
    return figures


def direct_highspy(solver: Solver, options: SolveOptions, pyomo_s: float,
                   appsi_highs_s: float) -> dict[str, Any]:
    """Hand the matrix APPSI built to a fresh highspy.Highs and solve it the same way."""
    print(f"\n-- (2) the same matrix handed to HiGHS directly (highspy "
          f"{importlib.metadata.version('highspy')})")
    appsi = solver._instance()._solver_model
    started = time.perf_counter()
    lp = appsi.getLp()
    get_s = time.perf_counter() - started
    integers = sum(1 for kind in lp.integrality_ if kind != highspy.HighsVarType.kContinuous)
    print(f"HighsLp read back from the APPSI instance in {get_s:.3f} s (not counted): "
          f"{lp.num_col_:,} columns, {lp.num_row_:,} rows, "
          f"{lp.a_matrix_.start_[-1]:,} non-zeros, {integers:,} integer columns")

    started = time.perf_counter()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", options.mip_gap)
    if options.time_limit_s is not None:
        highs.setOptionValue("time_limit", float(options.time_limit_s))
    if options.threads is not None:
        highs.setOptionValue("threads", options.threads)
    status = highs.passModel(lp)
    pass_s = time.perf_counter() - started
    started = time.perf_counter()
    highs.run()
    run_wall = time.perf_counter() - started
    run_s = float(highs.getRunTime())
    info = highs.getInfo()
    model_status = highs.modelStatusToString(highs.getModelStatus())
    ratio = pyomo_s / pass_s if pass_s > 0 else float("inf")
    print(f"Highs() + options + passModel s {pass_s:.4f} ({status.name})  run s {run_s:.3f} "
          f"(wall {run_wall:.3f})  status {model_status}  objective "
          f"{info.objective_function_value:,.0f}  gap {info.mip_gap:.2%}")
    print(f"Pyomo build + hand-off {pyomo_s:.3f} s / highspy passModel {pass_s:.4f} s = "
          f"{ratio:,.0f}x")
    print(f"HiGHS run time side by side: via Pyomo/APPSI {appsi_highs_s:.3f} s, "
          f"direct highspy {run_s:.3f} s")
    print("note: this is the same matrix handed to HiGHS directly, so passModel is the lower "
          "bound of model-building overhead; a real array-based build would add the time to "
          "form the arrays from ChannelData (channel_data above is already arrays).")
    return {"pass_s": pass_s, "direct_run_s": run_s, "ratio": ratio,
            "direct_status": model_status}


# ---------------------------------------------------------------------------- (3)
def time_frontier(scenario: Scenario, options: SolveOptions) -> dict[str, Any]:
    print(f"\n== (3) frontier: {FRONTIER_POINTS} points on {BASELINE.name}, mean delivery "
          f"days, one persistent model")
    started = time.perf_counter()
    outcome = optimize_frontier(scenario, points=FRONTIER_POINTS, options=options)
    wall = time.perf_counter() - started
    s = outcome.summary
    total, highs_s = s["total_s"], s["highs_s"]
    python_s = total - highs_s
    share = s["python_share"]
    front = outcome.tables["frontier"]
    print(f"points kept {int(s['points'])} of {FRONTIER_POINTS} solved; "
          f"worst gap {front['gap'].max():.2%}")
    print(f"total s {total:.2f} (call wall {wall:.2f})  HiGHS s {highs_s:.2f}  "
          f"Python s {python_s:.2f} (of which channel_data + build {s['build_s']:.2f})")
    print(f"Python per point {python_s / FRONTIER_POINTS:.3f} s, excluding the one-off "
          f"build {(python_s - s['build_s']) / FRONTIER_POINTS:.3f} s (hand-off, parameter "
          f"update, loading the solution and the per-point plan tables)")
    print(f"Python share {share:.1%} (target <= {TARGET_PYTHON_SHARE:.0%}): "
          f"{verdict(share <= TARGET_PYTHON_SHARE)}")

    sweep = sorted((float(e) for e in front["epsilon"] if np.isfinite(e)), reverse=True)
    chosen = sweep[:REBUILD_POINTS]
    figures = {"total_s": total, "highs_s": highs_s, "python_s": python_s, "share": share}
    if not chosen:
        print("!! no constrained frontier point to repeat")
        return figures
    figures |= persistent_versus_rebuild(scenario, chosen, options)
    return figures


def persistent_versus_rebuild(scenario: Scenario, epsilons: list[float],
                              options: SolveOptions) -> dict[str, float]:
    """Seconds per point: re-solving one model with a new eps, or building one per eps."""
    listed = ", ".join(f"{e:.2f}" for e in epsilons)
    print(f"\n-- (3b) {len(epsilons)} points (eps = {listed} mean days), "
          "persistent re-solve vs rebuild per point")
    data = channel_data(scenario, enforce_promise=False)

    started = time.perf_counter()
    persistent = FrontierModel.build(data, "mean_days", 5.0, options)
    setup_build = time.perf_counter() - started
    first = persistent.solve_at(1e9)
    print(f"persistent set-up (not per point): build {setup_build:.2f} s, hand-off "
          f"{first.handoff_s:.2f} s, cheapest plan HiGHS {first.highs_s:.2f} s")
    kept = []
    for eps in epsilons:
        report = persistent.solve_at(eps)
        kept.append((report.solve_s, report.highs_s, report.objective))

    rebuilt = []
    for eps in epsilons:
        started = time.perf_counter()
        fresh = FrontierModel.build(data, "mean_days", 5.0, options)
        build_s = time.perf_counter() - started
        report = fresh.solve_at(eps)
        rebuilt.append((build_s + report.handoff_s + report.solve_s, report.highs_s,
                        report.objective, build_s, report.handoff_s))
        del fresh

    print(f"{'eps':>6}  {'persist s':>9}  {'(HiGHS)':>8}  {'rebuild s':>9}  {'(build':>7}  "
          f"{'hand-off':>8}  {'HiGHS)':>7}  cost persist / rebuild CNY")
    for eps, (p_s, p_h, p_obj), (r_s, r_h, r_obj, r_b, r_ho) in zip(
            epsilons, kept, rebuilt, strict=True):
        print(f"{eps:>6.2f}  {p_s:>9.2f}  {p_h:>8.2f}  {r_s:>9.2f}  {r_b:>7.2f}  {r_ho:>8.2f}  "
              f"{r_h:>7.2f}  {p_obj:,.0f} / {r_obj:,.0f}")
    n = len(epsilons)
    persist_total = sum(p[0] for p in kept) / n
    persist_python = sum(p[0] - p[1] for p in kept) / n
    rebuild_total = sum(r[0] for r in rebuilt) / n
    rebuild_python = sum(r[0] - r[1] for r in rebuilt) / n
    print(f"per point, persistent: {persist_total:.2f} s total, {persist_python:.3f} s Python; "
          f"rebuild: {rebuild_total:.2f} s total, {rebuild_python:.3f} s Python")
    print(f"rebuild / persistent: {rebuild_total / persist_total:.1f}x total, "
          f"{rebuild_python / max(persist_python, 1e-9):.0f}x Python "
          "(HiGHS times differ too: a re-solve starts from the last plan; these are the "
          "sweep's first points after the cheapest plan, its hardest)")
    return {"persist_total": persist_total, "persist_python": persist_python,
            "rebuild_total": rebuild_total, "rebuild_python": rebuild_python}


# ---------------------------------------------------------------------------- report
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit-s", type=float, default=None,
                        help="cap every HiGHS solve (default: SolveOptions(), 300 s)")
    args = parser.parse_args()
    options = SolveOptions() if args.time_limit_s is None else SolveOptions(
        time_limit_s=args.time_limit_s)

    began = time.perf_counter()
    print("== machine")
    print(f"cpu {cpu_model()}  cpu_count={os.cpu_count()} "
          f"usable={len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} "
          f"loadavg={tuple(round(x, 2) for x in os.getloadavg())}")
    print(f"python={platform.python_version()} pyomo={importlib.metadata.version('pyomo')} "
          f"highspy={importlib.metadata.version('highspy')} numpy={np.__version__} "
          f"{platform.platform()}")
    limit = "none" if options.time_limit_s is None else f"{options.time_limit_s:g} s"
    capped_note = " (capped from the command line)" if args.time_limit_s is not None else ""
    print(f"SolveOptions: mip_gap {options.mip_gap:.1%}, time limit {limit}{capped_note}, "
          f"threads {options.threads or 'HiGHS default'}")

    channels = [time_channels(n, options) for n in SIZES]
    frontier = time_frontier(load_scenario(BASELINE), options)

    rows = []
    for c in channels:
        if not c["solved"]:
            rows.append((f"(1) {c['n']} SKUs build + hand-off vs HiGHS", "no plan",
                         "<= HiGHS", "MISS"))
            continue
        python_s = c["build_s"] + c["handoff_s"]
        cap = " (time limit)" if c["capped"] else ""
        rows.append((f"(1) {c['n']} SKUs build + hand-off / HiGHS s{cap}",
                     f"{python_s:.2f} / {c['highs_s']:.2f}", "<= HiGHS",
                     verdict(python_s <= c["highs_s"])))
        rows.append((f"(2) {c['n']} SKUs Pyomo build + hand-off / highspy passModel",
                     f"{c['ratio']:,.0f}x", "report", "-"))
        rows.append((f"(2) {c['n']} SKUs HiGHS s, APPSI / direct",
                     f"{c['highs_s']:.1f} / {c['direct_run_s']:.1f}", "report", "-"))
    rows.append((f"(3) frontier {FRONTIER_POINTS} points: total s", f"{frontier['total_s']:.1f}",
                 "report", "-"))
    rows.append(("(3) frontier Python share", f"{frontier['share']:.1%}",
                 f"<= {TARGET_PYTHON_SHARE:.0%}", verdict(frontier["share"]
                                                          <= TARGET_PYTHON_SHARE)))
    if "persist_python" in frontier:
        rows.append(("(3b) Python s per point, persistent / rebuild",
                     f"{frontier['persist_python']:.2f} / {frontier['rebuild_python']:.2f}",
                     "report", "-"))
        rows.append(("(3b) total s per point, persistent / rebuild",
                     f"{frontier['persist_total']:.2f} / {frontier['rebuild_total']:.2f}",
                     "report", "-"))

    print_summary(f"channel MILP: baseline demand over {', '.join(map(str, SIZES))} "
                  f"SKUs; frontier: {BASELINE.name}", rows, began)


if __name__ == "__main__":
    main()
