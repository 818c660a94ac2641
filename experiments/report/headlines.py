"""The answer each experiment page opens with: one sentence and five to seven figures, each
set against what it should be compared with: the baseline scenario on a comparison, the rules
on an evaluation, the starting point on a tune, and otherwise its own 95 % interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from experiments.kpis import HEADLINE_KPIS, describe, direction
from experiments.report.html import Headline, Stat
from experiments.report.names import parameter_label
from experiments.report.numbers import kpi_interval, kpi_range, kpi_value, number
from experiments.report.text import report_kpis

MOST = 6
LEADS = ("contribution_margin_cny", "fill_rate", "on_time_rate", "lost_sales_units",
         "logistics_cost_per_unit_cny", "mean_delivery_days", "min_cash_cny",
         "peak_working_capital_cny", "net_revenue_cny", "orders")
"""The KPIs a headline prefers, in order, when the result holds them."""


def leading(kpis: Sequence[str], most: int = MOST) -> list[str]:
    """Up to ``most`` KPIs for a headline: the preferred ones first, then the rest."""
    ordered = [k for k in (*LEADS, *HEADLINE_KPIS) if k in kpis]
    ordered += [k for k in report_kpis(list(kpis)) if k not in ordered]
    return list(dict.fromkeys(ordered))[:most]


def _name(kpi: str) -> str:
    return describe(kpi).label


def _tone(kpi: str, value: float) -> Literal["", "bad"]:
    return "bad" if kpi.endswith("margin_cny") and value < 0 else ""


def replications(summary: pd.DataFrame, n: int, name: str) -> Headline:
    """Means with their 95 % intervals; ``summary`` is indexed by KPI."""
    kpis = leading([k for k in summary.index if not k.startswith("profit_and_loss")])
    stats = [Stat(_name(k), kpi_value(k, summary.at[k, "mean"]),
                  "95 % CI " + kpi_range(k, summary.at[k, "mean"],
                                         summary.at[k, "half_width"]),
                  _tone(k, summary.at[k, "mean"])) for k in kpis]
    said = "; ".join(
        f"{_name(k).lower()} "
        f"{kpi_interval(k, summary.at[k, 'mean'], summary.at[k, 'half_width'])}"
        for k in kpis[:3])
    return Headline(f"Over {n} replications of {name} (means with 95 % intervals): {said}.",
                    stats)


def comparison(summary: pd.DataFrame, differences: pd.DataFrame, labels: Sequence[str],
               kpis: Sequence[str]) -> Headline:
    """The best scenario on each leading KPI against the first scenario (the baseline)."""
    base = labels[0]
    means = summary.set_index(["scenario", "kpi"])["mean"]
    stats = []
    sentence = ""
    for kpi in leading(kpis):
        sense = direction(kpi) or 1
        values = {s: means[(s, kpi)] for s in labels}
        best = max(labels, key=lambda s: sense * values[s])
        other = best if best != base else max(
            (s for s in labels if s != base), key=lambda s: sense * values[s])
        row = differences[(differences["kpi"] == kpi) & (
            ((differences["a"] == base) & (differences["b"] == other))
            | ((differences["a"] == other) & (differences["b"] == base)))]
        gap = values[other] - values[base]
        real = bool(row["significant"].iloc[0]) if len(row) else False
        compare = (f"{other} vs {base}: {kpi_value(kpi, gap, difference=True)} "
                   + ("(significant)" if real else "(not significant)"))
        stats.append(Stat(f"{_name(kpi)}: best {best}" if direction(kpi) else _name(kpi),
                          kpi_value(kpi, values[best]), compare, _tone(kpi, values[best])))
        if not sentence and direction(kpi):
            sentence = (f"{best} does best on {_name(kpi).lower()} "
                        f"({kpi_value(kpi, values[best])}"
                        + (f", {kpi_value(kpi, values[best] - values[base], True)} against the "
                           f"baseline {base}" if best != base else ", ahead of every "
                           "alternative") + ")"
                        + ("; the gap is real with 95 % joint confidence." if real else
                           "; the gap is within the noise of these replications."))
    return Headline(sentence or f"{len(labels)} scenarios compared.", stats)


def evaluation(differences: pd.DataFrame, sentence: str) -> Headline:
    """Plan against the rules per judged KPI (differences already in display units: rates
    in percent and their differences in points)."""
    stats = []
    for d in differences.head(7).itertuples():
        percent = describe(d.kpi).percent
        value = (f"{number(d.plan_mean, 1)} %" if percent
                 else kpi_value(d.kpi, d.plan_mean))
        gap = (f"{'+' if d.difference > 0 else ''}{number(d.difference, 1)} pts" if percent
               else kpi_value(d.kpi, d.difference, difference=True))
        verdict = (f"{d.better} better" if d.better else
                   "differ" if d.significant else "no difference")
        stats.append(Stat(f"{d.label} (plan)", value, f"vs rules: {gap} ({verdict})",
                          "bad" if d.better == "rules" else "good" if d.better == "plan"
                          else ""))
    return Headline(sentence, stats)


def _noise(share: float) -> str:
    """The replication noise left in an index: above 1 it is all noise."""
    if not share == share:
        return "-"
    return "above 1 (add replications)" if share > 1 else number(share, 2)


def sweep(sensitivity: pd.DataFrame | None, points: pd.DataFrame, kind: str,
          parameters: Sequence[str], kpis: Sequence[str], cells: int) -> Headline:
    """Per KPI, the parameter that moves it most (total Sobol' index or Morris mu*) and the
    range its mean covers over the design; then the design itself."""
    drivers: list[Stat] = []
    said = []
    if sensitivity is not None and len(sensitivity):
        column = "ST" if kind == "sobol" else "mu_star"
        main = sensitivity[~sensitivity["parameter"].str.contains(":")]
        for kpi in list(dict.fromkeys(main["kpi"]))[:3]:
            top = main[main["kpi"] == kpi].sort_values(column, ascending=False).iloc[0]
            what = "total index (in [0, 1])" if kind == "sobol" else "mean effect"
            value = (number(min(1.0, max(0.0, top[column])), 2) if kind == "sobol"
                     else kpi_value(kpi, top[column], difference=True))
            drivers.append(Stat(f"{_name(kpi)}: driven by", parameter_label(top["parameter"]),
                                f"{what} {value}; noise share {_noise(top['noise_share'])}"))
            said.append(f"{_name(kpi).lower()} by {parameter_label(top['parameter'])}"
                        if top[column] > 0 else f"nothing moved {_name(kpi).lower()}")
    ranges = [Stat(f"{_name(k)} over the design", kpi_value(k, points[f"{k}_mean"].mean()),
                   f"point means from {kpi_value(k, points[f'{k}_mean'].min())} to "
                   f"{kpi_value(k, points[f'{k}_mean'].max())}")
              for k in kpis if f"{k}_mean" in points.columns]
    design = [Stat("Design", f"{len(points)} points",
                   f"{kind}, {len(parameters)} parameters, {cells} simulations"),
              Stat("Replications per point", number(cells / max(1, len(points))),
                   "common seeds at every point")]
    stats = drivers + ranges[:max(1, 5 - len(drivers) - 1)] + design
    sentence = ("What drives each KPI most: " + "; ".join(said)
                + "." if said else f"{len(points)} design points over {len(parameters)} "
                "parameters; no sensitivity indices for this design.")
    return Headline(sentence, stats[:7])
