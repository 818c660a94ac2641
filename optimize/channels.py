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

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimize.core import (
    ChannelModel,
    CoreOptions,
    RouteSets,
    build_core,
    route_sets,
    safety_rows,
)
from optimize.outcome import Outcome
from optimize.solve import SolveOptions, solve_or_explain
from sim import economics
from sim.demand import expected_units_by_day
from sim.loader import scenario_hash
from sim.network import compile_network
from sim.plan import FulfilmentLine, Plan, ShipmentLine
from sim.scenario import BulkMode, OverseasWarehouse, ParcelMode, Scenario

__all__ = ["ChannelData", "ChannelModel", "Route", "RouteSets", "build_channels_model",
           "channel_data", "cost_breakdown", "flows_table", "optimize_channels", "plan_from",
           "predicted_kpis", "route_costs", "route_sets", "safety_rows"]

RoutingKind = Literal["channels", "frontier", "rolling"]
"""Plan kinds ``plan_from`` writes: each takes over routing and overseas replenishment."""

DAYS_SAMPLES = 4000
"""Draws per route used to estimate delivery-time percentiles and means."""


@dataclass
class Route:
    """One way to move goods, with its per-unit cost [sku, week] and timing."""

    kind: str                 # "direct", "bulk" or "last_mile"
    origin: str               # origin warehouse, or overseas warehouse for last mile
    destination: str          # market (direct, last mile) or overseas warehouse (bulk)
    mode: str
    lane: str
    unit_cost: np.ndarray     # CNY per unit [sku, week]
    mean_days: float          # delivery (direct, last mile) or door-to-warehouse (bulk) days
    percentile_days: float
    lead_weeks: int = 0       # bulk: weeks from departure to availability
    sd_days: float = 0.0      # standard deviation of the days
    capital: np.ndarray | None = None  # CNY per unit [sku]: the capital-cost part of the cost
    on_time: float = 1.0      # customer-facing: share of deliveries within the promise
    container_cost: np.ndarray | None = None  # CNY per container [week]
    container_m3: float | None = None

    @property
    def name(self) -> str:
        return f"{self.origin}->{self.destination} {self.mode}"

    def container_costs(self) -> np.ndarray:
        """CNY per container [week] of a route that moves whole containers."""
        if self.container_cost is None:
            raise ValueError(f"{self.name} moves no whole containers")
        return self.container_cost


@dataclass
class ChannelData:
    """Everything the model needs, as arrays prepared from one scenario."""

    scenario: str
    scenario_hash: str
    skus: list[str]
    markets: list[str]
    warehouses: list[str]
    weeks: int
    demand: np.ndarray            # units [sku, market, week]
    lost_penalty: np.ndarray      # CNY per unit [sku, market]
    holding: np.ndarray           # CNY per unit-week [sku, warehouse]
    volume: np.ndarray            # m3 per unit [sku]
    opening: np.ndarray           # units [sku, warehouse]
    routes: list[Route]
    parcel_capacity: dict[str, np.ndarray]   # units per week, by parcel mode
    bulk_capacity_m3: dict[str, np.ndarray]  # m3 per week, by bulk mode
    warehouse_m3: dict[str, float]
    contracts: dict[tuple[str, str], tuple[float, float]]  # (lane, mode) -> (fixed, min)
    promise_days: dict[str, float]
    allow_lost_sales: bool = True
    keep_closing_stock: bool = True
    enforce_promise: bool = True
    safety_stock: np.ndarray | None = None      # units [sku, warehouse] at full throughput
    safety_cover: np.ndarray | None = None      # weeks of shipments it is [sku, warehouse]
    safety_from_week: np.ndarray | None = None  # first week it applies [warehouse]
    safety_penalty: np.ndarray | None = None    # CNY per unit-week below it [sku, warehouse]
    holding_capital: np.ndarray | None = None   # capital part of holding [sku, warehouse]

    def allowed(self, route: Route) -> bool:
        """Whether a customer-facing route meets its market's promise."""
        if route.kind == "bulk" or not self.enforce_promise:
            return True
        return route.percentile_days <= self.promise_days[route.destination] + 1e-9


