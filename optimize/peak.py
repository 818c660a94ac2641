"""Peak season in two stages: commit sea/rail stock early, expedite once demand is seen.

Stage one, weeks before the peak window and before demand is known, fixes how many units
of each SKU travel to each overseas warehouse by the slow, cheap commit modes (sea, rail),
in whole containers where the mode charges by container. Stage two, in each demand
scenario k and week t of the window, reacts: air freight to the warehouse (arriving after
its lead time), express parcels straight from origin, deliveries from stock, lost sales.
Sample-average approximation over K scenarios drawn from the simulator's own demand model
(sim.demand.sample_units_by_day: the same draws the simulation makes with those seeds):

    min  sum_sb c_sb commit_sb + sum_b F_b containers_b
         + 1/K sum_k [ sum c expedite + sum c express + sum c deliver
                       + sum_sht h_sh inv_shtk + sum p_sm lost_smtk + H h_sh inv_shTk ]
    demand_met[s,m,t,k]:  sum_l deliver_sltk + sum_d express_sdtk + lost_smtk = D_smtk
    balance[s,h,t,k]:     inv_shtk = inv_sh,t-1,k + [t=1](I_sh + sum_b commit_sb)
                                     + sum_e expedite_se,t-L_e,k - sum_l deliver_sltk
    container_fill[b]:    sum_s v_s commit_sb <= C_b containers_b
    parcel_capacity[k,t,mode]: sum express <= U

H is the number of weeks leftover stock waits to sell. I (with the supply the rules add) is
what the warehouses hold when the window opens: from an opening state, when one is given,
its stock on hand and on its way. The report compares this
recourse problem (RP) with the plan made from mean demand evaluated on the same scenarios
(EEV) and with perfect foresight (wait-and-see, WS):
    VSS = EEV - RP >= 0 (what planning for uncertainty saves), EVPI = RP - WS >= 0.

Two builds of one model. ``build_peak_model`` (Pyomo, below) is the readable reference;
``optimize.peak_arrays.build_peak_arrays`` forms the same LP from numpy arrays and hands it
to HiGHS with ``passModel`` (the tests find the two LPs equal entry for entry). The public
functions choose with ``backend``: "arrays" by default, because at a real catalogue's size
the model outgrows Pyomo (200 SKUs x 200 scenarios is 2.4 M columns: the array build takes
0.6 s and its hand-off 4.5 s; at K = 10 Pyomo's build and APPSI hand-off take two orders of
magnitude longer, see ``experiments/bench/scale_peak.py``); "pyomo" runs the reference end
to end, for tests and small instances. With arrays, EEV and WS are means of
single-scenario optima: once stage one is fixed the recourse separates by scenario, and
the anticipative model does too, so one single-scenario model is re-solved with its
demand and supply rows changed in place (WS: a MILP not started from the last scenario's
plan, which HiGHS took twice as long repairing). Fixing stage one by bounds on the whole
recourse model's HiGHS instance gives the same EEV, but HiGHS presolves the whole model
again (at 200 x 200: 95 s against 3.5 s for the 200 single-scenario LPs, machine loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimize.bookings import booking_list
from optimize.matrix import ArraySolver, solve_arrays_or_explain
from optimize.outcome import Outcome
from optimize.peak_arrays import build_peak_arrays
from optimize.peak_data import PeakData, peak_data
from optimize.solve import BuiltModel, SolveOptions, Solver, SolveReport, solve_or_explain
from sim.plan import Plan, ShipmentLine
from sim.scenario import Scenario
from sim.state import OpeningState

Backend = Literal["arrays", "pyomo"]

DEFAULT_OPTIONS = SolveOptions(mip_gap=1e-4)
"""The two-stage model solves to 0.01 % in seconds, so VSS and EVPI are differences of
optima, not of gaps."""


@dataclass(kw_only=True)
class PeakModel(BuiltModel):
    """A built peak model: the Pyomo model and its index maps."""

    data: PeakData
    anticipative: bool
    home: dict[int, int]      # last-mile route -> warehouse it leaves
    dest: dict[int, int]      # commit or expedite route -> warehouse it fills
    market: dict[int, int]    # last-mile or express route -> market it serves
    boxes: list[int]          # commit routes that move whole containers
    first: list[int]          # stage-one copies: [0], or every scenario (anticipative)


def build_peak_model(data: PeakData, anticipative: bool = False) -> PeakModel:
    """The two-stage SAA model; ``anticipative`` lets each scenario choose its own stage
    one (the wait-and-see bound)."""
    base, routes = data.base, data.base.routes
    m = pyo.ConcreteModel(name="peak")
    K = range(data.demand.shape[0])
    S, T = range(len(base.skus)), range(1, data.weeks + 1)
    H = range(len(base.warehouses))
    home = {r: base.warehouses.index(routes[r].origin) for r in data.deliver}
    dest = {r: base.warehouses.index(routes[r].destination) for r in data.commit + data.expedite}
    market = {r: base.markets.index(routes[r].destination) for r in data.deliver + data.express}
    first = list(K) if anticipative else [0]

    m.commit = pyo.Var(S, data.commit, first, domain=pyo.NonNegativeReals)
    boxes = data.boxes
    m.containers = pyo.Var(boxes, first, domain=pyo.NonNegativeIntegers)
    m.expedite = pyo.Var(S, data.expedite, T, K, domain=pyo.NonNegativeReals)
    m.express = pyo.Var(S, data.express, T, K, domain=pyo.NonNegativeReals)
    m.deliver = pyo.Var(S, data.deliver, T, K, domain=pyo.NonNegativeReals)
    m.inv = pyo.Var(S, H, T, K, domain=pyo.NonNegativeReals)
    m.lost = pyo.Var(S, data.markets, T, K, domain=pyo.NonNegativeReals)

    def stage_one(k: int) -> int:
        return k if anticipative else 0

    m.demand_met = pyo.Constraint(S, data.markets, T, K, rule=lambda mm, s, mk, t, k: (
        sum(mm.deliver[s, r, t, k] for r in data.deliver if market[r] == mk)
        + sum(mm.express[s, r, t, k] for r in data.express if market[r] == mk)
        + mm.lost[s, mk, t, k] == float(data.demand[k, s, mk, t - 1])))

    def balance(mm, s, h, t, k):
        inflow = sum(mm.expedite[s, r, t - routes[r].lead_weeks, k] for r in data.expedite
                     if dest[r] == h and t - routes[r].lead_weeks >= 1)
        inflow += float(data.supply[k, s, h, t - 1]) if data.supply is not None \
            else float(base.opening[s, h]) * (t == 1)
        if t == 1:
            inflow += sum(mm.commit[s, r, stage_one(k)] for r in data.commit if dest[r] == h)
        previous = mm.inv[s, h, t - 1, k] if t > 1 else 0.0
        out = sum(mm.deliver[s, r, t, k] for r in data.deliver if home[r] == h)
        return mm.inv[s, h, t, k] == previous + inflow - out
    m.balance = pyo.Constraint(S, H, T, K, rule=balance)
    m.container_fill = pyo.Constraint(boxes, first, rule=lambda mm, r, j: (
        sum(float(base.volume[s]) * mm.commit[s, r, j] for s in S)
        <= routes[r].container_m3 * mm.containers[r, j]))
    capped = [(mode, t, k) for mode in {routes[r].mode for r in data.express}
              if mode in data.parcel_capacity for t in T for k in K]
    m.parcel_capacity = pyo.Constraint(capped, rule=lambda mm, mode, t, k: (
        sum(mm.express[s, r, t, k] for s in S for r in data.express
            if routes[r].mode == mode) <= float(data.parcel_capacity[mode][t - 1])))

    weight = 1.0 / len(K)
    depart = data.depart
    box_week = max(data.first_week + depart - 2, 0)
    first_cost = (weight if anticipative else 1.0) * (
        sum(float(data.cost(r, depart)[s]) * m.commit[s, r, j]
            for s in S for r in data.commit for j in first)
        + sum(float(routes[r].container_costs()[box_week]) * m.containers[r, j]
              for r in boxes for j in first))
    second = sum(float(data.cost(r, t)[s]) * m.expedite[s, r, t, k]
                 for s in S for r in data.expedite for t in T for k in K)
    second += sum(float(data.cost(r, t)[s]) * m.express[s, r, t, k]
                  for s in S for r in data.express for t in T for k in K)
    second += sum(float(data.cost(r, t)[s]) * m.deliver[s, r, t, k]
                  for s in S for r in data.deliver for t in T for k in K)
    second += sum(float(base.holding[s, h]) * (1.0 + (t == data.weeks) * data.leftover_weeks)
                  * m.inv[s, h, t, k] for s in S for h in H for t in T for k in K)
    second += sum(float(base.lost_penalty[s, mk]) * m.lost[s, mk, t, k]
                  for s in S for mk in data.markets for t in T for k in K)
    m.first_stage_cost = pyo.Expression(expr=first_cost)
    m.second_stage_cost = pyo.Expression(expr=weight * second)
    m.objective = pyo.Objective(expr=m.first_stage_cost + m.second_stage_cost,
                                sense=pyo.minimize)
    return PeakModel(model=m, data=data, anticipative=anticipative, home=home, dest=dest,
                     market=market, boxes=boxes, first=first)


def _mean_scenario(data: PeakData) -> PeakData:
    """The expected-value problem: one scenario, the mean demand and the mean supply."""
    supply = None if data.supply is None else data.supply.mean(axis=0, keepdims=True)
    return replace(data, demand=data.demand.mean(axis=0, keepdims=True), supply=supply)


def _one_scenario(data: PeakData, k: int) -> PeakData:
    supply = None if data.supply is None else data.supply[k:k + 1]
    return replace(data, demand=data.demand[k:k + 1], supply=supply)


@dataclass
class _Solved:
    """What the report needs from the three solves: the recourse problem's (RP) plan and
    lost sales, the expected cost of the mean-demand plan (EEV) and of perfect foresight
    (WS)."""

    report: SolveReport
    commit: np.ndarray       # units [sku, commit route]
    containers: np.ndarray   # [box route]
    lost: np.ndarray         # units [sku, served market, week, scenario]
    eev: float
    wait_and_see: float


# ------------------------------------------------------------------- Pyomo reference
def _values(var: pyo.Var) -> np.ndarray:
    """A variable's values in its index order (row-major over its index sets)."""
    return np.array([v.value or 0.0 for v in var.values()])


