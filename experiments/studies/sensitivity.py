"""Global sensitivity of the KPIs to the swept parameters: Sobol' indices or Morris screening.

Indices are computed by SALib on the *replication means* of the design points, in design
order, so replications average the model's own noise down before the analysis sees it.
``noise_share`` says how much noise is left: the mean within-point variance over the number
of replications, as a share of the variance between point means. Near 0 the indices describe
the parameters; above ~0.1 they partly describe the noise, and more replications help.
Points share replication seeds (common random numbers), so noise common to all points cancels
between them: the share is then an upper estimate.

* Sobol' (``sobol`` design): ``S1`` is the share of the KPI's variance a parameter explains
  alone, ``ST`` its share including every interaction; ``*_conf`` is the half-width of the
  bootstrap confidence interval. With ``second_order`` the pairs appear as extra rows named
  ``a:b`` carrying ``S2`` and ``S2_conf``.
* Morris (``morris`` design): ``mu_star`` is the mean absolute elementary effect, ``sigma``
  their spread (non-linearity or interactions), ``mu`` the signed mean. Inputs are scaled to
  [0, 1], so an effect is the KPI's change across a parameter's whole range.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.stats import CONFIDENCE
from experiments.studies.designs import Design
from sim.atomic import atomic_write

RESAMPLES = 500
ANALYSED = ("sobol", "morris")


def analyse(design: Design, points: pd.DataFrame, kpis: Sequence[str], replications: int,
            confidence: float = CONFIDENCE, seed: int = 0) -> pd.DataFrame:
    """Indices per KPI and parameter; ``points`` is ``stats.group_summary`` by point."""
    if design.kind not in ANALYSED:
        raise ValueError(f"no sensitivity analysis for a {design.kind} design")
    points = points.sort_values("point")
    frames = []
    for kpi in kpis:
        y = points[f"{kpi}_mean"].to_numpy(float)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            table = (_sobol(design, y, confidence, seed) if design.kind == "sobol"
                     else _morris(design, y, confidence, seed))
        table.insert(0, "kpi", kpi)
        table["noise_share"] = _noise_share(points, kpi, replications)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _sobol(design: Design, y: np.ndarray, confidence: float, seed: int) -> pd.DataFrame:
    from SALib.analyze import sobol

    names = [p.name for p in design.parameters]
    if not np.isfinite(y).all():
        return pd.DataFrame({"parameter": names, "S1": np.nan, "S1_conf": np.nan,
                             "ST": np.nan, "ST_conf": np.nan})
    result = sobol.analyze(design.salib_problem(), y, calc_second_order=design.second_order,
                           num_resamples=RESAMPLES, conf_level=confidence, seed=seed)
    table = pd.DataFrame({"parameter": names, "S1": result["S1"], "S1_conf": result["S1_conf"],
                          "ST": result["ST"], "ST_conf": result["ST_conf"]})
    if design.second_order:
        pairs = [{"parameter": f"{names[i]}:{names[j]}", "S2": result["S2"][i, j],
                  "S2_conf": result["S2_conf"][i, j]}
                 for i, j in combinations(range(len(names)), 2)]
        table = pd.concat([table, pd.DataFrame(pairs)], ignore_index=True)
    return table


def _morris(design: Design, y: np.ndarray, confidence: float, seed: int) -> pd.DataFrame:
    from SALib.analyze import morris

    names = [p.name for p in design.parameters]
    if not np.isfinite(y).all():
        return pd.DataFrame({"parameter": names, "mu": np.nan, "mu_star": np.nan,
                             "mu_star_conf": np.nan, "sigma": np.nan})
    result = morris.analyze(design.salib_problem(), design.unit, y, num_resamples=RESAMPLES,
                            conf_level=confidence, num_levels=design.levels, seed=seed)
    return pd.DataFrame({"parameter": names, "mu": np.asarray(result["mu"], float),
                         "mu_star": np.asarray(result["mu_star"], float),
                         "mu_star_conf": np.asarray(result["mu_star_conf"], float),
                         "sigma": np.asarray(result["sigma"], float)})


def _noise_share(points: pd.DataFrame, kpi: str, replications: int) -> float:
    if replications < 2:
        return float("nan")
    between = float(points[f"{kpi}_mean"].var(ddof=1))
    within = float((points[f"{kpi}_std"] ** 2).mean()) / replications
    if between == 0:
        return 0.0 if within == 0 else float("inf")
    return within / between


def bar_chart(table: pd.DataFrame, kind: str, path: Path) -> None:
    """One panel per KPI: S1 and ST (Sobol) or mu* (Morris) per parameter, with intervals."""
    from matplotlib.figure import Figure

    kpis = list(dict.fromkeys(table["kpi"]))
    fig = Figure(figsize=(7.5, 1.2 + 1.9 * len(kpis)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(kpis), 1, squeeze=False)[:, 0])
    for ax, kpi in zip(axes, kpis, strict=True):
        rows = table[(table["kpi"] == kpi) & ~table["parameter"].str.contains(":")]
        y = np.arange(len(rows))
        if kind == "sobol":
            ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], label="first order S1")
            ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], label="total ST")
        else:
            ax.barh(y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], label="mu*")
        ax.set_yticks(y, rows["parameter"])
        ax.invert_yaxis()
        ax.set_title(kpi, fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
        ax.axvline(0.0, color="grey", linewidth=0.6)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", fontsize=8,
               ncols=2)
    axes[-1].set_xlabel("Sobol' index (95 % CI)" if kind == "sobol"
                        else "mu*: mean |effect| over the parameter's range (95 % CI)")
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
