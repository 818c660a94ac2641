"""``xbsim evaluate``: a plan judged against the scenario's rules, and against its own prediction.

An optimiser plans on expected demand and percentile transit times; the simulation draws
demand, lead times, losses and customs one replication at a time. The evaluation runs two
arms on the same replication seeds (common random numbers, as ``compare`` pairs scenarios):

* *plan*: the scenario executing the plan (a plan file, the plan the scenario names, or its
  re-planning policy);
* *rules*: the same scenario without it, i.e. its own replenishment, routing and ad rules.

It reports

* ``differences``: per KPI of ``JUDGED`` the paired difference plan - rules with its 95 %
  t-interval, in the units people read (CNY, units, and *points* for rates);
* ``table``: each KPI's plan mean and interval beside the figure the plan predicted
  (``plan.metrics``, under the simulation's KPI names), and whether the prediction fell
  inside the simulated interval;
* ``verdict``: the answer in words ("This plan earns 74,945 CNY less than the rules ...")
  and ``why``: the predictions that missed.

A plan *beats* the rules when its contribution difference's interval is above 0 and it
fills no more than ``FILL_TOLERANCE_POINTS`` less; it *loses* when the contribution
interval is below 0 or it fills more than that much less; otherwise there is no significant
difference. A losing plan is a finding, not an error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from experiments.data.state import StateTable
from experiments.engine.backends import Backend
from experiments.engine.models import ScenarioModel, override_text
from experiments.engine.progress import Progress
from experiments.errors import ExperimentError
from experiments.kpis import HEADLINE_KPIS, describe, kpi_order
from experiments.stats import CONFIDENCE, summarize
from experiments.storage.manifest import EvaluationManifest
from experiments.storage.tablestore import write_tables
from experiments.studies.comparison import Comparison, compare
from experiments.studies.replications import Replications, replicate
from sim.execution import check_plan
from sim.plan import Plan, PlanFileError, load_plan

COMPARED = ("logistics_cost_per_unit_cny", "fill_rate", "on_time_rate", "mean_delivery_days",
            "lost_sales_units", "contribution_margin_cny", "ad_spend_cny", "roas",
            "final_cash_cny",
            "min_cash_cny", "peak_working_capital_cny")
"""KPIs shown side by side; a plan predicts those in its ``metrics`` (by the same names)."""

JUDGED = ("contribution_margin_cny", "fill_rate", "lost_sales_units", "on_time_rate",
          "logistics_cost_per_unit_cny", "peak_working_capital_cny", "min_cash_cny")
"""KPIs on which the plan is judged against the rules, paired replication by replication."""

FILL_TOLERANCE_POINTS = 0.5
"""A plan that fills more than this many points less than the rules does not beat them."""

PLAN, RULES = "plan", "rules"
Outcome = Literal["wins", "loses", "no difference", "no rules"]

SHORT = {"contribution_margin_cny": "contribution", "fill_rate": "fill",
         "lost_sales_units": "lost sales", "on_time_rate": "on-time",
         "logistics_cost_per_unit_cny": "logistics cost per unit",
         "peak_working_capital_cny": "peak working capital", "min_cash_cny": "lowest cash",
         "final_cash_cny": "cash at end", "mean_delivery_days": "mean delivery time",
         "ad_spend_cny": "ad spend", "roas": "ROAS"}
"""The words a sentence uses for a KPI."""


@dataclass
class Evaluation:
    """The plan against the rules and against its own prediction; frames for a notebook."""

    plan: Plan | None
    replications: Replications
    """The plan arm alone: ``samples`` one row per replication, ``summary`` per KPI."""
    table: pd.DataFrame
    """One row per KPI: predicted, mean, half_width, ci_low, ci_high, gap (mean - predicted),
    inside (prediction within the interval), all in the KPI's stored units (rates as
    fractions)."""
    differences: pd.DataFrame
    """One row per judged KPI: label, unit, rules_mean, plan_mean, difference (plan - rules),
    half_width, ci_low, ci_high, p_value, significant, better (plan, rules or empty),
    variance_reduction, n; in display units: rates in percent, their differences in points.
    Empty when there are no rules to compare with."""
    verdict: str
    """The whole answer in words: ``headline``, ``conclusion`` and the missed predictions."""
    outcome: Outcome
    why: list[str] = field(default_factory=list)
    """The predictions that missed the simulated interval, one sentence each."""
    headline: str = ""
    """Money and fill against the rules: ``This plan earns ... (N replications, ...)``."""
    conclusion: str = ""
    """``It beats the rules.`` or ``It does not beat the rules: <reasons>.``"""
    comparison: Comparison | None = None
    """Both arms (``samples`` with a ``scenario`` column: plan, rules), when compared."""
    rules_overrides: list[str] = field(default_factory=list)
    """What turns the plan's scenario into the rules' (``plan=null`` ...)."""

    @property
    def samples(self) -> pd.DataFrame:
        """Every replication of both arms (``scenario``: plan or rules), or the plan's alone."""
        if self.comparison is not None:
            return self.comparison.samples
        return self.replications.samples.assign(scenario=PLAN)


