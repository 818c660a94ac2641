"""Channel plans for catalogues too large for one MILP: families, then SKUs, with a bound.

The channel MILP (``optimize.channels``) separates by SKU except for what the SKUs share:
carrier and departure capacities, warehouse space, whole containers and contract minimums.
Its only integer decisions, containers per lane and week and contract switches, are few;
what makes a thousand-SKU model slow is branching over an LP of a million columns. So:

1. **Families.** SKUs are grouped (k-means on their volume, value, holding cost and route
   costs, standardised; seeded, so the same data gives the same families).
2. **Relaxation.** A model with one product per family, whose demand and stock are its
   members' sums and whose every per-unit figure (route cost, volume, holding, lost-sale
   penalty, safety cover) is its members' *smallest*. Any plan of the full model, summed per
   family, is a plan of this one that costs no more, so its MILP bound is a lower bound of
   the full optimum; HiGHS solves it in seconds because it has forty products, not a
   thousand.
3. **Disaggregation.** The family plan fixes the containers and contract switches. Each
   shared capacity (units per parcel mode and week, m3 per bulk mode and week, m3 of space
   per warehouse and week, container m3 per lane and week, contract minimums) is split among
   the families in proportion to what their plan used, valued at their members' mean volume;
   each family's SKUs are then planned by an LP within their share. The shares add up to the
   whole, so the assembled plan is feasible for the full model and its cost is an upper
   bound.

The reported gap is (upper - lower) / upper: the plan is proven within it of the optimum.
The bound is as tight as the families are alike: identical members lose nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from scipy.cluster.vq import kmeans2

from optimize.channel_data import ChannelData, sku_subset
from optimize.core import ChannelSolution, RouteSets, channel_options
from optimize.core_arrays import build_core_arrays
from optimize.matrix import INF, ArraySolver, solve_arrays_or_explain
from optimize.solve import Infeasible, SolveError, SolveOptions, SolveReport

FAMILIES = 40
"""Families of the relaxation: the size of catalogue HiGHS closes to 1 % in seconds."""


@dataclass
class Assembled:
    """The full model's plan put together from the families' LPs (``optimize.channels``
    readers take it like a solved model)."""

    data: ChannelData
    sets: RouteSets
    contract_routes: list[int]
    plan: ChannelSolution
    families: np.ndarray        # family of each SKU

    @property
    def weeks(self) -> int:
        return self.data.weeks

    def solution(self) -> ChannelSolution:
        return self.plan


def sku_families(data: ChannelData, count: int) -> np.ndarray:
    """A family label per SKU, 0..n-1 numbered in order of first SKU: k-means on standardised
    log volume, lost-sale penalty, holding cost and mean route cost per unit."""
    if count >= len(data.skus):
        return np.arange(len(data.skus))
    mean_costs = np.stack([route.unit_cost.mean(axis=1) for route in data.routes], axis=1)
    features = np.log(np.maximum(np.column_stack([
        data.volume, data.lost_penalty.max(axis=1), data.holding.max(axis=1), mean_costs]),
        1e-9))
    spread = features.std(axis=0)
    features = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    _, labels = kmeans2(features, count, seed=np.random.default_rng(0), minit="++")
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(labels.max() + 1, dtype=int)
    renumber[labels[np.sort(first)]] = np.arange(first.size)
    return renumber[labels]


def relaxation(data: ChannelData, families: np.ndarray) -> ChannelData:
    """One product per family: sums of demand, stock and safety stock, the smallest of every
    per-unit figure (module docstring, step 2)."""
    count = int(families.max()) + 1

    def total(array: np.ndarray) -> np.ndarray:
        out = np.zeros((count, *array.shape[1:]))
        np.add.at(out, families, array)
        return out

    def least(array: np.ndarray) -> np.ndarray:
        out = np.full((count, *array.shape[1:]), np.inf)
        np.minimum.at(out, families, array)
        return out

    def least_of(array: np.ndarray | None) -> np.ndarray | None:
        return None if array is None else least(array)

    routes = [replace(route, unit_cost=least(route.unit_cost), capital=least_of(route.capital))
              for route in data.routes]
    return replace(
        data, skus=[f"family {f + 1}" for f in range(count)], demand=total(data.demand),
        lost_penalty=least(data.lost_penalty), holding=least(data.holding),
        volume=least(data.volume), opening=total(data.opening), routes=routes,
        safety_stock=None if data.safety_stock is None else total(data.safety_stock),
        safety_cover=least_of(data.safety_cover), safety_penalty=least_of(data.safety_penalty),
        holding_capital=least_of(data.holding_capital))


@dataclass
class Shares:
    """Each family's part [family, ...] of every shared capacity."""

    parcel: np.ndarray      # units [family, parcel mode, week]
    bulk: np.ndarray        # m3 [family, bulk mode, week]
    space: np.ndarray       # m3 [family, warehouse with space, week]
    containers: np.ndarray  # containers [family, fcl route, week]
    contracts: np.ndarray   # share of each contract [family, contract route]

    def of(self, family: int) -> Shares:
        """One family's parts (its row of every array)."""
        return Shares(self.parcel[family], self.bulk[family], self.space[family],
                      self.containers[family], self.contracts[family])


