"""Logistics channel choice: which route serves each SKU and market, week by week (MILP).

Indices: s SKU, m market, h overseas warehouse, k mode, w week. Routes are
d = (origin, market, parcel mode) for direct parcels, b = (origin, warehouse, bulk mode) for
bulk replenishment and l = (warehouse, market, last-mile mode) for deliveries from stock.

    min  sum_sdw c_sdw direct_sdw + sum_sbw c_sbw ship_sbw + sum_slw c_slw deliver_slw
         + sum_bw F_b containers_bw + sum_shw h_sh inv_shw + sum_smw p_sm lost_smw
         + sum_r G_r use_r + sum_shw q_sh below_shw

    demand_met[s,m,w]:   sum_d direct_sdw + sum_l deliver_slw + lost_smw = D_smw
    balance[s,h,w]:      inv_shw = inv_sh,w-1 + sum_b ship_sb,w-L_b - sum_l deliver_slw
    closing[s,h]:        inv_shW >= inv_sh0                       (optional)
    safety[s,h,w]:       inv_shw + below_shw >= k_sh sum_l deliver_slw   for w > L_h  (soft)
    parcel_capacity[k,w]:  sum_sd(k) direct_sdw <= U_kw            (units)
    bulk_capacity[k,w]:    sum_sb(k) v_s ship_sbw <= V_kw          (m3 per week)
    container_fill[b,w]:   sum_s v_s ship_sbw <= C_b containers_bw  (FCL: whole containers)
    warehouse_space[h,w]:  sum_s v_s inv_shw <= Q_h
    activation[r]:         flow_r <= M use_r,  flow_r >= N_r use_r  (contract fixed cost G_r,
                                                                     minimum volume N_r)

Costs c are landed per unit in CNY: freight by leg with peak surcharges, duties (import duty
on bulk, parcel duty above the de minimis value), warehouse fees, and the capital cost of
the goods while in transit; h_sh is storage plus capital cost per unit-week on hand; p_sm is
the lost net revenue (price ex VAT less commission and payment fee, both charged on the
VAT-inclusive price as the simulator books them) times a penalty factor. Every per-unit money
formula is sim.economics's.
k_sh is the safety stock of a cycle service level (planning.channels.cycle_service_level),
z sigma of demand and lead time over the slowest lane's lead time L_h plus a week, in weeks
of the demand the warehouse could serve, so the buffer follows what the plan ships from it;
a unit-week below it costs q_sh, 0.9 of a lost sale spread over the L_h + 1 weeks of a cycle
(``_safety_stock``).
Bulk lead times include the wait for the mode's next departure. A route may serve a market
only if its P-th percentile delivery time (processing, transit,
customs inspections; sampled from the scenario's own distributions) meets the market's
promise. Demand D is the simulator's expected demand (sim.demand.expected_units_by_day).
Origin stock is taken as available: suppliers are planned outside this model.

The model is built from numpy arrays by ``optimize.core_arrays`` and handed to HiGHS
through highspy; ``optimize.core`` builds the same model with Pyomo, the readable reference
(``backend="pyomo"``); both are shared with the rolling window of optimize/rolling. A
catalogue above ``DECOMPOSE_FROM_SKUS`` SKUs is planned by families (``optimize.decompose``),
with a proven gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from optimize.bookings import booking_list
from optimize.channel_data import ChannelData, channel_data
from optimize.core import (
    ChannelModel,
    ChannelSolution,
    RouteSets,
    build_core,
    channel_options,
)
from optimize.core_arrays import ArrayChannelModel, build_core_arrays
from optimize.decompose import solve_decomposed
from optimize.matrix import solve_arrays_or_explain
from optimize.outcome import Outcome
from optimize.solve import SolveOptions, SolveReport, solve_or_explain
from sim.plan import FulfilmentLine, Plan, ShipmentLine
from sim.scenario import Scenario
from sim.state import OpeningState

RoutingKind = Literal["channels", "frontier", "rolling"]
"""Plan kinds ``plan_from`` writes: each takes over routing and overseas replenishment."""

Backend = Literal["arrays", "pyomo"]
"""How a channel model is built: from numpy arrays (the default, any size) or with Pyomo
(the readable reference, for tests and small instances)."""

Built = ChannelModel | ArrayChannelModel
"""A built channel model on either path."""


class Solved(Protocol):
    """What the plan, cost and KPI readers need of a solved channel model, however it was
    built or assembled (``optimize.decompose`` puts one together from its parts)."""

    data: ChannelData
    sets: RouteSets
    contract_routes: list[int]

    @property
    def weeks(self) -> int: ...

    def solution(self) -> ChannelSolution: ...


def build_channels_model(data: ChannelData, elastic: bool = False,
                         backend: Backend = "arrays") -> Built:
    """The MILP of the module docstring over the horizon's weeks, every figure a number;
    pure: the same data gives the same model. ``backend`` "arrays" builds the matrix from
    numpy arrays (``optimize.core_arrays``: seconds at a thousand SKUs), "pyomo" the
    readable reference (``optimize.core``); both are the same LP."""
    if backend == "pyomo":
        return build_core(data, channel_options(data, elastic))
    return build_core_arrays(data, channel_options(data, elastic))


def solve_built(build: Callable[[bool], Built], options: SolveOptions
                ) -> tuple[Built, SolveReport]:
    """Build, solve (explaining an infeasible model in words) and load the plan, on the
    build's own path: Pyomo through APPSI, arrays through highspy."""
    started = time.perf_counter()
    first = build(False)
    build_s = time.perf_counter() - started

    def again(elastic: bool) -> Any:
        return build(True) if elastic else first

    if isinstance(first, ArrayChannelModel):
        built, report, solver = solve_arrays_or_explain(again, options)
        assert solver.solution is not None
        built.load(solver.solution)
    else:
        built, report, _ = solve_or_explain(again, options)
    report.build_s = build_s
    return built, report