def plan_model(scenario_file: Path, plan_file: Path | None, overrides: list[str],
               days: int | None, state: StateTable | None = None
               ) -> tuple[ScenarioModel, Plan | None]:
    """The scenario executing the plan (``plan=`` override), and the plan itself (without a
    plan file, the plan the scenario names, if any); both arms start from the opening
    ``state`` when one is given."""
    if plan_file is None:
        model = ScenarioModel.from_file(scenario_file, overrides, days, state)
        named = model.scenario().plan
        return model, load_plan(named) if named is not None else None
    plan = load_plan(plan_file)
    model = ScenarioModel.from_file(
        scenario_file, [*overrides, override_text("plan", str(plan_file.resolve()))], days,
        state)
    try:
        check_plan(plan, model.scenario())
    except PlanFileError as exc:
        raise PlanFileError(f"{plan_file}: {exc}") from None
    return model, plan


def rules_model(model: ScenarioModel) -> tuple[ScenarioModel | None, list[str]]:
    """The same scenario under its own rules: without the plan it executes and without its
    re-planning policy. None when it runs neither (nothing to judge)."""
    scenario = model.scenario()
    drop = []
    if scenario.plan is not None:
        drop.append("plan=null")
    if scenario.policies.replan is not None:
        drop.append("policies.replan=null")
    return (model.variant(drop), drop) if drop else (None, [])


def evaluate(model: ScenarioModel, plan: Plan | None, backend: Backend, replications: int,
             seed: int = 0, progress: Progress | None = None, batch_seconds: float = 1.0,
             rules: bool = True) -> Evaluation:
    """Run the plan (and, with ``rules``, the scenario's rules on the same seeds) and judge."""
    against, drop = rules_model(model) if rules else (None, [])
    if against is None:
        reps = replicate(model, backend, replications, seed, progress=progress,
                         batch_seconds=batch_seconds)
        table = predictions(reps, plan)
        verdict = (f"Nothing to judge against the rules: the scenario runs no plan and no "
                   f"re-planning ({replications} replications of its own policies)."
                   if rules else f"The plan alone in {replications} replications; not "
                                 "compared with the rules.")
        return Evaluation(plan, reps, table, pd.DataFrame(), verdict, "no rules",
                          missed(table, plan), verdict)
    if replications < 2:
        raise ExperimentError(f"--replications must be >= 2 to judge a plan against the "
                              f"rules (got {replications})")
    cmp = compare({RULES: against, PLAN: model}, backend, replications, seed, crn=True,
                  kpis=JUDGED, progress=progress, batch_seconds=batch_seconds)
    reps = plan_arm(cmp)
    table = predictions(reps, plan)
    differences = paired_table(cmp)
    outcome, reasons = judge(differences)
    why = missed(table, plan)
    headline = headline_text(differences, replications)
    conclusion = conclusion_text(outcome, reasons, why, plan)
    told = [why_text(why)] if why and outcome != "wins" else []
    verdict = " ".join([headline, conclusion, *told])
    return Evaluation(plan, reps, table, differences, verdict, outcome, why, headline,
                      conclusion, cmp, drop)


