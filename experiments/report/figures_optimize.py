"""The figures of the optimisers' plans: ad response curves, the channel mix's costs and
units, and the peak plan's commitments and the value of planning for uncertainty.

(The time-versus-cost frontier has its own figure, ``experiments.report.plots.pareto_figure``.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from experiments.report.plots import panel_grid, save_figure

DAYS_PER_WEEK = 7


def ads_figure(curves: pd.DataFrame, channels: pd.DataFrame, weeks: int, path: Path) -> Path:
    """Per channel: paid sessions against daily spend (exact Hill curve and the piecewise-
    linear model the optimiser used), the chosen and the current spend, and the marginal ROAS
    at the chosen spend."""
    names = list(channels["channel"])
    fig, axes = panel_grid(len(names), 2, 6.0, 3.6)
    for ax, channel in zip(axes, names, strict=False):
        curve = curves[curves["channel"] == channel]
        row = channels[channels["channel"] == channel].iloc[0]
        ax.plot(curve["spend_cny_per_day"], curve["sessions_per_day"], color="#1f77b4",
                label="response (Hill curve)")
        ax.plot(curve["spend_cny_per_day"], curve["model_sessions_per_day"], color="#ff7f0e",
                linestyle="--", linewidth=1, label="piecewise-linear model")
        knots = curve[curve["breakpoint"]]
        ax.plot(knots["spend_cny_per_day"], knots["model_sessions_per_day"], "o", ms=3,
                color="#ff7f0e")
        ax.axvline(row["spend_cny_per_day"], color="#d62728",
                   label=f"chosen {row['spend_cny_per_day']:,.0f} CNY/day")
        current = row["current_spend_cny"] / (DAYS_PER_WEEK * weeks)
        ax.axvline(current, color="#7f7f7f", linestyle=":",
                   label=f"current {current:,.0f} CNY/day")
        ax.set_title(f"{channel} ({row['shape']}): ROAS {row['roas']:.2f}, "
                     f"marginal ROAS {row['marginal_roas']:.2f}", fontsize=10)
        ax.set_xlabel("spend [CNY per day]")
        ax.set_ylabel("paid sessions per day")
        ax.legend(fontsize=9, loc="lower right")
        ax.grid(alpha=0.3)
    fig.suptitle("Ad response curves with the chosen spend (marginal ROAS: revenue from one "
                 "more CNY)")
    return save_figure(fig, path)


def channels_figure(costs: pd.DataFrame, mix: pd.DataFrame, path: Path) -> Path:
    """The plan's cost by component and the units each destination gets by each mode."""
    fig = Figure(figsize=(12, 0.9 + 0.45 * max(len(costs), len(mix))), layout="constrained")
    left, right = fig.subplots(1, 2)
    parts = costs[~costs["component"].isin(["total", "logistics_per_unit_served",
                                            "lost_units"])]
    left.barh(parts["component"], parts["cny"] / 1e3, color="#1f77b4")
    left.invert_yaxis()
    left.set_xlabel("thousand CNY over the plan horizon")
    left.set_title("Cost by component", fontsize=10)
    labels = [f"{d}: {k} ({m})" for d, k, m in zip(mix["destination"], mix["kind"], mix["mode"],
                                                  strict=True)]
    right.barh(labels, mix["units"] / 1e3, color="#2ca02c")
    right.invert_yaxis()
    right.set_xlabel("thousand units over the plan horizon")
    right.set_title("Units by destination and mode", fontsize=10)
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=9)
    fig.suptitle("Logistics channel plan")
    return save_figure(fig, path)


def peak_figure(commitments: pd.DataFrame, value: pd.DataFrame, path: Path) -> Path:
    """Units committed per route before demand is known, and the expected cost of the
    two-stage plan against planning for the average and knowing the future."""
    by_route = commitments.groupby("route", sort=False)["units"].sum()
    measures = value.set_index("measure")["value"]
    fig = Figure(figsize=(12, 1.4 + 0.4 * max(len(by_route), 3)), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.barh(by_route.index, by_route.to_numpy(), color="#1f77b4")
    left.invert_yaxis()
    left.set_xlabel("units committed")
    left.set_title("Committed before the peak, by route", fontsize=10)
    costs = {"two-stage plan (RP)": "expected_cost_rp_cny",
             "plan for the mean (EEV)": "ev_plan_expected_cost_eev_cny",
             "perfect foresight (WS)": "wait_and_see_cost_ws_cny"}
    shown = {k: measures[v] / 1e3 for k, v in costs.items() if v in measures}
    bars = right.barh(list(shown), list(shown.values()), color=["#2ca02c", "#ff7f0e",
                                                                "#7f7f7f"][:len(shown)])
    right.bar_label(bars, labels=[f"{v:,.0f}" for v in shown.values()], fontsize=9)
    right.invert_yaxis()
    right.set_xlabel("expected cost [thousand CNY]")
    right.set_title(f"Value of the stochastic solution {measures.get('vss_cny', 0):,.0f} CNY, "
                    f"of perfect information {measures.get('evpi_cny', 0):,.0f} CNY",
                    fontsize=10)
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(labelsize=9)
    fig.suptitle("Peak-season plan")
    return save_figure(fig, path)
