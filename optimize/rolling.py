"""Rolling-horizon channel and replenishment planning: model predictive control.

Every review (weekly by default) the simulation hands over its state: stock on hand, bulk
shipments on their way, backlog and the demand seen so far. The planner forecasts the next
J weeks, re-solves one window of the channel MILP (optimize/channels) and returns a plan;
the simulation executes its first period and asks again at the next review, so a demand
shock the scenario did not foresee is answered within a review or two.

Indices as in optimize/channels (s SKU, m market, h overseas warehouse, k mode, r route:
direct d, bulk b, last mile l) and j = 1..J, the weeks of the window: calendar week
t + j - 1 when the window opens in week t.

    min  sum_srj c_srj flow_srj + sum_bj F_bj containers_bj + sum_shj h_sh inv_shj
         + sum_smj p_sm lost_smj + sum_sh q_sh short_sh

    demand_met[s,m,j]:    sum_d flow_sdj + sum_l flow_slj + lost_smj = D_smj
    balance[s,h,j]:       inv_shj = inv_sh,j-1 + A_shj + sum_b flow_sb,j-L_b - sum_l flow_slj
                          (inv_sh0 = I_sh)
    terminal[s,h]:        inv_shJ + short_sh >= T_sh
    parcel_capacity[k,j]:   sum_sd(k) flow_sdj <= U_kj                (units)
    bulk_capacity[k,j]:     sum_sb(k) v_s flow_sbj <= V_kj            (m3 per week)
    container_fill[b,j]:    sum_s v_s flow_sbj <= C_b containers_bj   (whole containers)
    warehouse_space[h,j]:   sum_s v_s inv_shj <= Q_hj
    origin_supply[s,o]:     sum_{d,b leaving o} flow_s,r,1 <= O_so     (on the shelves now)
    safety[s,h,j]:          inv_shj + below_shj >= SS_sh  for j > L_h  (as in channels)

Everything that moves with the window is a mutable parameter of one model built once:
D the forecast, I the stock on hand, A the pipeline's arrivals, T the terminal targets,
c and F the route and container costs of the window's calendar weeks (surcharges), U and V
the capacities, Q the space. A re-solve changes their values and HiGHS takes the changes
without a rebuild; it starts from the last plan, which HiGHS repairs into a first incumbent
(on a simulated baseline year that cut HiGHS's time 2.5-fold). Weeks past the horizon take
the horizon's last week's figures.

- Forecast D: the scenario's expected demand for the window's weeks, scaled per market by
  the ratio of observed to expected units over the last ``forecast_weeks`` complete weeks
  (clipped to [1/4, 4]); the backlog is added to week 1, and week 1 counts only its days
  left when a review falls mid-week.
- Pipeline A: a bulk line that left in week c by a route of lead L arrives in window week
  max(1, c + L - t + 1), the overdue in week 1; lines due after the window lower the
  warehouse's terminal target instead.
- Terminal condition: the window must not end with its warehouses run dry, as it would
  unchecked (nothing after week J is valued). Each warehouse should close with the forecast
  demand it serves over the L_h + 1 weeks after the window (L_h its longest bulk lead: the
  time until a shipment decided at the end could land, plus the review week). The target is
  soft: a unit short costs ``terminal_weight`` (default one half) of a lost sale. After the
  window the unit is as likely to be rescued by a faster mode as to be lost, so half; and
  below a whole lost sale, closing stock never outranks demand inside the window.
- Contracts: fixed fees and minimum volumes are yearly commitments the static plan decides;
  in an 8-week window their binaries would charge the whole fee to one window or force a
  year's minimum into it. The rolling model leaves them out and prices contracted modes at
  their unit rates. Integer containers stay.
- Lost sales are always allowed (the simulation cannot refuse demand), and space already
  taken by stock on hand or on its way is not held against the plan (Q_hj is the larger of
  the space and that stock's volume), so every state has a plan.
- Origin stock: what the first week sends (parcels and bulk) must be on the origin's
  shelves now (O); later weeks take it as available, as the static model does, since the
  origin's own purchasing refills it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimize.channel_data import ChannelData, channel_data
from optimize.channels import Backend, Built, flows_table, plan_from, route_costs, term_costs
from optimize.core import ChannelModel, CoreOptions, build_core, origin_names, route_sets
from optimize.core_arrays import ArrayChannelModel, build_core_arrays
from optimize.matrix import ArraySolver
from optimize.solve import SolveOptions, Solver, SolveReport
from sim.demand import expected_units_by_day
from sim.plan import Plan
from sim.policy import OperationState
from sim.scenario import Replan, Scenario

RATIO_BOUNDS = (0.25, 4.0)
"""Observed/expected demand ratios are clipped to this range: a quiet or wild week must
not zero or explode the forecast."""

ROLLING_TIME_LIMIT_S = 30.0
"""Seconds per re-solve, a safeguard only: an 8-week baseline window solves in well under a
tenth of a second. A solve stopped by the clock depends on the machine's speed, so the run
is then no longer reproducible; ``RollingStats.stopped`` counts such solves."""


@dataclass
class RollingStats:
    """Where re-planning time went, summed over the solves (seconds)."""

    solves: int = 0
    update_s: float = 0.0
    """Python: setting the parameters; without persistence, building the model too."""
    handoff_s: float = 0.0
    """Between Pyomo and HiGHS: the model's hand-off after a build, the parameter changes
    and the solution on a re-solve."""
    highs_s: float = 0.0
    wall_s: float = 0.0
    """Whole ``replan`` calls: forecast, parameters, solve and plan."""
    stopped: int = 0
    """Solves that ended short of the MIP gap (time limit): their plans depend on timing."""

    @property
    def mean_wall_s(self) -> float:
        return self.wall_s / self.solves if self.solves else 0.0

    def add(self, update_s: float, report: SolveReport, wall_s: float) -> None:
        self.solves += 1
        self.update_s += update_s
        self.handoff_s += report.handoff_s + report.solve_s - report.highs_s
        self.highs_s += report.highs_s
        self.wall_s += wall_s
        self.stopped += report.time_limited


@dataclass
class Window:
    """One review's figures over the window's weeks (axis -1: j = 1..J at index j - 1)."""

    first_week: int
    demand: np.ndarray     # units [sku, market, week]
    opening: np.ndarray    # units [sku, warehouse]
    arrivals: np.ndarray   # units [sku, warehouse, week]
    target: np.ndarray     # units [sku, warehouse]
    space: np.ndarray      # m3 [warehouse, week]
    ratio: np.ndarray      # observed / expected demand [market]
    origin_stock: np.ndarray  # units on hand [sku, origin]


# ----------------------------------------------------------------------------- model
def build_rolling_model(data: ChannelData, weeks: int, terminal_penalty: np.ndarray,
                        backend: Backend = "arrays") -> Built:
    """The window MILP of the module docstring over ``weeks`` weeks, every moving figure
    zero until ``RollingPlanner`` sets it: mutable parameters on the Pyomo path
    (``optimize.core``), row bounds and column costs on the array path
    (``optimize.core_arrays``); ``terminal_penalty`` is q in CNY per unit [sku, warehouse].
    Pure: the same arguments give the same model."""
    options = CoreOptions(weeks=weeks, mutable=True, origin_supply=True,
                          terminal_penalty=terminal_penalty, name="rolling")
    if backend == "pyomo":
        return build_core(data, options)
    return build_core_arrays(data, options)


def _assign(param: pyo.Param, values: np.ndarray) -> None:
    """Set an indexed mutable parameter from an array in its index order. The values are
    plain floats for a parameter without a domain, so Pyomo's per-value checks (4/5 of the
    time of setting them) are skipped."""
    param.store_values(dict(zip(param.keys(), values.ravel().tolist(), strict=True)),
                       check=False)


def _carry_over(old: pyo.ConcreteModel, new: pyo.ConcreteModel) -> None:
    """Give a rebuilt model the last plan as its starting point, as a persistent model keeps
    it, so both hand HiGHS the same MIP start and find the same plans."""
    for name in ("flow", "inv", "lost", "containers", "short"):
        target = getattr(new, name)
        for index, var in getattr(old, name).items():
            target[index].set_value(var.value, skip_validation=True)


_STRUCTURE_CHECKS = ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                     "check_for_new_or_removed_params", "check_for_new_objective",
                     "update_constraints", "update_vars", "update_named_expressions",
                     "update_objective")


class WindowSolver(Solver):
    """The persistent solver of a window model, which keeps its structure between solves:
    once HiGHS holds the model it looks only for changed parameters, as APPSI's default scan
    of every constraint, variable and expression for structural changes would find none.
    """

    def solve(self, model: pyo.ConcreteModel, build_s: float = 0.0) -> SolveReport:
        if self._highs is not None and self._model is model:
            for check in _STRUCTURE_CHECKS:
                setattr(self._highs.update_config, check, False)
        return super().solve(model, build_s)


# ----------------------------------------------------------------------------- planner
class RollingPlanner:
    """A ``sim.policy.ReplanPolicy``: re-plans routing and replenishment at every review.

    ``settings`` (review period, window, forecast weeks) default to the scenario's
    ``policies.replan``, else the schema's defaults. ``persistent`` keeps one model and one
    HiGHS instance across reviews and only changes parameter values; ``persistent=False``
    builds and hands over a new model every time (the same plans, for measuring what
    persistence saves). ``terminal_weight`` prices a unit short of the terminal target as
    that share of a lost sale (0: no terminal condition). ``options`` default to a 2 % gap
    within ``ROLLING_TIME_LIMIT_S``.
    ``backend`` "arrays" (the default) holds the window as arrays in one highspy instance;
    "pyomo" as a Pyomo model behind APPSI (the reference; both give the same plans).
    ``stats`` says where the time went; ``built`` holds the last solved window.
    """

    def __init__(self, scenario: Scenario, settings: Replan | None = None,
                 options: SolveOptions | None = None, persistent: bool = True,
                 terminal_weight: float = 0.5, backend: Backend = "arrays") -> None:
        if terminal_weight < 0:
            raise ValueError('"terminal_weight" must be >= 0.')
        settings = settings or scenario.policies.replan or Replan()
        self.review_days = settings.review_days
        self.window_weeks = settings.window_weeks
        self.forecast_weeks = settings.forecast_weeks
        self.persistent = persistent
        self.backend: Backend = backend
        # 2 %: a weekly re-plan on a forecast, re-solved every review (kept when the
        # SolveOptions default tightened to 0.1 %).
        self.options = options or SolveOptions(time_limit_s=ROLLING_TIME_LIMIT_S,
                                               mip_gap=0.02)
        self.data = data = channel_data(scenario)
        self.sets = sets = route_sets(data)
        self.stats = RollingStats()
        routes, H = data.routes, range(len(data.warehouses))
        self.cover_weeks = np.array([max((routes[r].lead_weeks for r in sets.arriving[h]),
                                         default=-1) + 1 for h in H])
        """Weeks of demand each warehouse should close the window with: L_h + 1."""
        serves = np.zeros((len(data.warehouses), len(data.markets)))
        for h in H:
            for r in sets.leaving[h]:
                serves[h, data.markets.index(routes[r].destination)] = 1.0
        self.serves = serves / np.maximum(serves.sum(axis=0), 1.0)
        """Share of each market's demand [warehouse, market] a warehouse stocks for."""
        lost = np.where(serves[None, :, :] > 0, data.lost_penalty[:, None, :], 0.0)
        self.terminal_penalty = terminal_weight * lost.max(axis=2)
        """q in CNY per unit short of the terminal target [sku, warehouse]."""
        self._space = np.array([data.warehouse_m3.get(name, np.inf)
                                for name in data.warehouses])
        self.built: Built | None = self._build() if persistent else None
        """The window model: built once, or (not persistent) at every review."""
        self._solver = WindowSolver(self.options)
        self._arrays: ArraySolver | None = None

    # --------------------------------------------------------------------- forecast
    def pipeline_lead(self, warehouse: str, mode: str) -> int:
        """Weeks from departure to availability of a bulk line into ``warehouse`` by
        ``mode``: its routes' mean lead, or the mean of all the warehouse's bulk routes for
        a mode with none (0 for a warehouse no bulk route reaches)."""
        routes = [self.data.routes[r] for r in self.sets.bulk
                  if self.data.routes[r].destination == warehouse]
        same = [route.lead_weeks for route in routes if route.mode == mode]
        weeks = same or [route.lead_weeks for route in routes]
        return round(float(np.mean(weeks))) if weeks else 0

    def _calendar(self, first_week: int, weeks: int) -> np.ndarray:
        """Horizon week indices (0-based) of ``weeks`` weeks from ``first_week`` on; weeks
        past the horizon reuse its last."""
        return np.minimum(np.arange(first_week, first_week + weeks), self.data.weeks) - 1

    def demand_ratio(self, state: OperationState) -> np.ndarray:
        """Observed / expected units per market over the last ``forecast_weeks`` complete
        weeks (1 before any week is complete), clipped to ``RATIO_BOUNDS``."""
        complete = state.day // 7
        if complete == 0:
            return np.ones(len(self.data.markets))
        first = max(0, complete - self.forecast_weeks)
        markets = [state.markets.index(name) for name in self.data.markets]
        observed = state.demand[markets, :, 7 * first: 7 * complete].sum(axis=(1, 2))
        expected = self.data.demand[:, :, self._calendar(first + 1, complete - first)].sum(
            axis=(0, 2))
        ratio = np.divide(observed, expected, out=np.ones_like(expected), where=expected > 0)
        return np.clip(ratio, *RATIO_BOUNDS)

    def forecast(self, state: OperationState, weeks: int, ratio: np.ndarray | None = None
                 ) -> np.ndarray:
        """Units [sku, market, week] for ``weeks`` weeks from ``state.week`` on: expected
        demand times the observed ratio; the first week counts only its days left and
        carries the backlog."""
        ratio = self.demand_ratio(state) if ratio is None else ratio
        demand = self.data.demand[:, :, self._calendar(state.week, weeks)] * ratio[None, :, None]
        demand[:, :, 0] *= np.clip((7 * state.week - state.day) / 7.0, 0.0, 1.0)
        skus = [state.skus.index(name) for name in self.data.skus]
        markets = [state.markets.index(name) for name in self.data.markets]
        demand[:, :, 0] += state.backlog[np.ix_(markets, skus)].T
        return demand

    def window(self, state: OperationState) -> Window:
        """The figures of the window that opens at ``state``."""
        data, J = self.data, self.window_weeks
        ratio = self.demand_ratio(state)
        demand = self.forecast(state, J + int(self.cover_weeks.max()), ratio)
        skus = [state.skus.index(name) for name in data.skus]
        homes = [state.warehouses.index(name) for name in data.warehouses]
        opening = state.on_hand[np.ix_(homes, skus)].T.astype(float)
        # Transit lines name the state's indices; map them to the model's (-1: not modelled).
        sku_of = np.full(len(state.skus), -1)
        sku_of[skus] = np.arange(len(skus))
        home_of = np.full(len(state.warehouses), -1)
        home_of[homes] = np.arange(len(homes))
        lead = np.array([[self.pipeline_lead(w, k) for k in state.modes]
                         for w in state.warehouses], dtype=int)
        created_week = np.asarray(state.transit_created_day, dtype=float) // 7 + 1
        due = np.maximum(1, created_week + lead[state.transit_destination, state.transit_mode]
                         - state.week + 1).astype(int)
        s, h = sku_of[state.transit_sku], home_of[state.transit_destination]
        kept = (s >= 0) & (h >= 0)
        # Week J + 1 collects every line due after the window.
        arrivals = np.zeros((len(data.skus), len(data.warehouses), J + 1))
        np.add.at(arrivals, (s[kept], h[kept], np.minimum(due[kept], J + 1) - 1),
                  np.asarray(state.transit_units, dtype=float)[kept])
        week = np.arange(demand.shape[2])
        cover = (week[None, :] >= J) & (week[None, :] < J + self.cover_weeks[:, None])
        target = np.einsum("smw,hm,hw->sh", demand, self.serves, cover.astype(float))
        committed = opening[:, :, None] + np.cumsum(arrivals[:, :, :J], axis=2)
        space = np.maximum(self._space[:, None], np.einsum("s,shj->hj", data.volume, committed))
        if data.safety_stock is not None:
            target = target + data.safety_stock
        origins = [state.warehouses.index(name) for name in origin_names(data, self.sets)]
        origin_stock = state.on_hand[np.ix_(origins, skus)].T.astype(float)
        return Window(state.week, demand[:, :, :J], opening, arrivals[:, :, :J],
                      np.maximum(target - arrivals[:, :, J], 0.0), space, ratio, origin_stock)

    # --------------------------------------------------------------------- solve
    def _build(self) -> Built:
        return build_rolling_model(self.data, self.window_weeks, self.terminal_penalty,
                                   self.backend)

    def _figures(self, window: Window) -> dict[str, np.ndarray]:
        """Every moving figure of the window, shaped as the model's mutable parameters."""
        data, sets, routes = self.data, self.sets, self.data.routes
        J = self.window_weeks
        weeks = self._calendar(window.first_week, J)
        return {
            "demand": window.demand, "opening": window.opening, "arrivals": window.arrivals,
            "target": window.target,
            "unit_cost": np.stack([routes[r].unit_cost[:, weeks] for r in sets.used], axis=1),
            "container_cost": np.array([routes[r].container_costs()[weeks]
                                        for r in sets.fcl]).reshape(len(sets.fcl), J),
            "parcel_cap": np.array([data.parcel_capacity[k][weeks]
                                    for k in sets.parcel_modes]).reshape(-1, J),
            "bulk_cap": np.array([data.bulk_capacity_m3[k][weeks]
                                  for k in sets.bulk_modes]).reshape(-1, J),
            "space": window.space, "origin_stock": window.origin_stock}

    def _load(self, built: Built, figures: dict[str, np.ndarray], carried: Built | None
              ) -> None:
        """Set the window's figures on the model; a rebuilt model starts from the plan
        ``carried`` as a persistent one would."""
        if isinstance(built, ArrayChannelModel):
            if self._arrays is None or self._arrays.model is not built.matrix:
                previous = self._arrays.solution if self._arrays is not None else None
                self._arrays = ArraySolver(built.matrix, self.options)
                self._arrays.solution = previous
            built.set_window(self._arrays, **figures)
            return
        assert isinstance(built, ChannelModel)
        if carried is not None:
            assert isinstance(carried, ChannelModel)
            _carry_over(carried.model, built.model)
        for name, values in figures.items():
            _assign(getattr(built.model, name), values)

    def _solve(self, built: Built) -> SolveReport:
        """Solve the loaded window on its own path and keep the plan on ``built``."""
        if isinstance(built, ArrayChannelModel):
            assert self._arrays is not None
            report = self._arrays.solve()
            assert self._arrays.solution is not None
            built.load(self._arrays.solution)
            return report
        assert isinstance(built, ChannelModel)
        return self._solver.solve(built.model)

    def replan(self, state: OperationState) -> Plan:
        """A plan for the window's weeks from ``state.week`` on (absolute week numbers)."""
        started = time.perf_counter()
        window = self.window(state)
        building = time.perf_counter()
        built, carried = self.built, None
        if built is None or not self.persistent:
            carried, built = built, self._build()
            self.built = built
        figures = self._figures(window)
        self._load(built, figures, carried)
        update_s = time.perf_counter() - building
        report = self._solve(built)
        flows = flows_table(built, window.first_week)
        terms = term_costs(self.data, built.solution(), figures["container_cost"])
        costs = route_costs(flows) | {
            "containers": terms["containers"], "holding": terms["holding"],
            "lost_sales_penalty": terms["lost_sales_penalty"],
            "terminal_shortfall": terms["terminal_shortfall"],
            "safety_stock_penalty": terms["safety_stock_penalty"]}
        costs["total"] = sum(costs.values())
        solver = {"status": report.status, "gap": report.gap, "update_s": update_s,
                  "handoff_s": report.handoff_s, "highs_s": report.highs_s}
        plan = plan_from(built, flows, "rolling", report.objective, costs, solver,
                         window.first_week, predict=False)
        ratios = {f"demand_ratio_{name}": float(r)
                  for name, r in zip(self.data.markets, window.ratio, strict=True)}
        plan = plan.model_copy(update={"metrics": plan.metrics | ratios,
                                       "weeks": self.window_weeks})
        self.stats.add(update_s, report, time.perf_counter() - started)
        return plan


def expected_state(scenario: Scenario, day: int) -> OperationState:
    """The state a run would hand over at ``day`` had demand come exactly as expected, with
    the opening stock still on hand overseas, the horizon's demand at origin, nothing on its
    way and no backlog: a stand-in for the simulation when measuring or testing the planner.
    """
    data = channel_data(scenario)
    empty = np.zeros(0, dtype=int)
    warehouses = list(scenario.warehouses)
    on_hand = np.zeros((len(warehouses), len(data.skus)))
    for h, name in enumerate(data.warehouses):
        on_hand[warehouses.index(name)] = data.opening[:, h]
    for name, spec in scenario.warehouses.items():
        if spec.kind == "origin":
            on_hand[warehouses.index(name)] = data.demand.sum(axis=(1, 2))
    return OperationState(
        day=day, week=day // 7 + 1, skus=data.skus, markets=data.markets,
        warehouses=warehouses, modes=list(scenario.modes), on_hand=on_hand,
        backlog=np.zeros((len(data.markets), len(data.skus))), transit_destination=empty,
        transit_mode=empty, transit_sku=empty, transit_units=np.zeros(0),
        transit_created_day=np.zeros(0), demand=expected_units_by_day(scenario)[:, :, :day])
