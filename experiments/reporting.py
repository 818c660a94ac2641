"""Plain-text reports of experiments for the terminal: replications, comparisons, sweeps.

Numbers are formatted as in ``experiments.tables`` (thousands separators for money,
percentages for rates); intervals print as ``mean ± half-width``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from experiments.comparison import Comparison
from experiments.kpis import direction
from experiments.replications import Replications
from experiments.stats import CONFIDENCE
from experiments.sweep import SweepResult
from experiments.tables import KPI_LABELS

POINTS_SHOWN = 12


def label(kpi: str) -> str:
    """``Fill rate (units from stock) [%]``; unknown KPIs print as their names."""
    if kpi in KPI_LABELS:
        name, unit, _ = KPI_LABELS[kpi]
        return f"{name} [{unit}]" if unit else name
    outer, _, inner = kpi.partition(".")
    if outer == "landed_cost_per_unit_cny":
        return f"Landed cost per unit: {inner} [CNY]"
    if outer == "profit_and_loss_cny":
        return f"P&L: {inner} [CNY]"
    return kpi


FINER = {"{:.1%}": "{:.2%}", "{:.1f}": "{:.2f}", "{:.0f}": "{:.1f}", "{:.2f}": "{:.3f}"}
"""One more digit for differences, which are often much smaller than the values."""


def fmt(kpi: str, value: float, finer: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if kpi in KPI_LABELS:
        spec = KPI_LABELS[kpi][2]
    elif kpi.startswith("landed_cost_per_unit_cny."):
        spec = "{:,.2f}"
    elif kpi.startswith("profit_and_loss_cny."):
        spec = "{:,.0f}"
    else:
        spec = "{:,.4g}"
    if finer:
        spec = FINER.get(spec, spec)
    if spec == "{:,.0f}" and abs(value) < 100:
        spec = "{:,.2f}"
    return spec.format(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Aligned columns under a header and a rule."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def replications_report(reps: Replications, confidence: float = CONFIDENCE) -> str:
    summary = reps.summary
    kpis = [k for k in KPI_LABELS if k in summary.index]
    kpis += [k for k in summary.index if k.startswith("landed_cost_per_unit_cny.")]
    kpis += [k for k in summary.index if k not in kpis and not k.startswith("profit_and_loss")]
    rows = []
    for kpi in kpis:
        s = summary.loc[kpi]
        rows.append([label(kpi) + (" *" if kpi in reps.watched and reps.precision else ""),
                     fmt(kpi, s["mean"]), f"± {fmt(kpi, s['half_width'])}",
                     f"{s['rel_half_width']:.1%}" if math.isfinite(s["rel_half_width"]) else "-",
                     fmt(kpi, s["std"])])
    text = table(["KPI", "mean", f"{confidence:.0%} CI", "rel.", "std dev"], rows,
                 [False, True, False, True, True])
    if reps.precision is not None:
        kpi, width = reps.worst()
        n = len(reps.samples)
        verdict = ("reached" if reps.reached else f"NOT reached (cap {n} replications)")
        text += (f"\n\n* watched: precision ±{reps.precision:.1%} {verdict} with {n} "
                 f"replications; widest {kpi} ±{width:.2%}")
    return text


def comparison_report(cmp: Comparison, confidence: float = CONFIDENCE) -> str:
    means = cmp.summary["mean"].unstack("scenario")[cmp.labels]
    halves = cmp.summary["half_width"].unstack("scenario")[cmp.labels]
    rows = [[label(k), *(f"{fmt(k, means.at[k, s])} ± {fmt(k, halves.at[k, s])}"
                         for s in cmp.labels)] for k in cmp.kpis]
    parts = [f"Means ± {confidence:.0%} CI",
             table(["KPI", *cmp.labels], rows, [False, *[True] * len(cmp.labels)])]
    pairs = len(cmp.labels) * (len(cmp.labels) - 1) // 2
    rows = []
    for d in cmp.differences.itertuples():
        rows.append([label(d.kpi), f"{d.b} - {d.a}", fmt(d.kpi, d.difference, True),
                     f"[{fmt(d.kpi, d.ci_low, True)}, {fmt(d.kpi, d.ci_high, True)}]",
                     d.better or ("differ" if d.significant else "no difference"),
                     f"{d.variance_reduction:.0%}" if math.isfinite(d.variance_reduction)
                     else "-"])
    seeds = ("common random numbers" if cmp.common_random_numbers else "independent seeds")
    parts += ["", f"Paired differences ({seeds}; Bonferroni {confidence:.0%} joint intervals "
              f"over {pairs} pair{'s' if pairs > 1 else ''} per KPI; 'variance removed' = "
              "1 - Var(difference) / (Var(a) + Var(b)))",
              table(["KPI", "pair", "difference", "interval", "better", "variance removed"],
                    rows, [False, False, True, True, False, True])]
    rows = []
    for kpi, group in cmp.ranking.groupby("kpi", sort=False):
        if not direction(kpi):
            continue
        best = ", ".join(group.loc[group["best"], "scenario"])
        rows.append([label(kpi), _ranking(group), best])
    parts += ["", f"Ranking by mean; 'best' holds the best scenario with {confidence:.0%} "
              "confidence", table(["KPI", "ranking", "best"], rows, [False, False, False])]
    return "\n".join(parts)


def sweep_report(result: SweepResult) -> str:
    spec, design = result.sweep.spec, result.sweep.design
    kpis = spec.kpis[:3]
    points = result.points
    shown = points.head(POINTS_SHOWN)
    names = [p.name for p in design.parameters]
    rows = [[str(int(row["point"])), *(_value(row[n]) for n in names),
             *(f"{fmt(k, row[f'{k}_mean'])} ± {fmt(k, row[f'{k}_halfwidth'])}" for k in kpis)]
            for _, row in shown.iterrows()]
    text = table(["point", *names, *kpis], rows,
                 [True, *[True] * len(names), *[True] * len(kpis)])
    if len(points) > POINTS_SHOWN:
        text += f"\n... {len(points) - POINTS_SHOWN} more points in points.parquet"
    if result.sensitivity is not None:
        text += "\n\n" + sensitivity_report(result.sensitivity, design.kind)
    return text


def sensitivity_report(sensitivity: pd.DataFrame, kind: str) -> str:
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
    return title + "\n" + table(headers, rows, [False, False, True, True, True])


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
