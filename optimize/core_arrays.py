"""The channel MILP of ``optimize.core`` built from arrays (``optimize.matrix``).

Same variables, rows (in the same sense) and objective as the Pyomo build, with every sum
over SKUs and weeks an index-array operation: the loops run over routes and modes (tens),
never over SKUs x weeks. At 1,000 SKUs x 3 markets x 52 weeks (~800k columns) the build and
hand-off take seconds where Pyomo took minutes. ``tests/test_channels_arrays.py`` reads the
LP the Pyomo build hands HiGHS back from its solver and checks it is this one, entry by
entry, and that both give the same plan.

A rolling window (``CoreOptions.mutable``) is built once with its moving figures zero; the
planner sets them on the live HiGHS instance (``ArrayChannelModel.set_window``): demand,
stock and capacities are row bounds, route and container costs are column costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimize.channel_data import ChannelData
from optimize.core import ChannelSolution, CoreOptions, RouteSets, origin_names, route_sets
from optimize.matrix import INF, ArrayModel, ArraySolver
from optimize.solve import ELASTIC_PENALTY


@dataclass(kw_only=True)
class ArrayChannelModel:
    """A built channel model: its matrix, the data, route sets and the ids of the column and
    row blocks the readers and a rolling window need. ``values`` holds the last solution."""

    matrix: ArrayModel
    data: ChannelData
    options: CoreOptions
    sets: RouteSets
    contract_routes: list[int]
    origins: list[str]
    safety: list[tuple[int, int, int]]
    spaces: list[int]                   # warehouses with a space row
    values: np.ndarray | None = field(default=None)

    @property
    def weeks(self) -> int:
        return self.options.weeks

    def column(self, name: str) -> np.ndarray:
        return self.matrix.columns[name].ids

    def row(self, name: str) -> np.ndarray:
        return self.matrix.rows[name].ids

    def load(self, solution: np.ndarray) -> None:
        self.values = solution

    def solution(self) -> ChannelSolution:
        """The solved plan's arrays (zeros before a solve)."""
        values = self.values if self.values is not None else np.zeros(self.matrix.n_cols)
        costs = self.matrix.column_costs()

        def get(name: str) -> np.ndarray:
            return values[self.column(name)] if name in self.matrix.columns else np.zeros(0)

        def cost(name: str) -> float:
            ids = self.column(name) if name in self.matrix.columns else np.zeros(0, int)
            return float((costs[ids] * values[ids]).sum())

        data = self.data
        return ChannelSolution(
            flow=get("flow"), inv=get("inv"), lost=get("lost"), containers=get("containers"),
            use_mode=get("use_mode"),
            safety_shortfall=cost("below_safety"), terminal_shortfall=cost("short"),
            short=get("short") if "short" in self.matrix.columns
            else np.zeros((len(data.skus), len(data.warehouses))))

    def set_window(self, solver: ArraySolver, *, demand: np.ndarray, opening: np.ndarray,
                   arrivals: np.ndarray, target: np.ndarray, unit_cost: np.ndarray,
                   container_cost: np.ndarray, parcel_cap: np.ndarray, bulk_cap: np.ndarray,
                   space: np.ndarray, origin_stock: np.ndarray) -> None:
        """Set a rolling window's figures on the solver's instance (shapes as the Pyomo
        model's mutable parameters; ``space`` [warehouse, week] for every warehouse)."""
        first = np.zeros_like(arrivals)
        first[:, :, 0] = opening
        rhs = first + arrivals
        solver.change_row_bounds(self.row("demand_met"), demand, demand)
        solver.change_row_bounds(self.row("balance"), rhs, rhs)
        solver.change_row_bounds(self.row("terminal"), target, INF)
        solver.change_row_bounds(self.row("parcel_capacity"), -INF, parcel_cap)
        solver.change_row_bounds(self.row("bulk_capacity"), -INF, bulk_cap)
        solver.change_row_bounds(self.row("warehouse_space"), -INF, space[self.spaces])
        solver.change_row_bounds(self.row("origin_supply"), -INF, origin_stock)
        solver.change_costs(self.column("flow"), unit_cost)
        solver.change_costs(self.column("containers"), container_cost)


