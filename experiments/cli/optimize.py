"""``xbsim optimize channels|ads|frontier|peak SCENARIO --out DIR [--evaluate N]``.

Writes the plan (plan.yaml; the frontier also writes one plan per point under plans/),
every result table as CSV and parquet, the frontier's Pareto curve as PNG, and prints the
key figures with the solver's timings. ``--evaluate N`` then judges plan.yaml against the
scenario's rules in N replications (``experiments.cli.evaluate``), into DIR/evaluation.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pandas as pd

from experiments.cli.evaluate import evaluate_command
from experiments.data.state import StateTable
from experiments.report.plots import pareto_figure, time_column
from experiments.storage.runstore import write_parquet
from optimize import ads, channels, peak
from optimize.ads import optimize_ads
from optimize.channels import optimize_channels
from optimize.outcome import Outcome
from optimize.peak import optimize_peak
from optimize.solve import SolveOptions
from optimize.tradeoff import optimize_frontier
from sim.atomic import atomic_write
from sim.plan import save_plan
from sim.scenario import Scenario
from sim.state import OpeningState

MODELS = ("channels", "ads", "frontier", "peak")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=MODELS, help="which decision to optimise")
    p.add_argument("--out", type=Path, default=None, help="output directory")
    p.add_argument("--time-limit", type=float, default=None,
                   help=f"seconds per solve (default {SolveOptions.time_limit_s:g})")
    p.add_argument("--mip-gap", type=float, default=None,
                   help="relative MIP gap at which to stop (default: the model's: channels "
                        f"and frontier {channels.DEFAULT_OPTIONS.mip_gap:g}, ads "
                        f"{ads.DEFAULT_OPTIONS.mip_gap:g}, peak {peak.DEFAULT_OPTIONS.mip_gap:g})")
    p.add_argument("--points", type=int, default=10, help="frontier points (default 10)")
    p.add_argument("--metric", choices=("mean_days", "share_within"), default="mean_days",
                   help="frontier time measure")
    p.add_argument("--within-days", type=float, default=5.0,
                   help="N for --metric share_within (default 5)")
    p.add_argument("--stock-aware", action="store_true",
                   help="ads: plan spend against the stock the scenario's logistics (its rules "
                        "and the plan it names, e.g. --set plan=out/peak/plan.yaml) deliver, "
                        "simulated (planning.ads.stock_aware)")
    p.add_argument("--evaluate", type=int, default=None, metavar="N",
                   help="then judge the plan against the scenario's rules in N replications "
                        "on common random numbers (results in OUT/evaluation)")


def optimise(args: argparse.Namespace, scenario: Scenario,
             state: OpeningState | None = None) -> Outcome:
    """The chosen model's outcome, planned from the opening ``state`` when one is given."""
    defaults = {"channels": channels.DEFAULT_OPTIONS, "frontier": channels.DEFAULT_OPTIONS,
                "ads": ads.DEFAULT_OPTIONS, "peak": peak.DEFAULT_OPTIONS}[args.model]
    given = {"time_limit_s": args.time_limit, "mip_gap": args.mip_gap}
    options = replace(defaults, **{k: v for k, v in given.items() if v is not None})
    if args.model == "channels":
        return optimize_channels(scenario, options, state)
    if args.model == "ads":
        return optimize_ads(scenario, options, state)
    if args.model == "frontier":
        return optimize_frontier(scenario, args.points, args.metric, args.within_days, options,
                                 state)
    return optimize_peak(scenario, options, state)


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