def plan_arm(cmp: Comparison) -> Replications:
    """The plan's replications out of the comparison: what ``evaluate`` reported alone."""
    samples = (cmp.samples[cmp.samples["scenario"] == PLAN].drop(columns="scenario")
               .reset_index(drop=True))
    outputs = kpi_order(c for c in samples.columns if c not in ("replication", "seed"))
    watched = tuple(k for k in HEADLINE_KPIS if k in outputs) or tuple(outputs)
    return Replications(cmp.root_seed, samples, summarize(samples, outputs), watched,
                        stats=cmp.stats)


def predictions(reps: Replications, plan: Plan | None) -> pd.DataFrame:
    """The plan's prediction beside the simulated mean and interval, per compared KPI."""
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
    return pd.DataFrame(rows)


def scale(kpi: str) -> float:
    """100 for rates stored as fractions (read in percent, differences in points), else 1."""
    return 100.0 if describe(kpi).percent else 1.0


def difference_unit(kpi: str) -> str:
    """The unit of a difference in ``kpi``: points for rates, else the KPI's own unit."""
    return "points" if describe(kpi).percent else describe(kpi).unit


def paired_table(cmp: Comparison) -> pd.DataFrame:
    """Plan - rules per judged KPI in display units (see ``Evaluation.differences``)."""
    rows = []
    for d in cmp.differences.itertuples():
        k = scale(d.kpi)
        rows.append({
            "kpi": d.kpi, "label": describe(d.kpi).label, "unit": difference_unit(d.kpi),
            "rules_mean": d.mean_a * k, "plan_mean": d.mean_b * k,
            "difference": d.difference * k, "half_width": d.half_width * k,
            "ci_low": d.ci_low * k, "ci_high": d.ci_high * k, "p_value": d.p_value,
            "significant": bool(d.significant), "better": d.better,
            "variance_reduction": d.variance_reduction, "n": int(d.n)})
    return pd.DataFrame(rows)


def judge(differences: pd.DataFrame) -> tuple[Outcome, list[str]]:
    """wins, loses or no difference, with the reasons a plan loses."""
    by_kpi = differences.set_index("kpi")
    margin, fill = by_kpi.loc["contribution_margin_cny"], by_kpi.loc["fill_rate"]
    reasons = []
    if margin["ci_high"] < 0:
        reasons.append("its contribution margin is significantly lower")
    if fill["difference"] < -FILL_TOLERANCE_POINTS:
        reasons.append(f"it fills more than {FILL_TOLERANCE_POINTS:g} points less")
    if reasons:
        return "loses", reasons
    if margin["ci_low"] > 0:
        return "wins", []
    return "no difference", ["the difference in contribution margin is not significant"]


def headline_text(differences: pd.DataFrame, replications: int) -> str:
    """``This plan earns 74,945 CNY less than the rules [-117,582, -32,308] and fills 1.6
    points less [-2.4, -0.8] (20 replications, common random numbers).``"""
    by_kpi = differences.set_index("kpi")
    margin, fill = by_kpi.loc["contribution_margin_cny"], by_kpi.loc["fill_rate"]
    return (f"This plan {_earns(margin)} and {_fills(fill)} ({replications} replications, "
            "common random numbers).")


def conclusion_text(outcome: Outcome, reasons: Sequence[str], why: Sequence[str],
                    plan: Plan | None) -> str:
    """Whether the plan beats the rules and, when it does not, why not."""
    if outcome == "wins":
        return "It beats the rules."
    text = f"It does not beat the rules: {' and '.join(reasons)}."
    if why:
        return text
    if plan is not None and plan.metrics:
        return text + " Every prediction the plan made fell inside the simulated interval."
    return text + " The plan made no prediction of these KPIs to check."


def why_text(why: Sequence[str]) -> str:
    return "Where the plan's own prediction missed: " + "; ".join(why) + "."


def _earns(row: pd.Series) -> str:
    interval = _interval(row, "{:,.0f}")
    if row["half_width"] == 0 and row["difference"] == 0:
        return f"earns the same as the rules {interval}"
    more = "more" if row["difference"] > 0 else "less"
    amount = f"{abs(row['difference']):,.0f} CNY {more} than the rules"
    if row["significant"]:
        return f"earns {amount} {interval}"
    return f"earns {amount}, not a significant difference {interval}"