# ----------------------------------------------------------------------------- results
def flows_table(built: Solved, first_week: int = 1) -> pd.DataFrame:
    """Units per (week, SKU, route) with their cost, from a solved model.

    A model over a window numbers its weeks from 1 at calendar week ``first_week``; weeks
    past the horizon are costed at the last week's rates, as the window model costs them.
    """
    data, used = built.data, built.sets.used
    flow = built.solution().flow
    s, u, w = np.nonzero(flow > 1e-6)
    units = flow[s, u, w]
    week = first_week + w
    routes = [data.routes[r] for r in used]
    cost = (np.stack([route.unit_cost for route in routes])[u, s, np.minimum(week, data.weeks) - 1]
            if routes else np.zeros(0))

    def attribute(name: str) -> np.ndarray:
        return np.array([getattr(route, name) for route in routes] or [""], dtype=object)[u]

    return pd.DataFrame({
        "week": week.astype(np.int64), "sku": np.array(data.skus, dtype=object)[s],
        "kind": attribute("kind"), "origin": attribute("origin"),
        "destination": attribute("destination"), "mode": attribute("mode"),
        "units": units, "cost_cny": units * cost,
        "mean_days": np.array([route.mean_days for route in routes] or [0.0])[u]})


def term_costs(data: ChannelData, solution: ChannelSolution, box_cost: np.ndarray
               ) -> dict[str, float]:
    """The objective's terms other than route costs (CNY); ``box_cost`` is the CNY per
    container [fcl route, week] of the model's weeks."""
    return {"containers": float((box_cost * solution.containers).sum()),
            "holding": float((data.holding[:, :, None] * solution.inv).sum()),
            "lost_sales_penalty": float((data.lost_penalty[:, :, None] * solution.lost).sum()),
            "safety_stock_penalty": solution.safety_shortfall,
            "terminal_shortfall": solution.terminal_shortfall}