def _stage_one(model: pyo.ConcreteModel, data: PeakData) -> tuple[np.ndarray, np.ndarray]:
    """Stage one of a (non-anticipative) model: units [sku, commit route] and containers
    [box route]."""
    return (_values(model.commit).reshape(len(data.base.skus), len(data.commit)),
            _values(model.containers).reshape(len(data.boxes)))


def _solve_pyomo(data: PeakData, options: SolveOptions) -> _Solved:
    built, report, _ = solve_or_explain(lambda elastic: build_peak_model(data), options)
    commit, containers = _stage_one(built.model, data)
    lost = _values(built.model.lost).reshape(len(data.base.skus), len(data.markets),
                                             data.weeks, -1)
    ev_model = build_peak_model(_mean_scenario(data)).model
    Solver(options).solve(ev_model)
    ev_commit, ev_boxes = _stage_one(ev_model, data)
    fixed = build_peak_model(data).model
    for var, value in zip(fixed.commit.values(), ev_commit.ravel(), strict=True):
        var.fix(float(value))
    for var, value in zip(fixed.containers.values(), np.round(ev_boxes), strict=True):
        var.fix(float(value))
    eev = Solver(options).solve(fixed).objective
    wait_and_see = Solver(options).solve(
        build_peak_model(data, anticipative=True).model).objective
    return _Solved(report, commit, containers, lost, eev, wait_and_see)


