"""Plain-text reports of experiments for the terminal: replications, comparisons, sweeps.

Numbers are formatted as the KPI registry (``experiments.kpis``) says (thousands separators
for money, percentages for rates); intervals print as ``mean ± half-width``, or for rates as
the interval itself clipped to [0, 100 %]; differences of rates are in percentage points.
Each report is built from titled tables (``Part``) computed from the result frames alone, so
the HTML report (``experiments.report``) shows the same rows read back from the stored parquet
files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from experiments.kpis import KPIS, describe, direction, fmt, label
from experiments.report.numbers import points, rate_interval
from experiments.stats import CONFIDENCE

if TYPE_CHECKING:  # the studies import their engines; the report's tables need only the types
    from experiments.studies.comparison import Comparison
    from experiments.studies.evaluate import Evaluation
    from experiments.studies.replications import Replications
    from experiments.studies.sweep import SweepResult

POINTS_SHOWN = 12


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Aligned columns under a header and a rule."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


@dataclass(frozen=True)
class Part:
    """A titled table: the unit both the terminal and the HTML reports are made of;
    ``totals`` are the indices of subtotal rows (shown in bold on a page)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    right: list[bool]
    totals: tuple[int, ...] = ()

    def text(self) -> str:
        body = table(self.headers, self.rows, self.right)
        return f"{self.title}\n{body}" if self.title else body


def report_kpis(names: Sequence[str]) -> list[str]:
    """KPIs in table order, then landed cost per route, then the rest; P&L lines left out."""
    kpis = [k for k in KPIS if k in names]
    kpis += [k for k in names if k.startswith("landed_cost_per_unit_cny.")]
    return kpis + [k for k in names if k not in kpis and not k.startswith("profit_and_loss")]


def replications_part(summary: pd.DataFrame, watched: Sequence[str] = (),
                      confidence: float = CONFIDENCE) -> Part:
    """Mean, interval, relative half-width and spread per KPI; ``summary`` is indexed by KPI
    and ``watched`` KPIs (those a precision target watched) are starred."""
    rows = []
    for kpi in report_kpis(list(summary.index)):
        s = summary.loc[kpi]
        ci = (rate_interval(s["mean"], s["half_width"]).split(" (")[-1].rstrip(")")
              if describe(kpi).percent else f"± {fmt(kpi, s['half_width'])}")
        rows.append([label(kpi) + (" *" if kpi in watched else ""),
                     fmt(kpi, s["mean"]), ci,
                     f"{s['rel_half_width']:.1%}" if math.isfinite(s["rel_half_width"]) else "-",
                     fmt(kpi, s["std"])])
    return Part("", ["KPI", "mean", f"{confidence:.0%} CI", "rel.", "std dev"], rows,
                [False, True, False, True, True])


def replications_report(reps: Replications, confidence: float = CONFIDENCE) -> str:
    text = replications_part(reps.summary, reps.watched if reps.precision else (),
                             confidence).text()
    if reps.precision is not None:
        kpi, width = reps.worst()
        n = len(reps.samples)
        verdict = ("reached" if reps.reached else f"NOT reached (cap {n} replications)")
        text += (f"\n\n* watched: precision ±{reps.precision:.1%} {verdict} with {n} "
                 f"replications; widest {kpi} ±{width:.2%}")
    return text