def cost_breakdown(built: Solved, flows: pd.DataFrame) -> dict[str, float]:
    """Cost by component in CNY, and per unit of demand served (a static model's)."""
    data, routes, sol = built.data, built.data.routes, built.solution()
    weeks = built.weeks
    box_cost = np.array([routes[r].container_costs()[:weeks] for r in built.sets.fcl]
                        ).reshape(len(built.sets.fcl), weeks)
    terms = term_costs(data, sol, box_cost)
    fees = np.array([data.contracts[(routes[r].lane, routes[r].mode)][0]
                     for r in built.contract_routes])
    lost_units = float(sol.lost.sum())
    served = float(data.demand.sum()) - lost_units
    costs = route_costs(flows) | {
        "containers": terms["containers"],
        "holding": terms["holding"],
        "contracts": float(fees @ sol.use_mode) if fees.size else 0.0,
        "lost_sales_penalty": terms["lost_sales_penalty"],
        "safety_stock_penalty": terms["safety_stock_penalty"],
    }
    costs["total"] = sum(costs.values())
    logistics = costs["total"] - costs["lost_sales_penalty"] - costs["safety_stock_penalty"]
    # under one unit served is solver noise (e.g. 1e-9 units), not a divisor
    costs["logistics_per_unit_served"] = logistics / served if served >= 1.0 else 0.0
    costs["lost_units"] = lost_units
    return costs


def route_costs(flows: pd.DataFrame) -> dict[str, float]:
    """What the flows cost by kind of route (CNY)."""
    by_kind = flows.groupby("kind")["cost_cny"].sum()
    return {"direct_parcels": float(by_kind.get("direct", 0.0)),
            "bulk_replenishment": float(by_kind.get("bulk", 0.0)),
            "last_mile": float(by_kind.get("last_mile", 0.0))}


def delivered_days(flows: pd.DataFrame) -> float:
    """Mean delivery days over customer-facing flows."""
    customer = flows[flows["kind"] != "bulk"]
    if customer.empty:
        return 0.0
    return float(np.average(customer["mean_days"], weights=customer["units"]))


def plan_from(built: Solved, flows: pd.DataFrame, kind: RoutingKind,
              objective: float, costs: dict[str, float], solver: dict[str, Any],
              first_week: int = 1, predict: bool = True) -> Plan:
    """The solved model as a Plan; ``flows`` from ``flows_table`` (calendar weeks), the
    model's own weeks numbered from 1 at calendar week ``first_week``; ``predict`` adds the
    KPIs the plan expects (``predicted_kpis``).

    Lines are built without re-validation (``model_construct``): they come typed from the
    solved model, and a year's plan has thousands of them, re-planned every week."""
    data = built.data
    columns = ("week", "sku", "kind", "origin", "destination", "mode", "units")
    shipments, fulfilment = [], []
    for week, sku, route_kind, origin, destination, mode, units in zip(
            *(flows[c].tolist() for c in columns), strict=True):
        units = round(float(units), 3)
        if route_kind == "bulk":
            shipments.append(ShipmentLine.model_construct(
                week=int(week), sku=sku, origin=origin, destination=destination, mode=mode,
                units=units, scenario=None))
        else:
            fulfilment.append(FulfilmentLine.model_construct(
                week=int(week), sku=sku, market=destination,
                route="direct" if route_kind == "direct" else "warehouse", mode=mode,
                warehouse=origin, units=units, scenario=None))
    boxes = built.solution().containers
    containers = {f"{data.routes[r].name} week {first_week + w}": float(round(boxes[i, w]))
                  for i, r in enumerate(built.sets.fcl) for w in range(built.weeks)
                  if boxes[i, w] > 0.5}
    return Plan(kind=kind, takes_over=["routing", "overseas_replenishment"],
                scenario=data.scenario, scenario_hash=data.scenario_hash,
                weeks=data.weeks, objective_cny=objective, costs_cny=costs,
                shipments=shipments, fulfilment=fulfilment, containers=containers,
                metrics=predicted_kpis(built, flows, costs) if predict else {},
                solver=solver)


