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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimize.bookings import booking_list
from optimize.channel_data import ChannelData, channel_data
from optimize.outcome import Outcome
from optimize.solve import BuiltModel, SolveOptions, Solver, solve_or_explain
from sim.calendar import day_of
from sim.demand import sample_units_by_day
from sim.model import simulate
from sim.plan import Plan, ShipmentLine
from sim.scenario import Scenario
from sim.state import OpeningState

DEFAULT_OPTIONS = SolveOptions(mip_gap=1e-4)
"""The two-stage model solves to 0.01 % in seconds, so VSS and EVPI are differences of
optima, not of gaps."""


@dataclass
class PeakData:
    base: ChannelData
    first_week: int                 # plan week (1-based) the window starts in
    weeks: int
    demand: np.ndarray              # units [scenario, sku, market, week of window]
    commit: list[int]               # indices into base.routes: bulk commit routes
    expedite: list[int]             # bulk expedite routes (to warehouses)
    express: list[int]              # direct parcel expedite routes (to markets)
    deliver: list[int]              # last-mile routes
    markets: list[int]              # markets served from overseas warehouses
    leftover_weeks: float
    parcel_capacity: dict[str, np.ndarray]  # units per window week
    start: dt.date                  # the first day of plan week 1
    booking_lead_days: int          # space is booked this long before its week
    supply: np.ndarray | None = None
    """Units the rules make available [scenario, sku, warehouse, week of window]: week 1
    holds the stock on hand when the window opens, later weeks the rules' shipments then on
    their way, at their expected arrival; simulated with each demand scenario's seed (from
    the opening state, if any; a window opening on day 0 takes the state's stock on hand
    and on its way as it is). None: the horizon's opening stock in week 1 and nothing
    after."""

    def cost(self, route: int, week: int) -> np.ndarray:
        """Per-unit cost [sku] of a route used in window week ``week`` (1-based)."""
        w = min(max(self.first_week + week - 2, 0), self.base.weeks - 1)
        return self.base.routes[route].unit_cost[:, w]


def peak_data(scenario: Scenario, samples: np.ndarray | None = None,
              state: OpeningState | None = None) -> PeakData:
    """The window's data; ``samples`` [scenario, sku, market, week] replaces the draws;
    the seller starts from the opening ``state`` when one is given."""
    spec = scenario.planning.peak
    if spec is None:
        raise ValueError("the scenario has no planning.peak section")
    base = channel_data(scenario, enforce_promise=False, state=state)
    first_day = day_of(scenario, spec.start)
    first_week = first_day // 7 + 1
    routes = base.routes
    market_index = {m: i for i, m in enumerate(base.markets)}
    deliver = [r for r, route in enumerate(routes) if route.kind == "last_mile"]
    served = sorted({market_index[routes[r].destination] for r in deliver})
    express = [r for r, route in enumerate(routes) if route.kind == "direct"
               and route.mode in spec.expedite_modes and market_index[route.destination] in served]
    supply = None
    if samples is None:
        days = range(first_day, first_day + 7 * spec.weeks)
        seeds = list(range(spec.seed, spec.seed + spec.scenarios))
        daily = sample_units_by_day(scenario, seeds, days)  # [k, m, s, day]
        samples = daily.reshape(*daily.shape[:3], spec.weeks, 7).sum(axis=4).transpose(
            0, 2, 1, 3)
        if first_day > 0:
            supply = rules_supply(scenario, base, seeds, first_day, spec.weeks, state)
        elif state is not None:
            supply = state_supply(state, base, len(seeds), spec.weeks)
    weeks = samples.shape[3]
    window = slice(first_week - 1, first_week - 1 + weeks)
    return PeakData(
        base=base, first_week=first_week, weeks=weeks, demand=samples,
        commit=[r for r, route in enumerate(routes)
                if route.kind == "bulk" and route.mode in spec.commit_modes],
        expedite=[r for r, route in enumerate(routes)
                  if route.kind == "bulk" and route.mode in spec.expedite_modes],
        express=express, deliver=deliver, markets=served,
        leftover_weeks=spec.leftover_holding_weeks,
        parcel_capacity={k: v[window] for k, v in base.parcel_capacity.items()},
        start=scenario.horizon.start_date,
        booking_lead_days=scenario.planning.booking_lead_days, supply=supply)


