"""The figures of experiments: replications, paired differences and a sweep's response.

Rates stored as fractions (fill rate, on-time rate) are drawn in percent, as the tables
print them; every panel's y axis carries the KPI's unit (``experiments.report.text``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from experiments.kpis import describe, name_and_unit
from experiments.report.names import parameter_label
from experiments.report.plots import panel_grid, save_figure

MOST_PANELS = 12
"""No figure holds more panels than this; the rest of the numbers are in the tables."""


def scale(kpi: str) -> float:
    """100 for KPIs stored as fractions and printed in percent, else 1."""
    return 100.0 if describe(kpi).percent else 1.0


def _plain_numbers(axis: Axis, values: np.ndarray) -> None:
    """Thousands separators instead of a '1e6' offset, for money and counts."""
    if np.nanmax(np.abs(values), initial=0.0) >= 1e4:
        axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def replications_figure(samples: pd.DataFrame, summary: pd.DataFrame, kpis: Sequence[str],
                        path: Path) -> Path:
    """Each replication's value per KPI, with the mean and its 95 % interval."""
    kpis = list(kpis)[:MOST_PANELS]
    fig, axes = panel_grid(len(kpis), 4, 3.0, 2.6)
    rng = np.random.default_rng(0)
    for ax, kpi in zip(axes, kpis, strict=False):
        k = scale(kpi)
        values = samples[kpi].to_numpy(float) * k
        row = summary.loc[kpi]
        ax.axhspan(row["ci_low"] * k, row["ci_high"] * k, color="#1f77b4", alpha=0.2,
                   label="95 % CI of the mean")
        ax.axhline(row["mean"] * k, color="#1f77b4", label="mean")
        ax.scatter(rng.uniform(-0.3, 0.3, len(values)), values, s=14, color="#3d444d",
                   label="replication")
        _plain_numbers(ax.yaxis, values)
        name, unit = name_and_unit(kpi)
        ax.set_title(name)
        ax.set_ylabel(unit or "value")
        ax.set_xticks([])
        ax.set_xlim(-0.6, 0.6)
        ax.tick_params(labelsize=9)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3,
               fontsize=9)
    fig.suptitle(f"{len(samples)} replications: spread and the precision of the mean")
    return save_figure(fig, path)


def differences_figure(differences: pd.DataFrame, path: Path) -> Path:
    """Paired differences with their joint intervals: one panel per KPI (rates in points),
    one row per pair, stacked so pair names and long numbers have room; an interval clear
    of zero is a significant difference."""
    kpis = list(dict.fromkeys(differences["kpi"]))[:MOST_PANELS]
    pairs = int(differences.groupby("kpi").size().max())
    fig, axes = panel_grid(len(kpis), 2, 6.4, 1.1 + 0.45 * pairs)
    for ax, kpi in zip(axes, kpis, strict=False):
        rows = differences[differences["kpi"] == kpi]
        k = scale(kpi)
        y = np.arange(len(rows))
        colours = np.where(rows["significant"], "#d62728", "#7f7f7f")
        ax.hlines(y, rows["ci_low"] * k, rows["ci_high"] * k, colors=colours, linewidth=2.5)
        ax.scatter(rows["difference"] * k, y, color=colours, zorder=3)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        _plain_numbers(ax.xaxis, rows[["ci_low", "ci_high"]].to_numpy(float) * k)
        ax.set_yticks(y, [f"{b} - {a}" for a, b in zip(rows["a"], rows["b"], strict=True)])
        ax.invert_yaxis()
        name, unit = name_and_unit(kpi)
        ax.set_title(name)
        ax.set_xlabel("difference [points]" if describe(kpi).percent
                      else f"difference [{unit}]" if unit else "difference")
    fig.suptitle("Paired differences with Bonferroni 95 % joint intervals "
                 "(red: significant)")
    return save_figure(fig, path)


def evaluation_figure(table: pd.DataFrame, path: Path,
                      rules: pd.DataFrame | None = None) -> Path:
    """Per KPI: the plan's simulated mean and 95 % interval with the plan's prediction marked
    on it (red when it misses the interval), and the rules' mean and interval beside it.

    ``table`` is ``Evaluation.table``; only KPIs with a prediction are drawn, or every KPI
    when the plan predicted none. ``rules`` is the rules' summary indexed by KPI, if compared.
    """
    predicted = table[table["predicted"].notna()]
    shown = predicted if len(predicted) else table
    fig, axes = panel_grid(len(shown), 4, 3.0, 2.4)
    for ax, row in zip(axes, shown.itertuples(), strict=False):
        k = scale(row.kpi)
        values = [row.mean * k]
        ax.errorbar([0], [row.mean * k], yerr=[[row.half_width * k]], fmt="o", capsize=6,
                    color="#1f77b4", label="plan simulated: mean, 95 % CI")
        if rules is not None and row.kpi in rules.index:
            r = rules.loc[row.kpi]
            ax.errorbar([1], [r["mean"] * k], yerr=[[r["half_width"] * k]], fmt="s",
                        capsize=6, color="#8c959f", label="rules simulated: mean, 95 % CI")
            values.append(r["mean"] * k)
        missed = not np.isnan(row.predicted) and not row.inside
        if not np.isnan(row.predicted):
            ax.plot([0], [row.predicted * k], "D", markersize=8,
                    color="#d62728" if missed else "#2da44e",
                    label="plan predicted (red: outside the plan's interval)")
            values.append(row.predicted * k)
        name, unit = name_and_unit(row.kpi)
        ax.set_title(name + ("\n(prediction missed)" if missed else ""), fontsize=9,
                     color="#d62728" if missed else "black")
        ax.set_ylabel(unit or "value", fontsize=9)
        ticks = [0, 1] if rules is not None else [0]
        ax.set_xticks(ticks, ["plan", "rules"][:len(ticks)], fontsize=9)
        ax.set_xlim(-0.6, ticks[-1] + 0.6)
        ax.tick_params(labelsize=9)
        ax.grid(axis="y", alpha=0.3)
        _plain_numbers(ax.yaxis, np.array(values))
    handles: dict[str, Artist] = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(text, handle)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=3,
               fontsize=9)
    fig.suptitle("The plan's predictions against the simulation"
                 if len(predicted) else "The plan and the rules, simulated (no predictions)")
    return save_figure(fig, path)