# ------------------------------------------------------------------- arrays
def _solve_arrays(data: PeakData, options: SolveOptions) -> _Solved:
    built, report, solver = solve_arrays_or_explain(
        lambda elastic: build_peak_arrays(data), options)
    assert solver.solution is not None
    x = solver.solution
    commit, containers, lost = x[built.commit[:, :, 0]], x[built.containers[:, 0]], x[built.lost]
    ev = build_peak_arrays(_mean_scenario(data))
    ev_solver = ArraySolver(ev.matrix, options)
    ev_solver.solve()
    assert ev_solver.solution is not None
    ev_plan = (ev_solver.solution[ev.commit].ravel(),
               np.round(ev_solver.solution[ev.containers]).ravel())
    return _Solved(report, commit, containers, lost,
                   eev=_mean_over_scenarios(data, options, ev_plan),
                   wait_and_see=_mean_over_scenarios(data, options))


def _mean_over_scenarios(data: PeakData, options: SolveOptions,
                         stage_one: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """The mean over the scenarios of each one's own optimum: with stage one free, the
    wait-and-see cost (the anticipative model separates by scenario); with stage one fixed
    (units [sku, commit route], whole containers [box route]), its expected cost, EEV (the
    recourse separates by scenario once stage one is fixed). One single-scenario model,
    its demand and supply rows changed in place for each scenario; with stage one fixed it
    is an LP re-solved from the last basis (at 200 SKUs x 200 scenarios: 3.5 s, against
    47 s as MILPs and 95 s for the whole recourse model with stage one fixed by bounds)."""
    one = build_peak_arrays(_one_scenario(data, 0), relaxed=stage_one is not None)
    solver = ArraySolver(one.matrix, options)
    if stage_one is not None:
        commit, boxes = stage_one
        solver.change_col_bounds(one.commit, commit, commit)
        solver.change_col_bounds(one.containers, boxes, boxes)
    demand, inflow = data.demand_rows(), data.inflow_rows()
    total = 0.0
    for k in range(data.demand.shape[0]):
        if k:
            solver.change_row_bounds(one.demand_met, demand[..., k].ravel(),
                                     demand[..., k].ravel())
            solver.change_row_bounds(one.balance, inflow[..., k].ravel(), inflow[..., k].ravel())
        total += solver.solve(warm=False).objective
    return total / data.demand.shape[0]


# ------------------------------------------------------------------- the plan
SOLVE: dict[str, Callable[[PeakData, SolveOptions], _Solved]] = {
    "arrays": _solve_arrays, "pyomo": _solve_pyomo}
"""How each backend builds and solves: arrays by default (the Pyomo build and hand-off take
two orders of magnitude longer at a real catalogue's size), Pyomo as the readable reference
the tests compare against."""


def solve_peak(data: PeakData, options: SolveOptions | None = None,
               backend: Backend = "arrays") -> Outcome:
    """The recourse plan, with its value against the mean-demand plan (VSS) and against
    perfect foresight (EVPI), built and solved by ``backend``."""
    solved = SOLVE[backend](data, options or DEFAULT_OPTIONS)
    report, recourse = solved.report, solved.report.objective
    base, routes = data.base, data.base.routes
    s_idx, c_idx = np.nonzero(solved.commit > 1e-6)
    units = solved.commit[s_idx, c_idx]
    commits = [(base.skus[s], routes[data.commit[c]], float(u))
               for s, c, u in zip(s_idx, c_idx, units, strict=True)]
    week = max(data.first_week + data.depart - 1, 1)
    shipments = [ShipmentLine(week=week, sku=sku, origin=route.origin,
                              destination=route.destination, mode=route.mode,
                              units=round(u, 3)) for sku, route, u in commits]
    summary = {"expected_cost_rp_cny": recourse, "ev_plan_expected_cost_eev_cny": solved.eev,
               "wait_and_see_cost_ws_cny": solved.wait_and_see,
               "vss_cny": solved.eev - recourse, "evpi_cny": recourse - solved.wait_and_see,
               "committed_units": float(units.sum()),
               "expected_lost_units": float(solved.lost.sum() / data.demand.shape[0]),
               "scenarios": float(data.demand.shape[0])}
    boxes = [routes[r] for r in data.boxes]
    plan = Plan(kind="peak", takes_over=[], scenario=base.scenario,
                scenario_hash=base.scenario_hash, weeks=base.weeks, objective_cny=recourse,
                costs_cny=summary, shipments=shipments,
                containers={route.name: float(round(n))
                            for route, n in zip(boxes, solved.containers, strict=True)},
                solver={"status": report.status, "gap": report.gap})
    commit_table = pd.DataFrame({"sku": [c[0] for c in commits],
                                 "route": [c[1].name for c in commits], "units": units})
    lines = pd.DataFrame([(line.week, line.sku, line.origin, line.destination, line.mode,
                           line.units, route.mean_days)
                          for line, (_, route, _) in zip(shipments, commits, strict=True)],
                         columns=["week", "sku", "origin", "destination", "mode", "units",
                                  "mean_days"])
    booked = {(route.origin, route.destination, route.mode, week): float(n)
              for route, n in zip(boxes, solved.containers, strict=True)}
    return Outcome(plan, summary, {
        "commitments": commit_table,
        "value": pd.DataFrame({"measure": list(summary), "value": list(summary.values())}),
        "bookings": booking_list(lines, booked, data.start, data.booking_lead_days)}, report)


def optimize_peak(scenario: Scenario, options: SolveOptions | None = None,
                  state: OpeningState | None = None, backend: Backend = "arrays") -> Outcome:
    """The two-stage plan for the scenario's ``planning.peak`` window, from the opening
    ``state`` when one is given."""
    return solve_peak(peak_data(scenario, state=state), options, backend)
