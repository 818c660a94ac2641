"""Statistics of replications: means with t-intervals, paired differences, a safe ranking.

Replications of one scenario use different seeds and are independent, so for n values of a KPI

    mean m, sample standard deviation s, half-width h = t(1 - a/2, n - 1) s / sqrt(n),
    interval m +- h (confidence 1 - a), relative half-width h / |m|.

Scenarios compared on the same replication seeds (common random numbers) give paired values;
the differences d_r = x_jr - x_ir are again independent across r, so the same t-interval
holds for the mean difference, and its variance Var(x_i) + Var(x_j) - 2 Cov(x_i, x_j) is
smaller than the Var(x_i) + Var(x_j) of independent runs whenever CRN makes them move
together. ``variance_reduction = 1 - Var(d) / (Var(x_i) + Var(x_j))`` estimates the share of
the variance that CRN removed (0 for independent seeds, up to 1).

With k scenarios there are m = k(k-1)/2 pairs per KPI; Bonferroni intervals spend a/m on each,
so all of them hold together with probability >= 1 - a. The *best subset* keeps every
scenario that no other is significantly better than; because the intervals hold jointly, it
contains the truly best scenario with probability >= 1 - a.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from experiments.kpis import direction

CONFIDENCE = 0.95


def t_quantile(n: int | np.ndarray, confidence: float = CONFIDENCE,
               comparisons: int = 1) -> np.ndarray:
    """t(1 - a / (2 m), n - 1): the two-sided quantile for ``comparisons`` joint intervals."""
    from scipy import stats as st  # ~0.7 s to import: only replications pay it, not a run

    alpha = (1.0 - confidence) / comparisons
    df = np.asarray(n, dtype=float) - 1.0
    with np.errstate(invalid="ignore"):
        return np.where(df >= 1, st.t.ppf(1.0 - alpha / 2.0, np.maximum(df, 1.0)), np.nan)


def summarize(samples: pd.DataFrame, kpis: Sequence[str],
              confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per KPI: n, mean, std, half-width, interval and relative half-width."""
    values = samples[list(kpis)].astype(float)
    n = values.count().to_numpy()
    mean = values.mean().to_numpy()
    std = values.std(ddof=1).to_numpy()
    half = t_quantile(n, confidence) * std / np.sqrt(np.maximum(n, 1))
    table = pd.DataFrame({"n": n, "mean": mean, "std": std, "half_width": half,
                          "ci_low": mean - half, "ci_high": mean + half,
                          "rel_half_width": relative(half, mean)}, index=list(kpis))
    table.index.name = "kpi"
    return table


def relative(half_width: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """h / |m|; 0 when h is 0 (a constant KPI), infinite when m is 0 but h is not."""
    half_width, mean = np.asarray(half_width, float), np.abs(np.asarray(mean, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(half_width == 0, 0.0, half_width / mean)
    return np.where((mean == 0) & (half_width > 0), np.inf, out)


def group_summary(results: pd.DataFrame, by: Sequence[str], kpis: Sequence[str],
                  confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per group (design point): ``n`` and ``KPI_mean``, ``KPI_std``, ``KPI_halfwidth``."""
    grouped = results.groupby(list(by), sort=True, dropna=False)[list(kpis)]
    n = grouped.size().rename("n")
    mean, std = grouped.mean(), grouped.std(ddof=1)
    half = std.mul(t_quantile(n.to_numpy(), confidence) / np.sqrt(n.to_numpy()), axis=0)
    columns = {}
    for kpi in kpis:
        columns[f"{kpi}_mean"] = mean[kpi]
        columns[f"{kpi}_std"] = std[kpi]
        columns[f"{kpi}_halfwidth"] = half[kpi]
    return pd.concat([n, pd.DataFrame(columns)], axis=1).reset_index()


def paired_differences(samples: pd.DataFrame, kpis: Sequence[str], order: Sequence[str],
                       by: str = "scenario", confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Every pair (a, b) of ``order``, per KPI: b - a with Bonferroni joint intervals.

    Replications are matched on the ``replication`` column; ``better`` names the scenario the
    interval shows to be better (by the KPI's direction), or is empty.
    """
    pairs = list(combinations(order, 2))
    wide = samples.pivot(index="replication", columns=by, values=list(kpis))
    rows = []
    for kpi in kpis:
        sign = direction(kpi)
        for a, b in pairs:
            xa, xb = wide[(kpi, a)].to_numpy(float), wide[(kpi, b)].to_numpy(float)
            keep = ~(np.isnan(xa) | np.isnan(xb))
            xa, xb = xa[keep], xb[keep]
            d = xb - xa
            n = len(d)
            mean = float(d.mean()) if n else math.nan
            sd = float(d.std(ddof=1)) if n > 1 else math.nan
            half = float(t_quantile(n, confidence, len(pairs)) * sd / math.sqrt(max(n, 1)))
            p = _paired_p_value(mean, sd, n)
            low, high = mean - half, mean + half
            significant = bool(low > 0 or high < 0)
            better = ""
            if significant and sign:
                better = b if (mean > 0) == (sign > 0) else a
            independent = (float(xa.var(ddof=1)) + float(xb.var(ddof=1))) if n > 1 else math.nan
            rows.append({
                "kpi": kpi, "a": a, "b": b, "n": n, "mean_a": float(xa.mean()) if n else math.nan,
                "mean_b": float(xb.mean()) if n else math.nan, "difference": mean,
                "std": sd, "half_width": half, "ci_low": low, "ci_high": high,
                "p_value": p, "p_bonferroni": min(1.0, p * len(pairs)),
                "significant": significant, "better": better,
                "variance_reduction": 1.0 - sd ** 2 / independent if independent > 0
                else math.nan})
    return pd.DataFrame(rows)


def _paired_p_value(mean: float, sd: float, n: int) -> float:
    if n < 2 or not math.isfinite(sd):
        return math.nan
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    from scipy import stats as st

    return float(2.0 * st.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))


def rank(differences: pd.DataFrame, means: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Per KPI and scenario: rank by mean (1 = best), membership of the best subset, and the
    scenarios it is significantly better than. ``means`` is indexed by scenario, KPI columns.
    """
    rows = []
    for kpi, table in differences.groupby("kpi", sort=False):
        sign = direction(kpi)
        beats: dict[str, list[str]] = {s: [] for s in order}
        for row in table.itertuples():
            if row.better:
                beats[row.better].append(row.b if row.better == row.a else row.a)
        beaten = {loser for winners in beats.values() for loser in winners}
        values = means[kpi]
        ordered = sorted(order, key=lambda s: -sign * values[s]) if sign else list(order)
        for position, scenario in enumerate(ordered, start=1):
            rows.append({"kpi": kpi, "scenario": scenario, "mean": float(values[scenario]),
                         "rank": position if sign else 0,
                         "best": bool(sign) and scenario not in beaten,
                         "better_than": ", ".join(beats[scenario])})
    return pd.DataFrame(rows)