def comparison_parts(summary: pd.DataFrame, differences: pd.DataFrame, ranking: pd.DataFrame,
                     labels: Sequence[str], kpis: Sequence[str], common_random_numbers: bool,
                     confidence: float = CONFIDENCE) -> list[Part]:
    """Means per scenario, paired differences and ranking; ``summary`` is indexed by
    (scenario, KPI) as ``Comparison.summary`` is."""
    labels = list(labels)
    means = summary["mean"].unstack("scenario")[labels]
    halves = summary["half_width"].unstack("scenario")[labels]
    rows = [[label(k), *(mean_ci(k, means.at[k, s], halves.at[k, s]) for s in labels)]
            for k in kpis]
    parts = [Part(f"Means ± {confidence:.0%} CI", ["KPI", *labels], rows,
                  [False, *[True] * len(labels)])]
    pairs = len(labels) * (len(labels) - 1) // 2
    rows = []
    for d in differences.itertuples():
        rows.append([label(d.kpi), f"{d.b} - {d.a}", difference(d.kpi, d.difference),
                     f"[{difference(d.kpi, d.ci_low)}, {difference(d.kpi, d.ci_high)}]",
                     d.better or ("differ" if d.significant else "no difference"),
                     _removed(d.variance_reduction)])
    seeds = "common random numbers" if common_random_numbers else "independent seeds"
    parts.append(Part(
        f"Paired differences ({seeds}; Bonferroni {confidence:.0%} joint intervals over "
        f"{pairs} pair{'s' if pairs > 1 else ''} per KPI; rates differ in points; "
        "'variance removed' = 1 - Var(difference) / (Var(a) + Var(b)), 'none' where common "
        "random numbers removed none)",
        ["KPI", "pair", "difference", "interval", "better", "variance removed"], rows,
        [False, False, True, True, False, True]))
    rows = []
    for kpi, group in ranking.groupby("kpi", sort=False):
        if not direction(kpi):
            continue
        best = ", ".join(group.loc[group["best"], "scenario"])
        rows.append([label(kpi), _ranking(group), best])
    parts.append(Part(f"Ranking by mean; 'best' holds the best scenario with {confidence:.0%} "
                      "confidence", ["KPI", "ranking", "best"], rows, [False, False, False]))
    return parts


def mean_ci(kpi: str, mean: float, half_width: float) -> str:
    """``3,118,620 ± 98,423``; a rate as ``98.6 % (88.0 to 100.0 %)``, clipped."""
    if describe(kpi).percent:
        return rate_interval(mean, half_width)
    return f"{fmt(kpi, mean)} ± {fmt(kpi, half_width)}"


def difference(kpi: str, value: float) -> str:
    """A difference of two values: rates in points, the rest as the KPI prints."""
    return points(value, 2) if describe(kpi).percent else fmt(kpi, value, True)


def _removed(share: float) -> str:
    """The share of variance common random numbers removed; 'none' when they added some
    (the two arms' noise moved apart: a difference no paired design can make smaller)."""
    if not math.isfinite(share):
        return "-"
    return "none" if share <= 0 else f"{share:.0%}"


def comparison_report(cmp: Comparison, confidence: float = CONFIDENCE) -> str:
    parts = comparison_parts(cmp.summary, cmp.differences, cmp.ranking, cmp.labels, cmp.kpis,
                             cmp.common_random_numbers, confidence)
    return "\n\n".join(part.text() for part in parts)


def prediction_part(table: pd.DataFrame) -> Part:
    """Each compared KPI: the plan's prediction beside the plan's simulated mean ± half-width,
    the gap and whether the prediction fell inside the interval (``Evaluation.table``)."""
    rows = []
    for row in table.itertuples():
        predicted = fmt(row.kpi, row.predicted)
        rows.append([label(row.kpi), predicted,
                     f"{fmt(row.kpi, row.mean)} ± {fmt(row.kpi, row.half_width)}",
                     "-" if predicted == "-" else fmt(row.kpi, row.gap, finer=True),
                     "-" if predicted == "-" else ("yes" if row.inside else "NO")])
    return Part("The plan's predictions against the simulated plan",
                ["KPI", "plan predicted", "simulated (95% CI)", "gap", "in CI"], rows,
                [False, True, True, True, True])


def differences_part(differences: pd.DataFrame, confidence: float = CONFIDENCE) -> Part:
    """Plan - rules per judged KPI (``Evaluation.differences``, in display units)."""
    replications = int(differences["n"].max()) if len(differences) else 0
    rows = []
    for d in differences.itertuples():
        rows.append([d.label, d.unit, _shown(d.kpi, d.rules_mean), _shown(d.kpi, d.plan_mean),
                     _shown(d.kpi, d.difference, signed=True),
                     f"[{_shown(d.kpi, d.ci_low, signed=True)}, "
                     f"{_shown(d.kpi, d.ci_high, signed=True)}]",
                     d.better or ("differ" if d.significant else "no difference")])
    return Part(f"Paired differences, plan - rules ({replications} replications on common "
                f"random numbers, {confidence:.0%} intervals; rates in %, their differences "
                "in points)",
                ["KPI", "unit", "rules", "plan", "plan - rules", f"{confidence:.0%} interval",
                 "better"], rows, [False, False, True, True, True, True, False])