def rules_supply(scenario: Scenario, base: ChannelData, seeds: list[int], first_day: int,
                 weeks: int, state: OpeningState | None = None) -> np.ndarray:
    """What the scenario's own rules will have for each overseas warehouse in the window,
    per seed [seed, sku, warehouse, week]: the stock on hand when it opens (week 1) and the
    bulk shipments then on their way, in the week of their expected arrival (week 1 if
    overdue). The plan's commitments go on top of the rules (``sim.replenishment``), so the
    model buys only what they lack. Orders the rules place inside the window are left out.
    The runs start from the opening ``state``, if any."""
    rules = scenario.model_copy(update={
        "plan": None, "policies": scenario.policies.model_copy(update={"replan": None})})
    names = list(scenario.warehouses)
    lead = {(r.origin, r.destination, r.mode): r.mean_days for r in base.routes
            if r.kind == "bulk"}
    out = np.zeros((len(seeds), len(base.skus), len(base.warehouses), weeks))
    for i, seed in enumerate(seeds):
        run = simulate(rules, seed, days=first_day, state=state)
        assert run.closing_stock is not None
        for h, name in enumerate(base.warehouses):
            out[i, :, h, 0] = run.closing_stock[names.index(name)]
        shipments = run.shipments
        moving = shipments[(shipments["kind"] == "bulk") & shipments["arrived_day"].isna()]
        for row in moving.itertuples(index=False):
            if str(row.destination) not in base.warehouses:
                continue
            arrival = row.created_day + lead[(str(row.origin), str(row.destination),
                                              str(row.mode))]
            week = max(int((arrival - first_day) // 7), 0)
            if week < weeks:
                out[i, base.skus.index(str(row.sku)),
                    base.warehouses.index(str(row.destination)), week] += row.ordered_units
    return out


def state_supply(state: OpeningState, base: ChannelData, samples: int,
                 weeks: int) -> np.ndarray:
    """A window opening on day 0 [sample, sku, warehouse, week]: the opening stock (the
    state's on hand where it names the warehouse) in week 1, and the state's shipments on
    their way in the week they land."""
    out = np.zeros((samples, len(base.skus), len(base.warehouses), weeks))
    out[:, :, :, 0] = base.opening
    for line in state.in_transit:
        week = line.arrival_day // 7
        if line.warehouse in base.warehouses and week < weeks:
            out[:, base.skus.index(line.sku), base.warehouses.index(line.warehouse),
                week] += line.units
    return out


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
    boxes = [r for r in data.commit if routes[r].container_m3]
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
    depart = 1 - max((routes[r].lead_weeks for r in data.commit), default=0)
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
    return replace(data, demand=data.demand.mean(axis=0, keepdims=True))


def _evaluate(data: PeakData, commit: dict, containers: dict,
              options: SolveOptions) -> float:
    """Expected cost of a fixed stage-one decision over the data's scenarios."""
    model = build_peak_model(data).model
    for key, var in model.commit.items():
        var.fix(commit[key])
    for key, var in model.containers.items():
        var.fix(containers[key])
    return Solver(options).solve(model).objective


def solve_peak(data: PeakData, options: SolveOptions | None = None) -> Outcome:
    options = options or DEFAULT_OPTIONS
    built, report, _ = solve_or_explain(lambda elastic: build_peak_model(data), options)
    model = built.model
    recourse = report.objective
    ev_model = build_peak_model(_mean_scenario(data)).model
    Solver(options).solve(ev_model)
    ev_commit = {key: var.value or 0.0 for key, var in ev_model.commit.items()}
    ev_boxes = {key: round(var.value or 0.0) for key, var in ev_model.containers.items()}
    eev = _evaluate(data, ev_commit, ev_boxes, options)
    wait_and_see = Solver(options).solve(
        build_peak_model(data, anticipative=True).model).objective
    base, routes = data.base, data.base.routes
    commits = [(base.skus[s], routes[r], var.value or 0.0)
               for (s, r, _), var in model.commit.items() if (var.value or 0.0) > 1e-6]
    depart = data.first_week - max((routes[r].lead_weeks for r in data.commit), default=0)
    shipments = [ShipmentLine(week=max(depart, 1), sku=sku, origin=route.origin,
                              destination=route.destination, mode=route.mode,
                              units=round(units, 3)) for sku, route, units in commits]
    summary = {"expected_cost_rp_cny": recourse, "ev_plan_expected_cost_eev_cny": eev,
               "wait_and_see_cost_ws_cny": wait_and_see, "vss_cny": eev - recourse,
               "evpi_cny": recourse - wait_and_see,
               "committed_units": float(sum(u for *_, u in commits)),
               "expected_lost_units": float(np.mean([sum(
                   (model.lost[s, mk, t, k].value or 0.0) for s in range(len(base.skus))
                   for mk in data.markets for t in range(1, data.weeks + 1))
                   for k in range(data.demand.shape[0])])),
               "scenarios": float(data.demand.shape[0])}
    plan = Plan(kind="peak", takes_over=[], scenario=base.scenario,
                scenario_hash=base.scenario_hash, weeks=base.weeks, objective_cny=recourse,
                costs_cny=summary,
                shipments=shipments,
                containers={f"{routes[r].name}": float(round(var.value or 0.0))
                            for (r, _), var in model.containers.items()},
                solver={"status": report.status, "gap": report.gap})
    commit_table = pd.DataFrame([(sku, route.name, units)
                                 for sku, route, units in commits],
                                columns=["sku", "route", "units"])
    lines = pd.DataFrame([(line.week, line.sku, line.origin, line.destination, line.mode,
                           line.units, route.mean_days)
                          for line, (_, route, _) in zip(shipments, commits, strict=True)],
                         columns=["week", "sku", "origin", "destination", "mode", "units",
                                  "mean_days"])
    boxes = {(routes[r].origin, routes[r].destination, routes[r].mode, max(depart, 1)):
             var.value or 0.0 for (r, _), var in model.containers.items()}
    return Outcome(plan, summary, {
        "commitments": commit_table,
        "value": pd.DataFrame({"measure": list(summary), "value": list(summary.values())}),
        "bookings": booking_list(lines, boxes, data.start, data.booking_lead_days)}, report)


def optimize_peak(scenario: Scenario, options: SolveOptions | None = None,
                  state: OpeningState | None = None) -> Outcome:
    """The two-stage plan for the scenario's ``planning.peak`` window, from the opening
    ``state`` when one is given."""
    return solve_peak(peak_data(scenario, state=state), options)
