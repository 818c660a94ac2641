"""One core for the channel MILP: the static plan and the rolling window build it here.

The static plan (optimize/channels) and the rolling window (optimize/rolling) are the same
model over a number of weeks w = 1..W (indices and rows as in optimize/channels):

    variables   flow[s,r,w], inv[s,h,w], lost[s,m,w], containers[b,w]
    rows        demand_met, balance, parcel_capacity, bulk_capacity, container_fill,
                warehouse_space, safety (soft)
    objective   route_cost + container_total + holding + lost_sales + safety_shortfall

``CoreOptions`` says how the figures enter and which rows are added:

- ``mutable=False``: every figure is a number taken from ``ChannelData`` (calendar week w),
  fixed at build time (the static plan). ``mutable=True``: the figures that move with a
  rolling window (demand, opening stock, pipeline arrivals, route and container costs,
  capacities, space, terminal targets, origin stock) are mutable Params, zero until set,
  so one model is re-solved with new values (``optimize.rolling.RollingPlanner``).
- static-only rows: ``closing`` (closing stock >= opening), ``contracts`` (activation rows
  with a binary per contracted route, its fixed fee in ``contract_fees``), ``elastic``
  (slack on demand and capacity rows, to explain an infeasible model in words);
- rolling-only rows, which need ``mutable``: ``origin_supply`` (week 1 ships what the
  origins hold) and ``terminal_penalty`` (the window closes with its target stock, short
  units at that price, ``terminal_shortfall``).

A build returns a ``ChannelModel``: the Pyomo model with its route sets and index maps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from optimize.channel_data import ChannelData
from optimize.solve import BuiltModel

FlowKey = tuple[int, int, int]
"""(sku, route, week) of a flow variable."""


@dataclass(frozen=True)
class RouteSets:
    """The routes a model may use (by index into ``data.routes``), grouped the way its rows
    sum them: by kind, by the market a route serves and by the warehouse it fills or empties.
    """

    direct: list[int]
    bulk: list[int]
    last: list[int]
    fcl: list[int]                    # bulk routes that move whole containers
    serving: dict[int, list[int]]     # market -> direct and last-mile routes
    arriving: dict[int, list[int]]    # warehouse -> bulk routes into it
    leaving: dict[int, list[int]]     # warehouse -> last-mile routes out of it
    parcel_modes: list[str]           # parcel modes with a weekly capacity
    bulk_modes: list[str]             # bulk modes with a weekly capacity

    @property
    def used(self) -> list[int]:
        """Every route a flow variable exists for, in the model's order."""
        return self.direct + self.bulk + self.last


def route_sets(data: ChannelData) -> RouteSets:
    """Group the allowed routes (promise kept) for the model's sums."""
    routes = data.routes
    allowed = [r for r, route in enumerate(routes) if data.allowed(route)]
    direct = [r for r in allowed if routes[r].kind == "direct"]
    bulk = [r for r in allowed if routes[r].kind == "bulk"
            and routes[r].destination in data.warehouses]
    last = [r for r in allowed if routes[r].kind == "last_mile"]
    return RouteSets(
        direct=direct, bulk=bulk, last=last,
        fcl=[r for r in bulk if routes[r].container_m3],
        serving={mk: [r for r in direct + last if routes[r].destination == market]
                 for mk, market in enumerate(data.markets)},
        arriving={h: [r for r in bulk if routes[r].destination == name]
                  for h, name in enumerate(data.warehouses)},
        leaving={h: [r for r in last if routes[r].origin == name]
                 for h, name in enumerate(data.warehouses)},
        parcel_modes=sorted({routes[r].mode for r in direct} & set(data.parcel_capacity)),
        bulk_modes=sorted({routes[r].mode for r in bulk} & set(data.bulk_capacity_m3)))


def origin_names(data: ChannelData, sets: RouteSets) -> list[str]:
    """The origin warehouses the direct and bulk routes leave from."""
    return sorted({data.routes[r].origin for r in sets.direct + sets.bulk})