def _shown(kpi: str, value: float, signed: bool = False) -> str:
    """A value already in display units (percent, points): ``96.6``, ``+1,234``, ``-0.25``."""
    if value is None or not math.isfinite(value):
        return "-"
    described = describe(kpi)
    if described.percent:
        spec = "{:.2f}" if signed else "{:.1f}"
    else:
        spec = described.format
        if spec == "{:,.0f}" and abs(value) < 100 and signed:
            spec = "{:,.1f}"
    text = spec.format(value + 0.0)
    if not text.strip("-0.,"):
        return text.lstrip("-")
    return ("+" + text) if signed and value > 0 else text


def evaluation_lines(evaluation: Evaluation) -> list[str]:
    """The verdict as the terminal prints it: headline, conclusion, then one line per missed
    prediction when the plan does not beat the rules."""
    lines = [evaluation.headline or evaluation.verdict]
    if evaluation.conclusion:
        lines.append(evaluation.conclusion)
    if evaluation.why and evaluation.outcome != "wins":
        lines.append("Where the plan's own prediction missed:")
        lines += [f"  - {line}" for line in evaluation.why]
    return lines


def evaluation_report(evaluation: Evaluation) -> str:
    """Verdict, paired differences (when compared with the rules) and the predictions."""
    parts = [prediction_part(evaluation.table)]
    if not evaluation.differences.empty:
        parts.insert(0, differences_part(evaluation.differences))
    return "\n\n".join(["\n".join(evaluation_lines(evaluation)),
                         *(part.text() for part in parts)])


def points_part(points: pd.DataFrame, names: Sequence[str], kpis: Sequence[str],
                shown: int = POINTS_SHOWN) -> Part:
    """The first ``shown`` design points: parameter values and KPI means ± half-widths."""
    rows = [[str(int(row["point"])), *(_value(row[n]) for n in names),
             *(f"{fmt(k, row[f'{k}_mean'])} ± {fmt(k, row[f'{k}_halfwidth'])}" for k in kpis)]
            for _, row in points.head(shown).iterrows()]
    return Part("", ["point", *names, *kpis], rows, [True] * (1 + len(names) + len(kpis)))


def sweep_report(result: SweepResult) -> str:
    spec, design = result.sweep.spec, result.sweep.design
    points = result.points
    text = points_part(points, [p.name for p in design.parameters], spec.kpis[:3]).text()
    if len(points) > POINTS_SHOWN:
        text += f"\n... {len(points) - POINTS_SHOWN} more points in points.parquet"
    if result.sensitivity is not None:
        text += "\n\n" + sensitivity_report(result.sensitivity, design.kind)
    return text


def sensitivity_part(sensitivity: pd.DataFrame, kind: str) -> Part:
    """Sobol' S1/ST (and S2) or Morris mu*/sigma per KPI and parameter, with noise share."""
    rows = []
    for r in sensitivity.itertuples():
        if kind == "sobol" and ":" in r.parameter:
            cells = [f"S2 {r.S2:.3f} ± {r.S2_conf:.3f}", ""]
        elif kind == "sobol":
            cells = [f"{r.S1:.3f} ± {r.S1_conf:.3f}", f"{r.ST:.3f} ± {r.ST_conf:.3f}"]
        else:
            cells = [f"{r.mu_star:,.4g} ± {r.mu_star_conf:,.3g}", f"{r.sigma:,.4g}"]
        rows.append([r.kpi, r.parameter, *cells,
                     f"{r.noise_share:.2f}" if math.isfinite(r.noise_share) else "-"])
    headers = (["KPI", "parameter", "S1 (first order)", "ST (total)", "noise share"]
               if kind == "sobol" else ["KPI", "parameter", "mu*", "sigma", "noise share"])
    title = ("Sobol' indices on replication means (± = 95 % bootstrap half-width)"
             if kind == "sobol" else
             "Morris screening on replication means (effect across each parameter's range)")
    return Part(title, headers, rows, [False, False, True, True, True])


def sensitivity_report(sensitivity: pd.DataFrame, kind: str) -> str:
    return sensitivity_part(sensitivity, kind).text()


def _ranking(group: pd.DataFrame) -> str:
    """``a > b = c``: scenarios from best to worst mean, ``=`` between equal means."""
    text = ""
    previous = None
    for scenario, mean in zip(group["scenario"], group["mean"], strict=True):
        if previous is not None:
            text += " = " if mean == previous else " > "
        text += scenario
        previous = mean
    return text


def _value(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