def build_core_arrays(data: ChannelData, options: CoreOptions) -> ArrayChannelModel:
    """The channel MILP over ``options.weeks`` weeks from arrays; pure: the same arguments
    give the same model. Row blocks come in the Pyomo build's order of constraints."""
    opt = options
    S, M, H, W = len(data.skus), len(data.markets), len(data.warehouses), opt.weeks
    routes, sets = data.routes, route_sets(data)
    used = sets.used
    at = {r: u for u, r in enumerate(used)}           # route -> position in flow's axis 1
    calendar = np.minimum(np.arange(1, W + 1), data.weeks) - 1
    fixed = not opt.mutable
    contract_routes = ([r for r in sets.direct + sets.bulk
                        if (routes[r].lane, routes[r].mode) in data.contracts]
                       if opt.contracts else [])
    origins = origin_names(data, sets) if opt.origin_supply else []
    mx = ArrayModel(opt.name)

    # columns
    unit_cost = (np.stack([routes[r].unit_cost[:, calendar] for r in used], axis=1)
                 if used else np.zeros((S, 0, W)))
    flow = mx.add_columns("flow", (S, len(used), W), cost=unit_cost if fixed else 0.0)
    inv = mx.add_columns("inv", (S, H, W), cost=data.holding[:, :, None])
    lost = mx.add_columns("lost", (S, M, W), upper=INF if opt.allow_lost_sales else 0.0,
                          cost=data.lost_penalty[:, :, None])
    box_cost = (np.array([routes[r].container_costs()[calendar] for r in sets.fcl])
                if sets.fcl else np.zeros((0, W)))
    containers = mx.add_columns("containers", (len(sets.fcl), W),
                                cost=box_cost if fixed else 0.0, integer=True)
    if opt.contracts:
        fees = [data.contracts[(routes[r].lane, routes[r].mode)][0] for r in contract_routes]
        use = mx.add_columns("use_mode", (len(contract_routes),), upper=1.0, cost=fees,
                             integer=True)
    if opt.terminal_penalty is not None:
        short = mx.add_columns("short", (S, H), cost=opt.terminal_penalty)
    if opt.elastic:
        unmet = mx.add_columns("unmet", (S, M, W), cost=10.0 * ELASTIC_PENALTY)
        mx.add_elastic("demand", "unmet", lambda i, v: (
            f"{data.markets[i[1]]} {data.skus[i[0]]} week {i[2] + 1}: no allowed route can "
            f"deliver {v:,.0f} units (promise {data.promise_days[data.markets[i[1]]]:g} d)"))

    # rows
    if opt.origin_supply:
        supply = mx.add_rows("origin_supply", (S, len(origins)), upper=0.0)
        for o, origin in enumerate(origins):
            for r in sets.direct + sets.bulk:
                if routes[r].origin == origin:
                    mx.add_terms(supply[:, o], flow[:, at[r], 0])
    demand = data.demand[:, :, calendar] if fixed else 0.0
    met = mx.add_rows("demand_met", (S, M, W), lower=demand, upper=demand)
    for mk in range(M):
        for r in sets.serving[mk]:
            mx.add_terms(met[:, mk, :], flow[:, at[r], :])
    mx.add_terms(met, lost)
    if opt.elastic:
        mx.add_terms(met, unmet)

    opening = np.zeros((S, H, W))
    if fixed:
        opening[:, :, 0] = data.opening
    balance = mx.add_rows("balance", (S, H, W), lower=opening, upper=opening)
    mx.add_terms(balance, inv)
    mx.add_terms(balance[:, :, 1:], inv[:, :, :-1], -1.0)
    for h in range(H):
        for r in sets.arriving[h]:
            lead = routes[r].lead_weeks
            if lead < W:
                mx.add_terms(balance[:, h, lead:], flow[:, at[r], :W - lead], -1.0)
        for r in sets.leaving[h]:
            mx.add_terms(balance[:, h, :], flow[:, at[r], :])
    if opt.closing:
        closing = mx.add_rows("closing", (S, H), lower=data.opening)
        mx.add_terms(closing, inv[:, :, W - 1])
    if opt.terminal_penalty is not None:
        terminal = mx.add_rows("terminal", (S, H), lower=0.0)
        mx.add_terms(terminal, inv[:, :, W - 1])
        mx.add_terms(terminal, short)
    spaces = _capacity_rows(mx, data, sets, opt, flow, inv, containers, at, calendar)
    if opt.contracts:
        _activation_rows(mx, data, contract_routes, flow, use, at)
    safety = _safety_rows(mx, data, sets, flow, inv, at, W)
    return ArrayChannelModel(matrix=mx, data=data, options=opt, sets=sets,
                             contract_routes=contract_routes, origins=origins,
                             safety=safety, spaces=spaces)