@dataclass(frozen=True)
class CoreOptions:
    """How the core builds the model: see the module docstring."""

    weeks: int
    mutable: bool = False
    closing: bool = False
    contracts: bool = False
    elastic: bool = False
    allow_lost_sales: bool = True
    origin_supply: bool = False
    terminal_penalty: np.ndarray | None = None  # CNY per unit short [sku, warehouse]
    name: str = "channels"

    def __post_init__(self) -> None:
        if (self.origin_supply or self.terminal_penalty is not None) and not self.mutable:
            raise ValueError("origin supply and terminal rows take their figures from a "
                             "rolling window: build them with mutable=True")


def channel_options(data: ChannelData, elastic: bool = False) -> CoreOptions:
    """The static plan's rows: the horizon's weeks, closing stock, contracts."""
    return CoreOptions(weeks=data.weeks, closing=data.keep_closing_stock, contracts=True,
                       elastic=elastic, allow_lost_sales=data.allow_lost_sales,
                       name="channels")


@dataclass(kw_only=True)
class ChannelModel(BuiltModel):
    """A built channel model: the Pyomo model, the data it was built from, its route sets
    and index maps. Weeks are numbered 1..``weeks``; the static plan's are calendar weeks,
    a rolling window's start at the calendar week it opens in."""

    data: ChannelData
    options: CoreOptions
    sets: RouteSets
    keys: list[FlowKey]                # index of ``flow`` (and of the ``unit_cost`` Param)
    contract_routes: list[int]         # routes with a ``use_mode`` binary
    origins: list[str]                 # origins of the ``origin_supply`` rows
    safety: list[tuple[int, int, int]]  # (sku, warehouse, week) of the safety rows

    @property
    def weeks(self) -> int:
        return self.options.weeks

    def solution(self) -> ChannelSolution:
        """The values of the solved Pyomo model as arrays."""
        m, data, sets = self.model, self.data, self.sets
        S, H, W = len(data.skus), len(data.warehouses), self.weeks
        has_short = hasattr(m, "short")
        return ChannelSolution(
            flow=_values(m.flow, (S, len(sets.used), W)),
            inv=_values(m.inv, (S, H, W)),
            lost=_values(m.lost, (S, len(data.markets), W)),
            containers=_values(m.containers, (len(sets.fcl), W)),
            use_mode=_values(m.use_mode, (len(self.contract_routes),))
            if self.contract_routes else np.zeros(0),
            short=_values(m.short, (S, H)) if has_short else np.zeros((S, H)),
            safety_shortfall=float(pyo.value(m.safety_shortfall)) if self.safety else 0.0,
            terminal_shortfall=float(pyo.value(m.terminal_shortfall)) if has_short else 0.0)


@dataclass(frozen=True)
class ChannelSolution:
    """A solved channel model's plan as arrays, whichever way it was built: what the plan,
    cost and KPI readers (``optimize.channels``) need. ``flow`` is [sku, route of
    ``RouteSets.used``, week]; the shortfall terms are their costs in CNY."""

    flow: np.ndarray                 # units [sku, used route, week]
    inv: np.ndarray                  # units [sku, warehouse, week]
    lost: np.ndarray                 # units [sku, market, week]
    containers: np.ndarray           # [fcl route, week]
    use_mode: np.ndarray             # [contract route]
    short: np.ndarray                # units below the terminal target [sku, warehouse]
    safety_shortfall: float = 0.0
    terminal_shortfall: float = 0.0


