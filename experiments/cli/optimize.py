"""``xbsim optimize channels|ads|frontier|peak SCENARIO --out DIR [--evaluate N]``.

Writes the plan (plan.yaml; the frontier also writes one plan per point under plans/),
every result table as CSV and parquet, the frontier's Pareto curve as PNG, and prints the
key figures with the solver's timings. ``--evaluate N`` then judges plan.yaml against the
scenario's rules in N replications (``experiments.cli.evaluate``), into DIR/evaluation.

A MIP gives no honest ETA, so while the model is built and solved the stage and its elapsed
time tick on stderr, with the time limit that bounds each solve.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from experiments.api import solve_options, solve_plan
from experiments.cli.evaluate import evaluate_command
from experiments.cli.output import cannot_write, report_page
from experiments.data.state import StateTable, read_state
from experiments.engine.progress import Stopwatch
from experiments.errors import ExperimentError
from experiments.report.plots import pareto_figure, time_column
from experiments.storage.names import OUT, safe_name
from experiments.storage.runstore import write_parquet
from experiments.storage.swap import OPTIMIZE, claimed, replace_directory
from optimize.outcome import Outcome
from sim.atomic import atomic_write
from sim.loader import load_scenario
from sim.plan import save_plan
from sim.scenario import Scenario

DAYS_PER_WEEK = 7


def optimize_command(args: argparse.Namespace) -> int:
    """Optimise, write and print the plan, then its report and ``--evaluate``; the exit code."""
    if args.stock_aware:
        args.overrides = [*args.overrides, "planning.ads.stock_aware=true"]
    scenario = load_scenario(args.scenario, args.overrides)
    check_plannable(scenario, args.model)
    out = args.out or OUT / safe_name(scenario.name) / args.model
    state = read_state(args.state) if args.state is not None else None
    options = solve_options(args.model, args.time_limit, args.mip_gap)
    with claimed(out, OPTIMIZE):
        clock = Stopwatch()
        limit = (f"HiGHS stops each solve by {options.time_limit_s:g} s"
                 if options.time_limit_s is not None else "no time limit")
        with clock.stage(f"{scenario.name}: optimize {args.model}: preparing data, building "
                         f"and solving ({limit})"):
            outcome = solve_plan(scenario, args.model, options,
                                 state.opening(scenario) if state is not None else None,
                                 args.points, args.metric, args.within_days, args.method)
        try:
            with clock.stage(f"{scenario.name}: writing the plan and tables"):
                written = replace_directory(out, OPTIMIZE, lambda staging: [
                    out / p.relative_to(staging)
                    for p in write_outcome(outcome, staging, args.model)])
        except OSError as exc:
            return cannot_write(out, exc)
        print(f"{scenario.name}: {args.model} plan")
        print(summary_table(outcome))
        names = sorted({p.name if p.parent == out else f"{p.parent.name}/" for p in written})
        print(f"\nresults: {out}/ ({', '.join(names)})")
        return ((0 if args.no_report else report_page(out))
                or evaluate_written(args, out, state))


def check_plannable(scenario: Scenario, model: str) -> None:
    """Refuse, before any data is prepared, a scenario the optimiser cannot plan: every
    model plans whole weeks, the peak planner a ``planning.peak`` window, the ad model ad
    channels."""
    if scenario.horizon.days < DAYS_PER_WEEK:
        raise ExperimentError(f"optimize {model} plans whole weeks: the horizon must be at "
                              f"least {DAYS_PER_WEEK} days (it is {scenario.horizon.days})")
    if model == "peak" and scenario.planning.peak is None:
        raise ExperimentError("optimize peak needs a planning.peak section in the scenario "
                              "(the window to plan: start, weeks, modes)")
    if model == "ads" and not scenario.ad_channels:
        raise ExperimentError("optimize ads needs ad_channels in the scenario (none to plan)")


def write_outcome(outcome: Outcome, out: Path, model: str) -> list[Path]:
    """Plan, tables (CSV and parquet) and figures; returns the paths written."""
    written = [save_plan(outcome.plan, out / "plan.yaml")]
    for i, plan in enumerate(outcome.plans):
        written.append(save_plan(plan, out / "plans" / f"point_{i:02d}.yaml"))
    for name, table in outcome.tables.items():
        if table.index.name is not None:  # labels such as the ads' channel and week columns
            table = table.reset_index()
        csv = write_csv(out / f"{name}.csv", table)
        write_parquet(out / f"{name}.parquet", table)
        written += [csv, out / f"{name}.parquet"]
    if model == "frontier":
        front = outcome.tables["frontier"]
        written.append(pareto_figure(front, time_column(front), out / "frontier.png",
                                     outcome.plans.index(outcome.plan)))
    return written


def evaluate_written(args: argparse.Namespace, out: Path, state: StateTable | None = None
                     ) -> int:
    """``--evaluate N``: the written plan against the scenario's rules, as ``xbsim evaluate
    SCENARIO --plan OUT/plan.yaml --replications N --out OUT/evaluation [--state FILE]``
    runs it."""
    if not args.evaluate:
        return 0
    print()
    return evaluate_command(args.scenario, out / "plan.yaml", list(args.overrides),
                            args.evaluate, out=out / "evaluation",
                            report=not args.no_report, state=state)


def write_csv(path: Path, table: pd.DataFrame) -> Path:
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    return path


def summary_table(outcome: Outcome) -> str:
    rows = [(key, f"{value:,.4g}" if abs(value) < 100 else f"{value:,.0f}")
            for key, value in outcome.summary.items() if isinstance(value, int | float)]
    report = outcome.report
    if report is not None:
        rows += [("solver status", report.status),
                 ("build / hand-off / HiGHS s",
                  f"{report.build_s:.2f} / {report.handoff_s:.2f} / {report.highs_s:.2f}")]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value:>14}" for name, value in rows)