def response_figures(results: pd.DataFrame, points: pd.DataFrame,
                     parameters: Sequence[str], kpis: Sequence[str], stem: Path) -> list[Path]:
    """One figure per KPI (the first four), a panel per parameter (the first twelve): every
    replication faint, the design points' means solid, and for numeric parameters the mean
    over quantile bins as a line. Files ``stem_1.png``, ``stem_2.png``, ..."""
    shown = list(parameters)[:MOST_PANELS]
    paths = []
    for i, kpi in enumerate(list(kpis)[:4], start=1):
        paths.append(_response(results, points, shown, kpi,
                               stem.with_name(f"{stem.name}_{i}.png")))
    return paths


def _response(results: pd.DataFrame, points: pd.DataFrame, parameters: Sequence[str],
              kpi: str, path: Path) -> Path:
    fig, axes = panel_grid(len(parameters), 4, 3.4, 2.8, sharey=True)
    k = scale(kpi)
    name, unit = name_and_unit(kpi)
    for ax, parameter in zip(axes, parameters, strict=False):
        x_all, x_points = results[parameter], points[parameter]
        numeric = pd.api.types.is_numeric_dtype(x_points)
        if not numeric:
            codes = {v: n for n, v in enumerate(dict.fromkeys(x_points.astype(str)))}
            x_all = x_all.astype(str).map(codes)
            x_points = x_points.astype(str).map(codes)
            ax.set_xticks(list(codes.values()), list(codes), rotation=30)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.scatter(x_all, results[kpi] * k, s=6, color="#9ecae1")
        _plain_numbers(ax.yaxis, results[kpi].to_numpy(float) * k)
        ax.scatter(x_points, points[f"{kpi}_mean"] * k, s=12, color="#1f77b4")
        if numeric and x_points.nunique() > 3:
            _binned_mean(ax, x_points, points[f"{kpi}_mean"] * k)
        ax.set_xlabel(parameter_label(parameter))
        ax.grid(alpha=0.3)
    for ax in axes[::4]:
        ax.set_ylabel(f"{name} [{unit}]" if unit else name)
    fig.suptitle(f"{name}: response to each parameter\n(light: replications, dark: design "
                 "point means, line: mean over parameter bins)")
    return save_figure(fig, path)


def sensitivity_figure(table: pd.DataFrame, kind: str, path: Path) -> Path:
    """One panel per KPI: S1 and ST (Sobol') or mu* (Morris) per parameter, with their 95 %
    intervals; indices of first and total order are clipped to [0, 1]."""
    kpis = list(dict.fromkeys(table["kpi"]))[:MOST_PANELS]
    rows_most = int(table.groupby("kpi").size().max())
    fig, axes = panel_grid(len(kpis), 2, 6.4, 1.2 + 0.42 * rows_most)
    for ax, kpi in zip(axes, kpis, strict=False):
        rows = table[(table["kpi"] == kpi) & ~table["parameter"].str.contains(":")]
        y = np.arange(len(rows))
        if kind == "sobol":
            for offset, index, text in ((-0.2, "S1", "first order S1"),
                                        (0.2, "ST", "total ST")):
                ax.barh(y + offset, rows[index].clip(0, 1), 0.4, xerr=rows[f"{index}_conf"],
                        label=text)
            ax.set_xlim(0, 1.05)
        else:
            ax.barh(y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], label="mu*")
            ax.xaxis.set_major_locator(MaxNLocator(4))
            _plain_numbers(ax.xaxis, rows["mu_star"].to_numpy(float))
        ax.set_yticks(y, [parameter_label(p) for p in rows["parameter"]])
        ax.invert_yaxis()
        ax.set_title(name_and_unit(kpi)[0])
        ax.set_xlabel("Sobol' index, clipped to [0, 1] (95 % CI)" if kind == "sobol"
                      else "mu*: mean |effect| over the range (95 % CI)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    fig.suptitle("Which parameters drive each KPI")
    return save_figure(fig, path)


def _binned_mean(ax: Axes, x: pd.Series, y: pd.Series, bins: int = 6) -> None:
    groups = pd.qcut(x, q=bins, duplicates="drop")
    means = pd.DataFrame({"x": x, "y": y}).groupby(groups, observed=True).mean()
    ax.plot(means["x"], means["y"], color="#d62728", linewidth=1.5)