def _values(var: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.array([v.value or 0.0 for v in var.values()], dtype=float).reshape(shape)


class _Numbers:
    """Fixed figures, indexed like the Param they stand in for."""

    def __init__(self, value: Callable[..., float]) -> None:
        self._value = value

    def __getitem__(self, key: Any) -> float:
        return self._value(*key) if isinstance(key, tuple) else self._value(key)


def build_core(data: ChannelData, options: CoreOptions) -> ChannelModel:
    """The channel MILP over ``options.weeks`` weeks; pure: the same arguments give the same
    model. Components are declared in one fixed order (HiGHS numbers columns and rows in
    that order), static-only and rolling-only ones where each model had them."""
    opt = options
    m = pyo.ConcreteModel(name=opt.name)
    S, M, H = range(len(data.skus)), range(len(data.markets)), range(len(data.warehouses))
    W = range(1, opt.weeks + 1)
    routes, sets = data.routes, route_sets(data)
    keys = [(s, r, w) for s in S for r in sets.used for w in W]
    contract_routes = ([r for r in sets.direct + sets.bulk
                        if (routes[r].lane, routes[r].mode) in data.contracts]
                       if opt.contracts else [])
    origins = origin_names(data, sets) if opt.origin_supply else []
    built = ChannelModel(model=m, data=data, options=opt, sets=sets, keys=keys,
                         contract_routes=contract_routes, origins=origins, safety=[])

    def week(w: int) -> int:
        """Index of week w into the horizon's arrays (weeks past it take its last)."""
        return min(w, data.weeks) - 1

    def figure(name: str, index: Sequence[Any], value: Callable[..., float]) -> Any:
        if opt.mutable:
            param = pyo.Param(*index, mutable=True, initialize=0.0)
            m.add_component(name, param)
            return param
        return _Numbers(value)

    # variables
    m.flow = pyo.Var(keys, domain=pyo.NonNegativeReals)
    m.inv = pyo.Var(S, H, W, domain=pyo.NonNegativeReals)
    m.lost = pyo.Var(S, M, W, domain=pyo.NonNegativeReals,
                     bounds=None if opt.allow_lost_sales else (0, 0))
    m.containers = pyo.Var(sets.fcl, W, domain=pyo.NonNegativeIntegers)
    if opt.contracts:
        m.use_mode = pyo.Var(contract_routes, domain=pyo.Binary)
    if opt.terminal_penalty is not None:
        m.short = pyo.Var(S, H, domain=pyo.NonNegativeReals)
    if opt.elastic:
        m.unmet = pyo.Var(S, M, W, domain=pyo.NonNegativeReals)
        built.add_elastic("demand", m.unmet, lambda i, v: (
            f"{data.markets[i[1]]} {data.skus[i[0]]} week {i[2]}: no allowed route can "
            f"deliver {v:,.0f} units (promise {data.promise_days[data.markets[i[1]]]:g} d)"),
            weight=10.0)

    # figures: numbers (static) or mutable parameters (rolling)
    demand = figure("demand", (S, M, W), lambda s, mk, w: float(data.demand[s, mk, week(w)]))
    opening = figure("opening", (S, H), lambda s, h: float(data.opening[s, h]))
    if opt.mutable:
        m.arrivals = pyo.Param(S, H, W, mutable=True, initialize=0.0)
        if opt.terminal_penalty is not None:
            m.target = pyo.Param(S, H, mutable=True, initialize=0.0)
    unit_cost = figure("unit_cost", (keys,),
                       lambda s, r, w: float(routes[r].unit_cost[s, week(w)]))
    container_cost = figure("container_cost", (sets.fcl, W),
                            lambda r, w: float(routes[r].container_costs()[week(w)]))
    parcel_cap = figure("parcel_cap", (sets.parcel_modes, W),
                        lambda k, w: float(data.parcel_capacity[k][week(w)]))
    bulk_cap = figure("bulk_cap", (sets.bulk_modes, W),
                      lambda k, w: float(data.bulk_capacity_m3[k][week(w)]))
    space = figure("space", (H, W), lambda h, w: data.warehouse_m3[data.warehouses[h]])
    if opt.origin_supply:
        m.origin_stock = pyo.Param(S, range(len(origins)), mutable=True, initialize=0.0)
        # What leaves an origin in the first week (to be executed now) is on its shelves.
        m.origin_supply = pyo.Constraint(S, range(len(origins)), rule=lambda mm, s, o: (
            sum(mm.flow[s, r, 1] for r in sets.direct + sets.bulk
                if routes[r].origin == origins[o]) <= mm.origin_stock[s, o]))

    # rows
    def demand_rule(mm, s, mk, w):
        served = sum(mm.flow[s, r, w] for r in sets.serving[mk]) + mm.lost[s, mk, w]
        if opt.elastic:
            served += mm.unmet[s, mk, w]
        return served == demand[s, mk, w]
    m.demand_met = pyo.Constraint(S, M, W, rule=demand_rule)

    def balance_rule(mm, s, h, w):
        previous = mm.inv[s, h, w - 1] if w > 1 else opening[s, h]
        if opt.mutable:
            previous = previous + mm.arrivals[s, h, w]
        shipped = sum(mm.flow[s, r, w - routes[r].lead_weeks] for r in sets.arriving[h]
                      if w - routes[r].lead_weeks >= 1)
        return mm.inv[s, h, w] == previous + shipped - sum(mm.flow[s, r, w]
                                                            for r in sets.leaving[h])
    m.balance = pyo.Constraint(S, H, W, rule=balance_rule)
    if opt.closing:
        m.closing = pyo.Constraint(S, H, rule=lambda mm, s, h: mm.inv[s, h, opt.weeks]
                                   >= float(data.opening[s, h]))
    if opt.terminal_penalty is not None:
        m.terminal = pyo.Constraint(S, H, rule=lambda mm, s, h: (
            mm.inv[s, h, opt.weeks] + mm.short[s, h] >= mm.target[s, h]))
    _capacity_rows(built, parcel_cap, bulk_cap, space)
    if opt.contracts:
        _activation_rows(built)
    built.safety = safety_rows(m, data, S, H, W, first_week=1)

    # objective
    m.route_cost = pyo.Expression(expr=sum(unit_cost[key] * m.flow[key] for key in keys))
    m.container_total = pyo.Expression(expr=sum(
        container_cost[r, w] * m.containers[r, w] for r in sets.fcl for w in W))
    m.holding = pyo.Expression(expr=sum(
        float(data.holding[s, h]) * m.inv[s, h, w] for s in S for h in H for w in W))
    m.lost_sales = pyo.Expression(expr=sum(
        float(data.lost_penalty[s, mk]) * m.lost[s, mk, w] for s in S for mk in M for w in W))
    cost = m.route_cost + m.container_total + m.holding + m.lost_sales
    if opt.contracts:
        m.contract_fees = pyo.Expression(expr=sum(
            data.contracts[(routes[r].lane, routes[r].mode)][0] * m.use_mode[r]
            for r in contract_routes))
        cost += m.contract_fees
    if opt.terminal_penalty is not None:
        penalty = opt.terminal_penalty
        m.terminal_shortfall = pyo.Expression(expr=sum(
            float(penalty[s, h]) * m.short[s, h] for s in S for h in H))
        cost += m.terminal_shortfall
    if built.safety:
        cost += m.safety_shortfall
    m.total_cost = pyo.Expression(expr=cost)
    objective = m.total_cost + built.elastic_penalty() if opt.elastic else m.total_cost
    m.objective = pyo.Objective(expr=objective, sense=pyo.minimize)
    return built


def safety_rows(m: pyo.ConcreteModel, data: ChannelData, S: range, H: range, W: range,
                first_week: int) -> list[tuple[int, int, int]]:
    """Stock kept at or above the safety stock from the week it can be rebuilt by, softly,
    in proportion to what the warehouse ships that week: ``inv + below >= cover * out``
    (``cover`` = safety stock / weekly demand it could serve), so a warehouse the plan
    does not use keeps none. Adds ``below_safety``, ``safety`` and the penalty term
    ``safety_shortfall`` when there is a row; returns the rows (sku, warehouse, week).
    ``W`` numbers the model's weeks from 1 at calendar week ``first_week``."""
    if (data.safety_stock is None or not data.safety_stock.any()
            or data.safety_cover is None or data.safety_from_week is None
            or data.safety_penalty is None):
        return []
    cover, start, price = data.safety_cover, data.safety_from_week, data.safety_penalty
    leaving = route_sets(data).leaving
    rows = [(s, h, w) for s in S for h in H for w in W
            if first_week + w - 1 >= start[h] and cover[s, h] > 0 and leaving[h]]
    if not rows:
        return []
    m.below_safety = pyo.Var(rows, domain=pyo.NonNegativeReals)
    m.safety = pyo.Constraint(rows, rule=lambda mm, s, h, w: (
        mm.inv[s, h, w] + mm.below_safety[s, h, w]
        >= float(cover[s, h]) * sum(mm.flow[s, r, w] for r in leaving[h])))
    m.safety_shortfall = pyo.Expression(expr=sum(
        float(price[s, h]) * m.below_safety[s, h, w] for s, h, w in rows))
    return rows


def _capacity_rows(built: ChannelModel, parcel_cap: Any, bulk_cap: Any, space: Any) -> None:
    m, data, sets, opt = built.model, built.data, built.sets, built.options
    routes, volume = data.routes, data.volume
    S, H = range(len(data.skus)), range(len(data.warehouses))
    W = range(1, opt.weeks + 1)
    if opt.elastic:
        m.parcel_short = pyo.Var(sets.parcel_modes, W, domain=pyo.NonNegativeReals)
        m.bulk_short = pyo.Var(sets.bulk_modes, W, domain=pyo.NonNegativeReals)
        m.space_short = pyo.Var(list(data.warehouse_m3), W, domain=pyo.NonNegativeReals)
        built.add_elastic("parcel capacity", m.parcel_short, lambda i, v: (
            f"{i[0]} week {i[1]}: carrier capacity short by {v:,.0f} units"))
        built.add_elastic("bulk capacity", m.bulk_short, lambda i, v: (
            f"{i[0]} departures week {i[1]}: capacity short by {v:,.1f} m3"))
        built.add_elastic("warehouse space", m.space_short, lambda i, v: (
            f"{i[0]} week {i[1]}: warehouse space short by {v:,.1f} m3"))

    def parcel_rule(mm, k, w):
        bound = parcel_cap[k, w] + mm.parcel_short[k, w] if opt.elastic else parcel_cap[k, w]
        return sum(mm.flow[s, r, w] for s in S for r in sets.direct
                   if routes[r].mode == k) <= bound
    m.parcel_capacity = pyo.Constraint(sets.parcel_modes, W, rule=parcel_rule)

    def bulk_rule(mm, k, w):
        bound = bulk_cap[k, w] + mm.bulk_short[k, w] if opt.elastic else bulk_cap[k, w]
        return sum(float(volume[s]) * mm.flow[s, r, w] for s in S for r in sets.bulk
                   if routes[r].mode == k) <= bound
    m.bulk_capacity = pyo.Constraint(sets.bulk_modes, W, rule=bulk_rule)
    m.container_fill = pyo.Constraint(sets.fcl, W, rule=lambda mm, r, w: (
        sum(float(volume[s]) * mm.flow[s, r, w] for s in S)
        <= routes[r].container_m3 * mm.containers[r, w]))
    spaces = [h for h in H if data.warehouses[h] in data.warehouse_m3]

    def space_rule(mm, h, w):
        bound = (space[h, w] + mm.space_short[data.warehouses[h], w] if opt.elastic
                 else space[h, w])
        return sum(float(volume[s]) * mm.inv[s, h, w] for s in S) <= bound
    m.warehouse_space = pyo.Constraint(spaces, W, rule=space_rule)


def _activation_rows(built: ChannelModel) -> None:
    """A contracted route's flow is zero unless its binary is on, and then at least the
    contract's minimum volume."""
    m, data, routes = built.model, built.data, built.data.routes
    S, W = range(len(data.skus)), range(1, built.weeks + 1)
    big = float(data.demand.sum() + data.opening.sum())

    def volume(mm, r):
        return sum(mm.flow[s, r, w] for s in S for w in W)
    m.activation_upper = pyo.Constraint(built.contract_routes, rule=lambda mm, r: (
        volume(mm, r) <= big * mm.use_mode[r]))
    m.activation_lower = pyo.Constraint(built.contract_routes, rule=lambda mm, r: (
        volume(mm, r) >= data.contracts[(routes[r].lane, routes[r].mode)][1] * mm.use_mode[r]))
