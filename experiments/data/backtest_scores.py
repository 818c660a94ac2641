"""How well simulated histories match the actuals: WAPE, bias and interval coverage.

Per cell (a market or SKU class, a month, a measure) the replications give a mean and a
90 % interval; over a measure's cells

    WAPE      = sum |mean - actual| / sum |actual|
    bias      = sum (mean - actual) / sum actual        (positive: the model runs high)
    coverage  = share of cells whose actual lies within the interval

The interval's ends are the 5th and 95th percentiles of the replications taken as Weibull
(Hyndman-Fan type 6) quantiles, at rank p (n + 1): with n replications a new draw from the
same model falls between them with probability 90 %, so a model that generated the actuals
covers 90 % of cells on average whatever n is (the default linear quantiles cover only
0.9 (n - 1) / (n + 1), 81 % for 20 replications).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.backtest_measures import CELL, LABELS, MEASURES, fill_counts

INTERVAL = (0.05, 0.95)
GOOD_BIAS = 0.05
"""|bias| up to this is a level the model reproduces."""
GOOD_COVERAGE = 0.75
"""Coverage of the 90 % intervals at least this: the model's spread is about right (below,
the history varies more than the model does)."""
CELL_WORDS = {"market": "market-months", "class": "class-months"}


def cell_table(actual: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: actual, mean, p05, p95, covered, replications with a value.

    ``actual`` has the cell columns and ``value``; ``samples`` also ``replication``.
    """
    wide = samples.pivot_table(index=CELL, columns="replication", values="value",
                               aggfunc="first")
    reps = sorted(samples["replication"].unique())
    wide = wide.reindex(columns=reps)
    observed = actual.set_index(CELL)["value"]
    index = wide.index.union(observed.index)
    wide = wide.reindex(index)
    measures = index.get_level_values("measure").to_numpy()
    matrix = fill_counts(wide.to_numpy(dtype=float), measures)
    truth = fill_counts(observed.reindex(index).to_numpy(dtype=float)[:, None], measures)[:, 0]
    with np.errstate(all="ignore"):
        valid = ~np.isnan(matrix).all(axis=1)
        mean = np.full(len(index), np.nan)
        low, high = mean.copy(), mean.copy()
        mean[valid] = np.nanmean(matrix[valid], axis=1)
        low[valid], high[valid] = np.nanquantile(matrix[valid], INTERVAL, axis=1,
                                                 method="weibull")
    out = index.to_frame(index=False)
    out["actual"], out["mean"], out["p05"], out["p95"] = truth, mean, low, high
    out["covered"] = (truth >= low) & (truth <= high)
    out["replications"] = (~np.isnan(matrix)).sum(axis=1)
    return out.sort_values(CELL, ignore_index=True)


def scores(cells: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """WAPE, bias and coverage over the cells that have both an actual and a simulated
    value, grouped by ``by`` (which names ``measure``; rows in the order of MEASURES)."""
    usable = cells[cells["actual"].notna() & cells["mean"].notna()]
    rows = []
    for key, part in usable.groupby(by, sort=False):
        keys = key if isinstance(key, tuple) else (key,)
        total = float(part["actual"].abs().sum())
        error = part["mean"] - part["actual"]
        rows.append({**dict(zip(by, keys, strict=True)),
                     "wape": float(error.abs().sum()) / total if total else np.nan,
                     "bias": float(error.sum()) / float(part["actual"].sum()) if total
                     else np.nan,
                     "coverage": float(part["covered"].mean()), "cells": len(part),
                     "actual_total": float(part["actual"].sum()),
                     "simulated_total": float(part["mean"].sum())})
    rows.sort(key=lambda r: MEASURES.index(r["measure"]))
    return pd.DataFrame(rows, columns=[*by, "wape", "bias", "coverage", "cells",
                                       "actual_total", "simulated_total"])


def verdict(row: pd.Series) -> str:
    """One line per measure and breakdown, e.g. ``orders: WAPE 4.1 %, bias -1.2 %, 90 %
    coverage 88 % over 36 market-months: the model reproduces the history``."""
    measure, breakdown = str(row["measure"]), str(row["breakdown"])
    numbers = (f"{LABELS.get(measure, measure)}: WAPE {pct(row['wape'])}, bias "
               f"{pct(row['bias'], signed=True)}, 90 % coverage {pct(row['coverage'], 0)} "
               f"over {row['cells']} {CELL_WORDS.get(breakdown, 'cells')}")
    bias, coverage = float(row["bias"]), float(row["coverage"])
    if np.isnan(bias):
        judgement = "no actual volume to judge by"
    elif abs(bias) > GOOD_BIAS:
        judgement = f"the model runs {'high' if bias > 0 else 'low'} by {pct(abs(bias))}"
    elif coverage < GOOD_COVERAGE:
        judgement = ("the level is right but the history varies more than the model: its "
                     "intervals are too narrow")
    else:
        judgement = "the model reproduces the history"
    return f"{numbers}: {judgement}"


def pct(value: float, digits: int = 1, signed: bool = False) -> str:
    """A share as a percentage, not clipped (a bias runs either way, a WAPE past 100 %)."""
    if np.isnan(value):
        return "-"
    return f"{100 * value:{'+' if signed else ''}.{digits}f} %"