# ----------------------------------------------------------------------------- data
def channel_data(scenario: Scenario, enforce_promise: bool = True) -> ChannelData:
    """Prepare the model's arrays from a scenario (the single source of every figure)."""
    sc = scenario
    net = compile_network(sc)
    skus, markets = net.skus, net.markets
    warehouses = [w for w, spec in sc.warehouses.items() if spec.kind == "overseas"]
    weeks = sc.horizon.days // 7
    timeline = net.timeline
    daily = expected_units_by_day(sc)[:, :, : weeks * 7]
    demand = daily.reshape(len(markets), len(skus), weeks, 7).sum(axis=3).transpose(1, 0, 2)
    rng = np.random.default_rng(0)
    q = sc.planning.channels.promise_percentile
    fx = net.fx_to_cny
    unit_cost, weight, volume = net.catalog.unit_cost, net.catalog.weight, net.catalog.volume
    capital_rate = sc.finance.annual_capital_cost_rate
    week_of_day = np.arange(weeks * 7) // 7

    def weekly_mean(daily_values: np.ndarray) -> np.ndarray:
        return np.bincount(week_of_day, daily_values[: weeks * 7], minlength=weeks) / 7.0

    def surcharge(mode: str) -> np.ndarray:
        return 1.0 + weekly_mean(timeline.surcharge[list(sc.modes).index(mode)])

    def per_unit_freight(mode: str) -> np.ndarray:
        spec = sc.modes[mode]
        return economics.freight_per_unit(
            spec.cost_per_unit, spec.cost_per_kg, spec.cost_per_m3,
            spec.chargeable_kg_per_m3, weight, volume) * fx(spec.currency)

    def capital(days: float) -> np.ndarray:
        return economics.capital_cost(unit_cost, capital_rate, days)

    units_per_order = 1.0 + sc.conversion.extra_units_per_order_mean
    routes: list[Route] = []
    for lane_name, lane in sc.lanes.items():
        for mode in lane.modes:
            spec = sc.modes[mode]
            if lane.destination in sc.markets:
                market = sc.markets[lane.destination]
                processing = sc.policies.fulfilment[lane.destination].order_processing_days
                days = (processing.sample(rng, DAYS_SAMPLES)
                        + spec.transit_days.sample(rng, DAYS_SAMPLES)
                        + (rng.random(DAYS_SAMPLES) < market.customs.inspection_probability)
                        * market.customs.inspection_delay_days.sample(rng, DAYS_SAMPLES))
                ex_vat = economics.price_ex_vat(
                    net.catalog.price[markets.index(lane.destination)], market.vat_rate)
                # An average order of units_per_order units is the parcel customs assess.
                duty = economics.parcel_duty(ex_vat * units_per_order, market.duty_rate,
                                             market.de_minimis_value) \
                    / units_per_order * fx(market.currency)
                pick = sc.warehouses[lane.origin].pick_pack_fee_per_order / units_per_order \
                    * fx(sc.warehouses[lane.origin].currency)
                held = capital(float(days.mean()))
                cost = (per_unit_freight(mode)[:, None] * surcharge(mode)[None, :]
                        + (duty + pick + held)[:, None])
                promise = sc.policies.fulfilment[lane.destination].promise_days
                routes.append(Route("direct", lane.origin, lane.destination, mode, lane_name,
                                    cost, float(days.mean()), float(np.quantile(days, q)),
                                    capital=held, on_time=float(np.mean(days <= promise))))
            else:
                h_spec = _overseas(sc, lane.destination)
                market = sc.markets[h_spec.market]
                if not isinstance(spec, BulkMode):
                    raise ValueError(f"lane {lane_name}: {mode} is not a bulk mode")
                # Booked on a review day, a load waits for the mode's next departure.
                days = (lane.first_mile_days.sample(rng, DAYS_SAMPLES)
                        + rng.uniform(0.0, 7.0 / spec.departures_per_week, DAYS_SAMPLES)
                        + spec.transit_days.sample(rng, DAYS_SAMPLES)
                        + market.customs.clearance_days.sample(rng, DAYS_SAMPLES)
                        + (rng.random(DAYS_SAMPLES) < market.customs.inspection_probability)
                        * market.customs.inspection_delay_days.sample(rng, DAYS_SAMPLES)
                        + lane.final_delivery_days.sample(rng, DAYS_SAMPLES))
                legs = (lane.first_mile_cost_per_m3_cny + lane.final_delivery_cost_per_m3_cny) \
                    * volume
                held = capital(float(days.mean()))
                fees = (economics.import_duty(unit_cost, market.duty_rate)
                        + h_spec.inbound_fee_per_unit * fx(h_spec.currency) + held)
                cost = (per_unit_freight(mode)[:, None] * surcharge(mode)[None, :]
                        + (legs + fees)[:, None])
                container_cost = (spec.cost_per_container * fx(spec.currency) * surcharge(mode)
                                  if spec.container_volume_m3 else None)
                routes.append(Route("bulk", lane.origin, lane.destination, mode, lane_name,
                                    cost, float(days.mean()), float(np.quantile(days, q)),
                                    lead_weeks=int(np.ceil(days.mean() / 7.0)),
                                    sd_days=float(days.std()), capital=held,
                                    container_cost=container_cost,
                                    container_m3=spec.container_volume_m3))
    for h in warehouses:
        h_spec = _overseas(sc, h)
        for market_name in markets:
            last_mode = _last_mile_mode(sc, h, market_name)
            if last_mode is None:
                continue
            spec = sc.modes[last_mode]
            processing = sc.policies.fulfilment[market_name].order_processing_days \
                if sc.policies.fulfilment[market_name].warehouse == h \
                else sc.policies.fulfilment[h_spec.market].order_processing_days
            days = processing.sample(rng, DAYS_SAMPLES) + spec.transit_days.sample(
                rng, DAYS_SAMPLES)
            pick = h_spec.pick_pack_fee_per_order / units_per_order * fx(h_spec.currency)
            held = capital(float(days.mean()))
            cost = (per_unit_freight(last_mode)[:, None] * surcharge(last_mode)[None, :]
                    + (pick + held)[:, None])
            promise = sc.policies.fulfilment[market_name].promise_days
            routes.append(Route("last_mile", h, market_name, last_mode, f"{h} last mile", cost,
                                float(days.mean()), float(np.quantile(days, q)),
                                capital=held, on_time=float(np.mean(days <= promise))))

    net_revenue = np.zeros((len(skus), len(markets)))
    for m, name in enumerate(markets):
        market = sc.markets[name]
        net_revenue[:, m] = economics.net_revenue_per_unit(
            net.catalog.price[m], market.vat_rate, sc.finance.commission_rate,
            sc.finance.payment_fee_rate) * fx(market.currency)
    holding = np.zeros((len(skus), len(warehouses)))
    opening = np.zeros((len(skus), len(warehouses)))
    per_day = daily.sum(axis=2).T / (weeks * 7)  # [sku, market]
    for i, h in enumerate(warehouses):
        h_spec = _overseas(sc, h)
        holding[:, i] = (7.0 * h_spec.storage_fee_per_m3_day * fx(h_spec.currency) * volume
                         + capital(7.0))
        served = [m for m, name in enumerate(markets)
                  if sc.policies.fulfilment[name].warehouse == h]
        opening[:, i] = np.round(h_spec.initial_stock_days * per_day[:, served].sum(axis=1))
    parcel_capacity, bulk_capacity = {}, {}
    for k, (mode, spec) in enumerate(sc.modes.items()):
        factor = timeline.capacity[k]
        if isinstance(spec, ParcelMode) and spec.capacity_units_per_day is not None:
            parcel_capacity[mode] = 7.0 * spec.capacity_units_per_day * weekly_mean(factor)
        if isinstance(spec, BulkMode) and spec.capacity_per_departure_m3 is not None:
            bulk_capacity[mode] = (spec.departures_per_week * spec.capacity_per_departure_m3
                                   * weekly_mean(factor))
    contracts = {(r.lane, r.mode): (sc.modes[r.mode].contract_fixed_cost_cny,
                                    sc.modes[r.mode].contract_min_units)
                 for r in routes if r.kind != "last_mile"
                 and (sc.modes[r.mode].contract_fixed_cost_cny > 0
                      or sc.modes[r.mode].contract_min_units > 0)}
    planning = sc.planning.channels
    lost_penalty = planning.lost_sale_penalty_factor * net_revenue
    safety, cover, safety_from, safety_penalty = _safety_stock(sc, warehouses, routes,
                                                               per_day, lost_penalty)
    return ChannelData(
        scenario=sc.name, scenario_hash=scenario_hash(sc), skus=skus, markets=markets,
        warehouses=warehouses, weeks=weeks, demand=demand,
        lost_penalty=lost_penalty, holding=holding,
        volume=volume, opening=opening, routes=routes, parcel_capacity=parcel_capacity,
        holding_capital=np.repeat(capital(7.0)[:, None], len(warehouses), axis=1),
        bulk_capacity_m3=bulk_capacity,
        warehouse_m3={h: space for h in warehouses
                      if (space := sc.warehouses[h].capacity_m3) is not None},
        contracts=contracts,
        promise_days={m: sc.policies.fulfilment[m].promise_days for m in markets},
        allow_lost_sales=planning.allow_lost_sales,
        keep_closing_stock=planning.keep_closing_stock, enforce_promise=enforce_promise,
        safety_stock=safety, safety_cover=cover, safety_from_week=safety_from,
        safety_penalty=safety_penalty)