def _split(used: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Shares [family, ...] of a capacity, in proportion to ``used`` [family, ...]; where no
    family used it, by ``weights`` [family] (their demand)."""
    total = used.sum(axis=0, keepdims=True)
    even = np.broadcast_to((weights / weights.sum()).reshape(-1, *[1] * (used.ndim - 1)),
                           used.shape)
    return np.where(total > 0, used / np.where(total > 0, total, 1.0), even)


def shares(data: ChannelData, sets: RouteSets, families: np.ndarray, plan: ChannelSolution,
           spaces: list[int], contract_routes: list[int]) -> Shares:
    """Split the shared capacities by what the family plan used, at mean member volumes."""
    routes, at = data.routes, {r: u for u, r in enumerate(sets.used)}
    flow = plan.flow
    count, weeks = flow.shape[0], flow.shape[2]
    demand = np.bincount(families, data.demand.sum(axis=(1, 2)), count) + 1e-9
    volume = np.bincount(families, data.volume * data.demand.sum(axis=(1, 2)), count) / demand

    def by_mode(kind: list[int], modes: list[str], scale: np.ndarray) -> np.ndarray:
        out = np.zeros((count, len(modes), weeks))
        for i, mode in enumerate(modes):
            for r in kind:
                if routes[r].mode == mode:
                    out[:, i] += scale[:, None] * flow[:, at[r]]
        return out

    boxes = np.zeros((count, len(sets.fcl), weeks))
    for i, r in enumerate(sets.fcl):
        boxes[:, i] = volume[:, None] * flow[:, at[r]]
    contracted = np.zeros((count, len(contract_routes)))
    for i, r in enumerate(contract_routes):
        contracted[:, i] = flow[:, at[r]].sum(axis=1)
    return Shares(
        parcel=_split(by_mode(sets.direct, sets.parcel_modes, np.ones(count)), demand),
        bulk=_split(by_mode(sets.bulk, sets.bulk_modes, volume), demand),
        space=_split(volume[:, None, None] * plan.inv[:, spaces], demand),
        containers=_split(boxes, demand) * plan.containers[None],
        contracts=_split(contracted, demand) * plan.use_mode[None])


def _family_plan(data: ChannelData, members: np.ndarray, share: Shares,
                 options: SolveOptions) -> tuple[ChannelSolution, SolveReport]:
    """Plan one family's SKUs by an LP within its ``share`` of every shared capacity, its
    containers and contract switches fixed at its share of the family plan's."""
    sub = sku_subset(data, members)
    model = build_core_arrays(sub, channel_options(sub))
    solver = ArraySolver(model.matrix, options)
    fixed = [("containers", share.containers)]
    if model.contract_routes:
        fixed.append(("use_mode", share.contracts))
    for name, values in fixed:
        solver.change_col_bounds(model.column(name), values, values)
        solver.make_continuous(model.column(name))
    sets = model.sets
    parcel = np.array([sub.parcel_capacity[k][: sub.weeks] for k in sets.parcel_modes])
    bulk = np.array([sub.bulk_capacity_m3[k][: sub.weeks] for k in sets.bulk_modes])
    space = np.array([[sub.warehouse_m3[sub.warehouses[h]]] for h in model.spaces])
    solver.change_row_bounds(model.row("parcel_capacity"), -INF,
                             share.parcel * parcel.reshape(share.parcel.shape))
    solver.change_row_bounds(model.row("bulk_capacity"), -INF,
                             share.bulk * bulk.reshape(share.bulk.shape))
    solver.change_row_bounds(model.row("warehouse_space"), -INF,
                             share.space * space.reshape(-1, 1))
    report = solver.solve()
    assert solver.solution is not None
    model.load(solver.solution)
    return model.solution(), report


def solve_decomposed(data: ChannelData, options: SolveOptions, families: int = FAMILIES
                     ) -> tuple[Assembled, SolveReport]:
    """The channel plan by families and SKUs (module docstring); the report's objective is
    the plan's cost, its bound the relaxation's, so ``report.gap`` is the proven gap."""
    started = time.perf_counter()
    labels = sku_families(data, min(families, len(data.skus)))
    relaxed = relaxation(data, labels)
    family_model = build_core_arrays(relaxed, channel_options(relaxed))
    build_s = time.perf_counter() - started
    family_solver = ArraySolver(family_model.matrix, options)
    try:
        family_report = family_solver.solve(build_s)
    except Infeasible:
        # Said in the SKUs' own terms: the full model's elastic build names the shortfalls.
        solve_arrays_or_explain(lambda elastic: build_core_arrays(
            data, channel_options(data, elastic)), options)
        raise
    assert family_solver.solution is not None
    family_model.load(family_solver.solution)
    plan = family_model.solution()
    sets = family_model.sets
    split = shares(data, sets, labels, plan, family_model.spaces,
                   family_model.contract_routes)
    S, W = len(data.skus), data.weeks
    flow = np.zeros((S, len(sets.used), W))
    inv = np.zeros((S, len(data.warehouses), W))
    lost = np.zeros((S, len(data.markets), W))
    upper, safety = 0.0, 0.0
    handoff_s, highs_s = family_report.handoff_s, family_report.highs_s
    for f in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == f)
        try:
            part, report = _family_plan(data, members, split.of(f), options)
        except Infeasible:
            raise SolveError(
                f"planning by families: family {f + 1}'s share of the shared capacities "
                "cannot serve its SKUs without lost sales; plan with --method monolithic"
            ) from None
        flow[members], inv[members], lost[members] = part.flow, part.inv, part.lost
        upper += report.objective
        safety += part.safety_shortfall
        handoff_s += report.handoff_s
        highs_s += report.highs_s
    assembled = Assembled(
        data=data, sets=sets, contract_routes=family_model.contract_routes, families=labels,
        plan=ChannelSolution(flow=flow, inv=inv, lost=lost, containers=plan.containers,
                             use_mode=plan.use_mode, short=np.zeros(inv.shape[:2]),
                             safety_shortfall=safety))
    lower = family_report.bound if family_report.bound is not None else -INF
    return assembled, SolveReport(family_report.condition, upper, min(lower, upper), build_s,
                                  handoff_s, highs_s, time.perf_counter() - started)