def _capacity_rows(mx: ArrayModel, data: ChannelData, sets: RouteSets, opt: CoreOptions,
                   flow: np.ndarray, inv: np.ndarray, containers: np.ndarray,
                   at: dict[int, int], calendar: np.ndarray) -> list[int]:
    """Carrier, departure, container and space rows; returns the warehouses with space."""
    routes, volume, W = data.routes, data.volume, opt.weeks
    fixed = not opt.mutable
    if opt.elastic:
        named = list(data.warehouse_m3)
        parcel_short = mx.add_columns("parcel_short", (len(sets.parcel_modes), W),
                                      cost=ELASTIC_PENALTY)
        bulk_short = mx.add_columns("bulk_short", (len(sets.bulk_modes), W),
                                    cost=ELASTIC_PENALTY)
        space_short = mx.add_columns("space_short", (len(named), W), cost=ELASTIC_PENALTY)
        mx.add_elastic("parcel capacity", "parcel_short", lambda i, v: (
            f"{sets.parcel_modes[i[0]]} week {i[1] + 1}: carrier capacity short by "
            f"{v:,.0f} units"))
        mx.add_elastic("bulk capacity", "bulk_short", lambda i, v: (
            f"{sets.bulk_modes[i[0]]} departures week {i[1] + 1}: capacity short by "
            f"{v:,.1f} m3"))
        mx.add_elastic("warehouse space", "space_short", lambda i, v: (
            f"{named[i[0]]} week {i[1] + 1}: warehouse space short by {v:,.1f} m3"))

    def mode_rows(name: str, modes: list[str], capacity: dict[str, np.ndarray],
                  kind: list[int], coefficient: Any) -> np.ndarray:
        """Per mode and week: what the mode's routes of ``kind`` carry <= its capacity."""
        cap = np.array([capacity[k][calendar] for k in modes]) if fixed and modes else 0.0
        ids = mx.add_rows(name, (len(modes), W), upper=cap)
        for i, k in enumerate(modes):
            for r in kind:
                if routes[r].mode == k:
                    mx.add_terms(ids[i][None, :], flow[:, at[r], :], coefficient)
        return ids

    parcel = mode_rows("parcel_capacity", sets.parcel_modes, data.parcel_capacity,
                       sets.direct, 1.0)
    bulk = mode_rows("bulk_capacity", sets.bulk_modes, data.bulk_capacity_m3, sets.bulk,
                     volume[:, None])
    fill = mx.add_rows("container_fill", (len(sets.fcl), W), upper=0.0)
    for i, r in enumerate(sets.fcl):
        mx.add_terms(fill[i][None, :], flow[:, at[r], :], volume[:, None])
        mx.add_terms(fill[i], containers[i], -float(routes[r].container_m3 or 0.0))
    spaces = [h for h, name in enumerate(data.warehouses) if name in data.warehouse_m3]
    space = (np.array([[data.warehouse_m3[data.warehouses[h]]] for h in spaces])
             if fixed and spaces else 0.0)
    rows = mx.add_rows("warehouse_space", (len(spaces), W), upper=space)
    for i, h in enumerate(spaces):
        mx.add_terms(rows[i][None, :], inv[:, h, :], volume[:, None])
    if opt.elastic:
        mx.add_terms(parcel, parcel_short, -1.0)
        mx.add_terms(bulk, bulk_short, -1.0)
        for i, h in enumerate(spaces):
            mx.add_terms(rows[i], space_short[named.index(data.warehouses[h])], -1.0)
    return spaces


def _activation_rows(mx: ArrayModel, data: ChannelData, contract_routes: list[int],
                     flow: np.ndarray, use: np.ndarray, at: dict[int, int]) -> None:
    """A contracted route carries nothing unless its binary is on, then its minimum."""
    routes = data.routes
    big = float(data.demand.sum() + data.opening.sum())
    upper = mx.add_rows("activation_upper", (len(contract_routes),), upper=0.0)
    # minimum * use - flow <= 0: the sense Pyomo gives ``flow >= minimum * use``
    lower = mx.add_rows("activation_lower", (len(contract_routes),), upper=0.0)
    for i, r in enumerate(contract_routes):
        mx.add_terms(upper[i], flow[:, at[r], :])
        mx.add_terms(upper[i], use[i], -big)
        mx.add_terms(lower[i], flow[:, at[r], :], -1.0)
        mx.add_terms(lower[i], use[i], data.contracts[(routes[r].lane, routes[r].mode)][1])


def _safety_rows(mx: ArrayModel, data: ChannelData, sets: RouteSets, flow: np.ndarray,
                 inv: np.ndarray, at: dict[int, int], W: int) -> list[tuple[int, int, int]]:
    """``optimize.core.safety_rows`` (first week 1): inv + below >= cover * shipped."""
    if (data.safety_stock is None or not data.safety_stock.any()
            or data.safety_cover is None or data.safety_from_week is None
            or data.safety_penalty is None):
        return []
    cover, start, price = data.safety_cover, data.safety_from_week, data.safety_penalty
    on = ((np.arange(1, W + 1)[None, None, :] >= start[None, :, None])
          & (cover[:, :, None] > 0)
          & np.array([bool(sets.leaving[h]) for h in range(len(data.warehouses))]
                     )[None, :, None])
    s, h, w = np.nonzero(on)
    if not s.size:
        return []
    below = mx.add_columns("below_safety", (s.size,), cost=price[s, h])
    # cover * shipped - inv - below <= 0: the sense Pyomo gives ``inv + below >= ...``
    rows = mx.add_rows("safety", (s.size,), upper=0.0)
    mx.add_terms(rows, inv[s, h, w], -1.0)
    mx.add_terms(rows, below, -1.0)
    for house in range(len(data.warehouses)):
        mine = h == house
        for r in sets.leaving[house]:
            mx.add_terms(rows[mine], flow[s[mine], at[r], w[mine]], cover[s[mine], house])
    return list(zip(s.tolist(), h.tolist(), (w + 1).tolist(), strict=True))