def _fills(row: pd.Series) -> str:
    interval = _interval(row, "{:,.1f}")
    if row["half_width"] == 0 and row["difference"] == 0:
        return f"fills the same {interval}"
    more = "more" if row["difference"] > 0 else "less"
    amount = f"{abs(row['difference']):.1f} points {more}"
    if row["significant"]:
        return f"fills {amount} {interval}"
    return f"fills {amount}, not significant {interval}"


def _interval(row: pd.Series, spec: str) -> str:
    return f"[{_number(spec, row['ci_low'])}, {_number(spec, row['ci_high'])}]"


def _number(spec: str, value: float) -> str:
    """The value as ``spec`` prints it, never as ``-0``."""
    text = spec.format(value + 0.0)
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def human(kpi: str, value: float) -> str:
    """A KPI's value for a sentence: ``95.4 %``, ``74,945 CNY``, ``1,230 units``, ``4.2 days``."""
    if value is None or not math.isfinite(value):
        return "-"
    described = describe(kpi)
    if described.percent:
        return f"{value * 100:.1f} %"
    number = bare(kpi, value)
    unit = described.unit
    return f"{number} {unit}" if unit and unit != "x" else number


def bare(kpi: str, value: float) -> str:
    """The number alone, in the same precision as ``human`` (percent for rates)."""
    described = describe(kpi)
    if described.percent:
        return _number("{:.1f}", value * 100)
    spec = described.format if described.format != "{:,.0f}" or abs(value) >= 100 \
        else "{:,.2f}"
    return _number(spec, value)


def missed(table: pd.DataFrame, plan: Plan | None) -> list[str]:
    """``the plan predicted fill 100.0 %, the simulation gave 95.4 % [95.1, 95.7]``, for every
    prediction outside the plan's simulated interval."""
    if plan is None or table.empty:
        return []
    lines = []
    for row in table.itertuples():
        if math.isnan(row.predicted) or row.inside:
            continue
        name = SHORT.get(row.kpi, describe(row.kpi).label.lower())
        lines.append(f"the plan predicted {name} {human(row.kpi, row.predicted)}, the "
                     f"simulation gave {human(row.kpi, row.mean)} "
                     f"[{bare(row.kpi, row.ci_low)}, {bare(row.kpi, row.ci_high)}]")
    return lines


def manifest(evaluation: Evaluation, model: ScenarioModel, scenario_file: str | Path,
             plan_file: str | Path | None, overrides: Sequence[str], days: int,
             root_seed: int, backend: str) -> EvaluationManifest:
    """What the results directory records of this evaluation."""
    reps = evaluation.replications
    compared = evaluation.comparison is not None
    rules_hash = (model.variant(evaluation.rules_overrides).fingerprint() if compared
                  else None)
    return EvaluationManifest(
        scenario_file=str(scenario_file), plan_file=str(plan_file) if plan_file else None,
        scenario_hash=model.fingerprint(), overrides=list(overrides), days=days,
        root_seed=root_seed, replication_seeds=reps.samples["seed"].tolist(),
        watched_kpis=list(reps.watched), backend=backend,
        replications=len(reps.samples), against_rules=compared,
        rules_overrides=list(evaluation.rules_overrides), rules_scenario_hash=rules_hash,
        outcome=evaluation.outcome, verdict=evaluation.verdict,
        headline=evaluation.headline, conclusion=evaluation.conclusion,
        why=list(evaluation.why),
        confidence=CONFIDENCE,
        state_file=model.state.file if model.state is not None else None,
        state_hash=model.state.fingerprint() if model.state is not None else None)


def write(out: Path, evaluation: Evaluation, manifest: EvaluationManifest) -> list[str]:
    """The tables (parquet and CSV) and the manifest, as one directory that appears whole."""
    tables = {"evaluation": evaluation.table, "replications": evaluation.replications.samples,
              "summary": evaluation.replications.summary.reset_index()}
    if evaluation.comparison is not None:
        tables |= {"differences": evaluation.differences,
                   "samples": evaluation.comparison.samples}
    return write_tables(out, tables, manifest, csv=True)
