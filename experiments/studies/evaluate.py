"""``xbsim evaluate``: a plan under the simulator's uncertainty, beside its own prediction.

An optimiser plans on expected demand and percentile transit times; the simulation draws
demand, lead times, losses and customs one replication at a time. The evaluation runs the
plan in N replications and puts each KPI's mean and confidence interval next to the figure
the plan predicted, so a planner sees where average-case planning and variability part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments.engine.backends import Backend
from experiments.engine.models import ScenarioModel, override_text
from experiments.engine.progress import Progress
from experiments.studies.replications import Replications, replicate
from sim.execution import check_plan
from sim.plan import Plan, PlanFileError, load_plan

COMPARED = ("logistics_cost_per_unit_cny", "fill_rate", "on_time_rate", "mean_delivery_days",
            "lost_sales_units", "contribution_margin_cny", "ad_spend_cny", "roas",
            "final_cash_cny",
            "min_cash_cny", "peak_working_capital_cny")
"""KPIs shown side by side; a plan predicts those in its ``metrics`` (by the same names)."""


@dataclass
class Evaluation:
    plan: Plan | None
    replications: Replications
    table: pd.DataFrame
    """One row per KPI: predicted, mean, half_width, ci_low, ci_high, gap (mean - predicted),
    inside (prediction within the interval)."""


def plan_model(scenario_file: Path, plan_file: Path | None, overrides: list[str],
               days: int | None) -> tuple[ScenarioModel, Plan | None]:
    """The scenario executing the plan (``plan=`` override), and the plan itself."""
    if plan_file is None:
        return ScenarioModel.from_file(scenario_file, overrides, days), None
    plan = load_plan(plan_file)
    model = ScenarioModel.from_file(
        scenario_file, [*overrides, override_text("plan", str(plan_file.resolve()))], days)
    try:
        check_plan(plan, model.scenario())
    except PlanFileError as exc:
        raise PlanFileError(f"{plan_file}: {exc}") from None
    return model, plan


def evaluate(model: ScenarioModel, plan: Plan | None, backend: Backend, replications: int,
             seed: int = 0, progress: Progress | None = None,
             batch_seconds: float = 1.0) -> Evaluation:
    reps = replicate(model, backend, replications, seed, progress=progress,
                     batch_seconds=batch_seconds)
    predicted = plan.metrics if plan is not None else {}
    rows = []
    for kpi in COMPARED:
        if kpi not in reps.summary.index:
            continue
        s = reps.summary.loc[kpi]
        guess = predicted.get(kpi, float("nan"))
        rows.append({"kpi": kpi, "predicted": guess, "mean": s["mean"],
                     "half_width": s["half_width"], "ci_low": s["ci_low"],
                     "ci_high": s["ci_high"], "gap": s["mean"] - guess,
                     "inside": bool(s["ci_low"] <= guess <= s["ci_high"])})
    return Evaluation(plan, reps, pd.DataFrame(rows))