SAFETY_WEIGHT = 0.9
"""A unit below safety stock for a whole replenishment cycle (lead time + review week) costs
this share of a lost sale, spread over the cycle's weeks: dipping into the buffer until the
next replenishment lands costs less than losing the sale (so demand is served first), and
far more than holding the unit (so the buffer is kept)."""


def _safety_stock(sc: Scenario, warehouses: list[str], routes: list[Route],
                  per_day: np.ndarray, lost_penalty: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Safety stock [sku, warehouse] = z sigma over the slowest replenishment's lead time
    plus a review week, at the weekly demand the warehouse could serve; the same as weeks
    of that demand (cover); the first week [warehouse] it can be rebuilt by (that lead + 1);
    and the penalty per unit-week below it [sku, warehouse]. The markets a warehouse serves
    are those its last-mile routes reach.

    Weekly demand D served from a warehouse varies as compound Poisson (orders Poisson, 1 +
    Poisson(e) units each: variance D (e + (1+e)^2) / (1+e)) plus the traffic's daily noise
    (D^2 cv^2 / 7); the lead time's spread adds (D/7 sd_days)^2."""
    from scipy.stats import norm

    z = float(norm.ppf(sc.planning.channels.cycle_service_level)) \
        if sc.planning.channels.cycle_service_level > 0 else 0.0
    e = sc.conversion.extra_units_per_order_mean
    cv = sc.traffic.daily_noise_cv
    markets = list(sc.markets)
    safety = np.zeros((per_day.shape[0], len(warehouses)))
    cover = np.zeros_like(safety)
    start = np.ones(len(warehouses), dtype=int)
    penalty = np.zeros_like(safety)
    for h, name in enumerate(warehouses):
        into = [r for r in routes if r.kind == "bulk" and r.destination == name]
        served = sorted({markets.index(r.destination) for r in routes
                         if r.kind == "last_mile" and r.origin == name})
        if not into or not served:
            continue
        slowest = max(into, key=lambda r: r.lead_weeks)
        weekly = 7.0 * per_day[:, served].sum(axis=1)
        variance = weekly * (e + (1 + e) ** 2) / (1 + e) + weekly**2 * cv**2 / 7.0
        sigma = np.sqrt((slowest.lead_weeks + 1) * variance
                        + (weekly / 7.0 * slowest.sd_days) ** 2)
        safety[:, h] = z * sigma
        cover[:, h] = np.divide(safety[:, h], weekly, out=np.zeros_like(weekly),
                                where=weekly > 0)
        start[h] = slowest.lead_weeks + 1
        penalty[:, h] = (SAFETY_WEIGHT * lost_penalty[:, served].max(axis=1)
                         / (slowest.lead_weeks + 1))
    return safety, cover, start, penalty


def _overseas(sc: Scenario, name: str) -> OverseasWarehouse:
    """The overseas warehouse of that name (the model's stock points)."""
    spec = sc.warehouses[name]
    if not isinstance(spec, OverseasWarehouse):
        raise ValueError(f"{name} is not an overseas warehouse")
    return spec


def _last_mile_mode(sc: Scenario, warehouse: str, market: str) -> str | None:
    """The last-mile mode from a warehouse to a market: the fulfilment policy's when it
    names this warehouse, else the warehouse's own market is served by the first last-mile
    mode billed in the warehouse's currency; other markets are not served from it."""
    policy = sc.policies.fulfilment[market]
    if policy.route == "warehouse" and policy.warehouse == warehouse:
        return policy.mode
    if sc.warehouses[warehouse].market != market:
        return None
    currency = sc.warehouses[warehouse].currency
    return next((k for k, spec in sc.modes.items()
                 if spec.family == "last_mile" and spec.currency == currency), None)


# ----------------------------------------------------------------------------- model
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
    costs["logistics_per_unit_served"] = logistics / served if served else 0.0
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


def optimize_channels(scenario: Scenario, options: SolveOptions | None = None) -> Outcome:
    """Choose routes, shipments and containers for the scenario's horizon."""
    data = channel_data(scenario)
    built, report, _ = solve_or_explain(lambda elastic: build_channels_model(data, elastic),
                                        options or SolveOptions())
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
    return Outcome(plan, summary, {"flows": flows, "costs": costs_table, "mix": mix}, report)

