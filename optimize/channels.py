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

The model itself is built by ``optimize.core`` (shared with the rolling window of
optimize/rolling), with every figure a number; ``build_channels_model`` returns a
``ChannelModel``, the Pyomo model with its route sets.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimize.bookings import booking_list
from optimize.channel_data import ChannelData, channel_data
from optimize.core import (
    ChannelModel,
    CoreOptions,
    build_core,
)
from optimize.outcome import Outcome
from optimize.solve import SolveOptions, solve_or_explain
from sim.plan import FulfilmentLine, Plan, ShipmentLine
from sim.scenario import Scenario
from sim.state import OpeningState

RoutingKind = Literal["channels", "frontier", "rolling"]
"""Plan kinds ``plan_from`` writes: each takes over routing and overseas replenishment."""

def build_channels_model(data: ChannelData, elastic: bool = False) -> ChannelModel:
    """The MILP of the module docstring over the horizon's weeks, every figure a number
    (``optimize.core``); pure: the same data gives the same model."""
    return build_core(data, CoreOptions(
        weeks=data.weeks, closing=data.keep_closing_stock, contracts=True, elastic=elastic,
        allow_lost_sales=data.allow_lost_sales, name="channels"))


# ----------------------------------------------------------------------------- results
def flows_table(built: ChannelModel, first_week: int = 1) -> pd.DataFrame:
    """Units per (week, SKU, route) with their cost, from a solved model.

    A model over a window numbers its weeks from 1 at calendar week ``first_week``; weeks
    past the horizon are costed at the last week's rates, as the window model costs them.
    """
    data = built.data
    rows = []
    for (s, r, w), var in built.model.flow.items():
        units = var.value or 0.0
        if units > 1e-6:
            route = data.routes[r]
            week = first_week + w - 1
            rows.append((week, data.skus[s], route.kind, route.origin, route.destination,
                         route.mode, units,
                         units * route.unit_cost[s, min(week, data.weeks) - 1],
                         route.mean_days))
    return pd.DataFrame(rows, columns=["week", "sku", "kind", "origin", "destination", "mode",
                                       "units", "cost_cny", "mean_days"])


def cost_breakdown(built: ChannelModel, flows: pd.DataFrame) -> dict[str, float]:
    """Cost by component in CNY, and per unit of demand served (a static model's)."""
    m, data = built.model, built.data
    routes = data.routes
    containers = sum(float(routes[r].container_costs()[w - 1]) * (var.value or 0.0)
                     for (r, w), var in m.containers.items())
    holding = sum(float(data.holding[s, h]) * (var.value or 0.0)
                  for (s, h, w), var in m.inv.items())
    lost_units = sum(var.value or 0.0 for var in m.lost.values())
    lost_cost = sum(float(data.lost_penalty[s, mk]) * (var.value or 0.0)
                    for (s, mk, w), var in m.lost.items())
    fixed = sum(data.contracts[(routes[r].lane, routes[r].mode)][0] * (var.value or 0.0)
                for r, var in m.use_mode.items())
    below = float(pyo.value(m.safety_shortfall)) if built.safety else 0.0
    served = float(data.demand.sum()) - lost_units
    costs = route_costs(flows) | {
        "containers": containers,
        "holding": holding,
        "contracts": fixed,
        "lost_sales_penalty": lost_cost,
        "safety_stock_penalty": below,
    }
    costs["total"] = sum(costs.values())
    logistics = costs["total"] - lost_cost - below
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


def plan_from(built: ChannelModel, flows: pd.DataFrame, kind: RoutingKind,
              objective: float, costs: dict[str, float], solver: dict[str, Any],
              first_week: int = 1, predict: bool = True) -> Plan:
    """The solved model as a Plan; ``flows`` from ``flows_table`` (calendar weeks), the
    model's own weeks numbered from 1 at calendar week ``first_week``; ``predict`` adds the
    KPIs the plan expects (``predicted_kpis``).

    Lines are built without re-validation (``model_construct``): they come typed from the
    solved model, and a year's plan has thousands of them, re-planned every week."""
    m, data = built.model, built.data
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
    containers = {f"{data.routes[r].name} week {first_week + w - 1}":
                  float(round(var.value or 0.0))
                  for (r, w), var in m.containers.items() if (var.value or 0.0) > 0.5}
    return Plan(kind=kind, takes_over=["routing", "overseas_replenishment"],
                scenario=data.scenario, scenario_hash=data.scenario_hash,
                weeks=data.weeks, objective_cny=objective, costs_cny=costs,
                shipments=shipments, fulfilment=fulfilment, containers=containers,
                metrics=predicted_kpis(built, flows, costs) if predict else {},
                solver=solver)


def predicted_kpis(built: ChannelModel, flows: pd.DataFrame,
                   costs: dict[str, float]) -> dict[str, float]:
    """What the plan expects, named as the simulation's KPIs so ``xbsim evaluate`` can put
    them side by side: fill rate, on-time rate (each route's share of deliveries within the
    promise), mean delivery days and logistics cash cost per unit served (the plan's costs
    without the capital cost it also weighs, which the ledger does not book)."""
    m, data = built.model, built.data
    served = demand = on_time = capital = 0.0
    for (s, r, _), var in m.flow.items():
        units, route = var.value or 0.0, data.routes[r]
        if route.capital is not None:
            capital += units * float(route.capital[s])
        if route.kind != "bulk":
            served += units
            on_time += units * route.on_time
    if data.holding_capital is not None:
        capital += sum(float(data.holding_capital[s, h]) * (var.value or 0.0)
                       for (s, h, _), var in m.inv.items())
    demand = served + sum(var.value or 0.0 for var in m.lost.values())
    # Contract fees are yearly commitments the simulation does not book per unit.
    cash = (costs["total"] - costs["lost_sales_penalty"]
            - costs.get("safety_stock_penalty", 0.0) - costs.get("terminal_shortfall", 0.0)
            - costs.get("contracts", 0.0) - capital)
    return {"fill_rate": served / demand if demand else 1.0,
            "on_time_rate": on_time / served if served else 1.0,
            "mean_delivery_days": delivered_days(flows),
            "logistics_cost_per_unit_cny": cash / served if served else 0.0}


DEFAULT_OPTIONS = SolveOptions(mip_gap=0.02)
"""The channel MILP's default: 2 %. Measured on the 2-core machine, the baseline year
reaches 2 % in 15-25 s of HiGHS but is still 1.5 % from its bound after 300 s at the 0.1 %
other models use; the status says how far from optimal the plan is proven."""


def bookings(built: ChannelModel, flows: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The plan's bulk lines as a booking list (``optimize.bookings``)."""
    routes = built.data.routes
    boxes = {(routes[r].origin, routes[r].destination, routes[r].mode, w): var.value or 0.0
             for (r, w), var in built.model.containers.items()}
    return booking_list(flows[flows["kind"] == "bulk"], boxes, scenario.horizon.start_date,
                        scenario.planning.booking_lead_days)


def optimize_channels(scenario: Scenario, options: SolveOptions | None = None,
                      state: OpeningState | None = None) -> Outcome:
    """Choose routes, shipments and containers for the scenario's horizon, from the
    opening stock of ``state`` when one is given."""
    data = channel_data(scenario, state=state)
    built, report, _ = solve_or_explain(lambda elastic: build_channels_model(data, elastic),
                                        options or DEFAULT_OPTIONS)
    flows = flows_table(built)
    costs = cost_breakdown(built, flows)
    solver = {"status": report.status, "gap": report.gap, "build_s": report.build_s,
              "handoff_s": report.handoff_s, "highs_s": report.highs_s}
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

