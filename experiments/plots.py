"""Figures a planner can show: readable at a glance, titles, units on both axes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import pandas as pd  # noqa: E402

from sim.atomic import atomic_write  # noqa: E402


def save_figure(fig: plt.Figure, path: Path) -> Path:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120,
                                               bbox_inches="tight"))
    plt.close(fig)
    return path


def pareto_figure(frontier: pd.DataFrame, time_column: str, path: Path,
                  recommended: int | None = None) -> Path:
    """Cost against delivery speed, each plan labelled; the recommended one highlighted."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    cost = frontier["total_cost_cny"] / 1e6
    ax.plot(frontier[time_column], cost, "o-", color="#1f77b4", label="non-dominated plans")
    for i, row in frontier.iterrows():
        ax.annotate(f"P{i}", (row[time_column], row["total_cost_cny"] / 1e6),
                    textcoords="offset points", xytext=(4, 4), fontsize=8)
    if recommended is not None:
        row = frontier.iloc[recommended]
        ax.plot(row[time_column], row["total_cost_cny"] / 1e6, "*", markersize=16,
                color="#d62728", label=f"recommended (P{recommended}, closest to ideal)")
    if time_column == "mean_delivery_days":
        ax.set_xlabel("mean delivery time to the customer [days]")
    else:
        ax.set_xlabel(f"share of units delivered {time_column.removeprefix('share_')} [-]")
    ax.set_ylabel("logistics cost incl. holding and lost-sale penalty [million CNY]")
    ax.set_title("Time versus cost: what each level of delivery speed costs")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
