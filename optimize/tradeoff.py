"""Time versus cost: the Pareto frontier of the channel model by epsilon-constraint.

On the channel MILP (optimize/channels, with promises relaxed so that every route is an
option) add one row whose right-hand side moves,

    mean delivery days:  sum_r (t_r - eps) * flow_r <= 0              (t_r mean days of r)
    share within N days: sum_r ([t_r <= N] - eps) * flow_r >= 0

over customer-facing flows, and minimise cost for a sequence of eps between the cheapest
plan's value and the best achievable one. ``eps`` is a mutable parameter of one persistent
model, so each point is a re-solve, not a rebuild. Points that another point beats on both
cost and time are dropped; what remains is monotone: faster costs more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimize.channel_data import ChannelData, channel_data
from optimize.channels import (
    DEFAULT_OPTIONS,
    cost_breakdown,
    flows_table,
    plan_from,
)
from optimize.core import ChannelModel, build_core, channel_options
from optimize.outcome import Outcome
from optimize.solve import SolveError, SolveOptions, Solver, SolveReport
from sim.scenario import Scenario
from sim.state import OpeningState

Metric = Literal["mean_days", "share_within"]


@dataclass
class FrontierModel:
    """One persistent model whose time bound ``eps`` is changed between solves."""

    built: ChannelModel
    solver: Solver
    metric: Metric
    within_days: float

    @property
    def data(self) -> ChannelData:
        return self.built.data

    @property
    def model(self) -> pyo.ConcreteModel:
        return self.built.model

    @staticmethod
    def build(data: ChannelData, metric: Metric, within_days: float,
              options: SolveOptions) -> FrontierModel:
        # Pyomo: the time bound's coefficients move with eps, a mutable coefficient APPSI
        # updates in place; the frontier runs at the scenario's own catalogue size.
        built = build_core(data, channel_options(data))
        m = built.model
        customer = built.sets.direct + built.sets.last
        days = {r: data.routes[r].mean_days for r in customer}
        flows = [(s, r, w) for (s, r, w) in m.flow if r in days]
        m.eps = pyo.Param(mutable=True, initialize=1e9 if metric == "mean_days" else 0.0)
        if metric == "mean_days":
            m.time_bound = pyo.Constraint(expr=sum(
                (days[r] - m.eps) * m.flow[s, r, w] for s, r, w in flows) <= 0)
        else:
            m.time_bound = pyo.Constraint(expr=sum(
                ((1.0 if days[r] <= within_days else 0.0) - m.eps) * m.flow[s, r, w]
                for s, r, w in flows) >= 0)
        m.served_days = pyo.Expression(expr=sum(days[r] * m.flow[s, r, w] for s, r, w in flows))
        m.fast_units = pyo.Expression(expr=sum(m.flow[s, r, w] for s, r, w in flows
                                               if days[r] <= within_days))
        m.served_units = pyo.Expression(expr=sum(m.flow[s, r, w] for s, r, w in flows))
        return FrontierModel(built, Solver(options), metric, within_days)

    def time_value(self) -> float:
        """The metric of the loaded solution (mean days, or share within N days)."""
        served = pyo.value(self.model.served_units)
        if served <= 0:
            return 0.0
        numerator = self.model.served_days if self.metric == "mean_days" else \
            self.model.fast_units
        return float(pyo.value(numerator)) / served

    def solve_at(self, eps: float) -> SolveReport:
        # A coefficient (t - eps) of exactly zero makes HiGHS warn; nudge eps off the grid.
        self.model.eps.value = eps + 1e-7
        return self.solver.solve(self.model)

    def best_time(self) -> float:
        """The best the metric could be if every unit took its fastest route (a bound;
        capacity may keep the model from reaching it, then it loses sales or stops)."""
        data = self.data
        best = np.zeros((len(data.skus), len(data.markets)))
        for mk, market in enumerate(data.markets):
            days = [r.mean_days for r in data.routes
                    if r.kind != "bulk" and r.destination == market]
            if self.metric == "mean_days":
                best[:, mk] = min(days, default=0.0)
            else:
                best[:, mk] = float(any(d <= self.within_days for d in days))
        weight = data.demand.sum(axis=2)
        return float((best * weight).sum() / max(weight.sum(), 1e-9))


def pareto_front(table: pd.DataFrame, time_column: str, better_time: str) -> pd.DataFrame:
    """Rows not beaten on both cost and time by another row, sorted by time."""
    sign = 1.0 if better_time == "lower" else -1.0
    keep = []
    for i, row in table.iterrows():
        dominated = (
            (table["total_cost_cny"] <= row["total_cost_cny"] + 1e-6)
            & (sign * table[time_column] <= sign * row[time_column] + 1e-9)
            & ((table["total_cost_cny"] < row["total_cost_cny"] - 1e-6)
               | (sign * table[time_column] < sign * row[time_column] - 1e-9)))
        if not dominated.any():
            keep.append(i)
    front = table.loc[keep].drop_duplicates(subset=["total_cost_cny", time_column])
    return front.sort_values(time_column, ascending=better_time == "lower").reset_index(
        drop=True)


def optimize_frontier(scenario: Scenario, points: int = 10, metric: Metric = "mean_days",
                      within_days: float = 5.0, options: SolveOptions | None = None,
                      state: OpeningState | None = None) -> Outcome:
    """The cost of each level of delivery speed, with the plan at each point, from the
    opening stock of ``state`` when one is given."""
    options = options or DEFAULT_OPTIONS
    started = time.perf_counter()
    data = channel_data(scenario, enforce_promise=False, state=state)
    frontier = FrontierModel.build(data, metric, within_days, options)
    build_s = time.perf_counter() - started
    rows, plans = [], []

    def record(report: SolveReport, eps: float) -> None:
        flows = flows_table(frontier.built)
        costs = cost_breakdown(frontier.built, flows)
        plans.append(plan_from(frontier.built, flows, "frontier", report.objective, costs,
                               {"status": report.status, "gap": report.gap, "epsilon": eps}))
        rows.append({"epsilon": eps, "total_cost_cny": costs["total"],
                     "time": frontier.time_value(), "lost_units": costs["lost_units"],
                     "logistics_and_capital_cost_per_unit_cny":
                         costs["logistics_per_unit_served"],
                     "gap": report.gap or 0.0, "plan": len(plans) - 1})

    loose = 1e9 if metric == "mean_days" else 0.0
    cheapest = frontier.solve_at(loose)
    highs_s = cheapest.highs_s
    record(cheapest, float("nan"))
    for eps in np.linspace(frontier.time_value(), frontier.best_time(), points)[1:]:
        try:
            report = frontier.solve_at(float(eps))
        except SolveError:
            continue
        highs_s += report.highs_s
        record(report, float(eps))
    total_s = time.perf_counter() - started
    table = pd.DataFrame(rows)
    time_column = ("mean_delivery_days" if metric == "mean_days"
                   else f"share_within_{within_days:g}d")
    table = table.rename(columns={"time": time_column})
    front = pareto_front(table, time_column, "lower" if metric == "mean_days" else "higher")
    kept = [plans[i] for i in front["plan"]]
    front["plan"] = range(len(front))
    summary = {"points": float(len(front)), "cheapest_cost_cny": float(front[
        "total_cost_cny"].min()), "fastest_" + time_column: float(front[time_column].iloc[0]),
               "build_s": build_s, "highs_s": highs_s, "total_s": total_s,
               "python_share": 1.0 - highs_s / total_s if total_s else 0.0}
    return Outcome(kept[_knee(front, time_column)], summary, {"frontier": front}, None,
                   plans=kept)


def _knee(front: pd.DataFrame, time_column: str) -> int:
    """The point closest to the ideal corner (cheapest, fastest), both axes scaled 0-1."""
    def scaled(x: np.ndarray) -> np.ndarray:
        span = x.max() - x.min()
        return (x - x.min()) / span if span > 0 else np.zeros_like(x)

    cost = scaled(front["total_cost_cny"].to_numpy())
    slowness = scaled(front[time_column].to_numpy())
    if time_column != "mean_delivery_days":
        slowness = 1.0 - slowness
    return int(np.argmin(np.hypot(cost, slowness)))
