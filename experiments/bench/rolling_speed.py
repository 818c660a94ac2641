"""How long does a year of weekly re-planning take, and what does a persistent model save?

Run on demand (not part of the tests)::

    python -m experiments.bench.rolling_speed [--scenario scenarios/baseline.yaml] [--seed 1]

Prints, all measured in this one run on this machine:

(a) the baseline year simulated with the rolling planner re-solving one persistent window
    model every week (52-53 re-solves): total wall time, of which the simulation itself, and
    of the planner's time: Python parameter updates, Pyomo/APPSI hand-off (parameter sync
    and solution loading), HiGHS, and the rest (forecast, reading the plan);
(b) the same year with the window model rebuilt and handed to HiGHS at every review (the
    same plans: the rebuilt model starts from the last plan as the persistent one does);
(c) the ratios rebuild / persistent per re-plan: on what persistence changes (Python model
    work + hand-off), on re-solves (that plus HiGHS, whose own solving is the same in both)
    and on whole re-plans (plus the forecast and reading the plan back).

Targets (issue 4): the year under 2 minutes; persistent re-solves at least 5x faster than
rebuilding. The rolling runs must give the same fill rate (same plans).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import highspy
import pyomo

from experiments.bench.summary import print_summary, verdict
from optimize.rolling import RollingPlanner
from sim.loader import load_scenario
from sim.model import simulate

TARGET_TOTAL_S = 120.0
TARGET_RATIO = 5.0


def timed_year(scenario, seed: int, persistent: bool) -> tuple[float, RollingPlanner, dict]:
    planner = RollingPlanner(scenario, persistent=persistent)
    started = time.perf_counter()
    result = simulate(scenario, seed=seed, policy=planner)
    return time.perf_counter() - started, planner, result.summary


def describe(label: str, wall: float, planner: RollingPlanner) -> dict[str, float]:
    s = planner.stats
    python = s.update_s
    other = s.wall_s - s.update_s - s.handoff_s - s.highs_s
    print(f"\n== ({label}) {s.solves} re-plans, total {wall:.2f} s")
    print(f"simulation without the planner  {wall - s.wall_s:8.2f} s")
    print(f"planner                         {s.wall_s:8.2f} s  ({1e3 * s.mean_wall_s:.1f} ms "
          "per re-plan)")
    print(f"  Python model updates / build  {python:8.2f} s")
    print(f"  Pyomo-HiGHS hand-off          {s.handoff_s:8.2f} s")
    print(f"  HiGHS                         {s.highs_s:8.2f} s")
    print(f"  forecast and plan reading     {other:8.2f} s")
    return {"wall": wall, "planner": s.wall_s, "model": python + s.handoff_s,
            "highs": s.highs_s, "solves": s.solves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=Path("scenarios/baseline.yaml"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.perf_counter()
    print("== machine")
    print(f"cpu_count={os.cpu_count()} loadavg={tuple(round(x, 2) for x in os.getloadavg())} "
          f"python={platform.python_version()} pyomo={pyomo.__version__} "
          f"highspy={highspy.Highs().version()}")
    scenario = load_scenario(args.scenario)
    simulate(scenario, seed=args.seed, days=7)  # warm imports and caches

    wall_p, planner_p, summary_p = timed_year(scenario, args.seed, persistent=True)
    persistent = describe("a: persistent window model", wall_p, planner_p)
    wall_r, planner_r, summary_r = timed_year(scenario, args.seed, persistent=False)
    rebuilt = describe("b: rebuilt every review", wall_r, planner_r)

    for run in (persistent, rebuilt):
        run["solve"] = run["model"] + run["highs"]
    per = {k: {"p": persistent[k] / persistent["solves"], "r": rebuilt[k] / rebuilt["solves"]}
           for k in ("planner", "model", "highs", "solve")}
    model_ratio = per["model"]["r"] / per["model"]["p"]
    whole_ratio = per["planner"]["r"] / per["planner"]["p"]
    solve_ratio = per["solve"]["r"] / per["solve"]["p"]
    # The same plans up to HiGHS's float round-off: fill rates agree to 1e-6.
    same = abs(summary_p["fill_rate"] - summary_r["fill_rate"]) < 1e-6
    print("\n== (c) per re-plan, rebuild / persistent")
    for key, name in (("model", "Python model work + hand-off"), ("highs", "HiGHS"),
                      ("solve", "re-solve (model work + HiGHS)"), ("planner", "whole re-plan")):
        print(f"{name:<30} {1e3 * per[key]['r']:7.1f} ms / {1e3 * per[key]['p']:6.1f} ms = "
              f"{per[key]['r'] / per[key]['p']:.1f}x")
    print(f"fill rate persistent {summary_p['fill_rate']:.6f}, rebuilt "
          f"{summary_r['fill_rate']:.6f} ({'the same' if same else 'DIFFERENT'})")
    rows = [
        ("(a) year with weekly re-plans, total s", f"{wall_p:.1f}",
         f"< {TARGET_TOTAL_S:g}", verdict(wall_p < TARGET_TOTAL_S)),
        ("(a) of which HiGHS s", f"{persistent['highs']:.2f}", "-", "-"),
        ("(a) of which Python model updates + hand-off s", f"{persistent['model']:.2f}", "-",
         "-"),
        ("(c) rebuild / persistent, model work + hand-off", f"{model_ratio:.1f}x",
         f">= {TARGET_RATIO:g}x", verdict(model_ratio >= TARGET_RATIO)),
        ("(c) rebuild / persistent, re-solve incl. HiGHS", f"{solve_ratio:.1f}x",
         f">= {TARGET_RATIO:g}x", verdict(solve_ratio >= TARGET_RATIO)),
        ("(c) rebuild / persistent, whole re-plan", f"{whole_ratio:.1f}x",
         f">= {TARGET_RATIO:g}x", verdict(whole_ratio >= TARGET_RATIO)),
        ("same plans (fill rate) both ways", "yes" if same else "no", "yes", verdict(same)),
    ]
    print_summary(f"{args.scenario.name}, seed {args.seed}, "
                  f"{scenario.horizon.days} days, review every {planner_p.review_days} days, "
                  f"window {planner_p.window_weeks} weeks", rows, began)


if __name__ == "__main__":
    main()