def predicted_kpis(built: Solved, flows: pd.DataFrame,
                   costs: dict[str, float]) -> dict[str, float]:
    """What the plan expects, named as the simulation's KPIs so ``xbsim evaluate`` can put
    them side by side: fill rate, on-time rate (each route's share of deliveries within the
    promise), mean delivery days and logistics cash cost per unit served (the plan's costs
    without the capital cost it also weighs, which the ledger does not book)."""
    data, sol = built.data, built.solution()
    routes = [data.routes[r] for r in built.sets.used]
    by_route = sol.flow.sum(axis=2)                     # units [sku, used route]
    customer = np.array([route.kind != "bulk" for route in routes], dtype=bool)
    on_time = np.array([route.on_time for route in routes])
    served = float(by_route[:, customer].sum())
    punctual = float(by_route[:, customer].sum(axis=0) @ on_time[customer])
    capital = sum(float(by_route[:, u] @ route.capital) for u, route in enumerate(routes)
                  if route.capital is not None)
    if data.holding_capital is not None:
        capital += float((data.holding_capital[:, :, None] * sol.inv).sum())
    demand = served + float(sol.lost.sum())
    # Contract fees are yearly commitments the simulation does not book per unit.
    cash = (costs["total"] - costs["lost_sales_penalty"]
            - costs.get("safety_stock_penalty", 0.0) - costs.get("terminal_shortfall", 0.0)
            - costs.get("contracts", 0.0) - capital)
    return {"fill_rate": served / demand if demand else 1.0,
            "on_time_rate": punctual / served if served else 1.0,
            "mean_delivery_days": delivered_days(flows),
            "logistics_cost_per_unit_cny": cash / served if served else 0.0}


DEFAULT_OPTIONS = SolveOptions(mip_gap=0.02)
"""The channel MILP's default: 2 %. Measured on the 2-core machine, the baseline year
reaches 2 % in 15-25 s of HiGHS but is still 1.5 % from its bound after 300 s at the 0.1 %
other models use; the status says how far from optimal the plan is proven."""


def bookings(built: Solved, flows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The plan's bulk lines as a booking list (``optimize.bookings``)."""
    routes, values = built.data.routes, built.solution().containers
    boxes = {(routes[r].origin, routes[r].destination, routes[r].mode, w + 1):
             float(values[i, w]) for i, r in enumerate(built.sets.fcl)
             for w in range(built.weeks)}
    return booking_list(flows[flows["kind"] == "bulk"], boxes, scenario.horizon.start_date,
                        scenario.planning.booking_lead_days)


DECOMPOSE_FROM_SKUS = 100
"""``method="auto"`` plans catalogues above this many SKUs by families (``optimize.decompose``):
measured on the 2-core machine, HiGHS alone leaves the 200-SKU MILP 11 % from its bound after
two minutes, while the 40-SKU baseline closes to 2 % in seconds."""

Method = Literal["auto", "monolithic", "decomposed"]


def optimize_channels(scenario: Scenario, options: SolveOptions | None = None,
                      state: OpeningState | None = None, backend: Backend = "arrays",
                      method: Method = "auto") -> Outcome:
    """Choose routes, shipments and containers for the scenario's horizon, from the
    opening stock of ``state`` when one is given: one MILP, or by families then SKUs with a
    proven gap (``method``; "auto" by catalogue size)."""
    data = channel_data(scenario, state=state)
    options = options or DEFAULT_OPTIONS
    decomposed = method == "decomposed" or (method == "auto"
                                            and len(data.skus) > DECOMPOSE_FROM_SKUS)
    built: Solved
    if decomposed:
        built, report = solve_decomposed(data, options)
    else:
        built, report = solve_built(
            lambda elastic: build_channels_model(data, elastic, backend), options)
    flows = flows_table(built)
    costs = cost_breakdown(built, flows)
    solver = {"status": report.status, "gap": report.gap, "build_s": report.build_s,
              "handoff_s": report.handoff_s, "highs_s": report.highs_s,
              "method": "decomposed" if decomposed else "monolithic",
              "lower_bound_cny": report.bound}
    plan = plan_from(built, flows, "channels", report.objective, costs, solver)
    mix = (flows[flows["kind"] != "bulk"].groupby(["destination", "kind", "mode"])["units"]
           .sum().rename("units").reset_index())
    summary = {"total_cost_cny": costs["total"],
               "logistics_and_capital_cost_per_unit_cny": costs["logistics_per_unit_served"],
               "lost_units": costs["lost_units"],
               "mean_delivery_days": delivered_days(flows),
               "containers": float(sum(plan.containers.values())),
               "mip_gap": report.gap or 0.0}
    costs_table = pd.DataFrame({"component": list(costs), "cny": list(costs.values())})
    return Outcome(plan, summary, {"flows": flows, "costs": costs_table, "mix": mix,
                                   "bookings": bookings(built, flows, scenario)}, report)

