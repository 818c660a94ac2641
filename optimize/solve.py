"""Solve a Pyomo model with HiGHS and say what went wrong in words a planner understands.

Every optimiser builds a ``pyo.ConcreteModel``, returned in a typed ``BuiltModel`` with its
index maps, and hands the model here. ``Solver`` wraps one persistent APPSI HiGHS instance,
so a model that is re-solved with changed mutable parameters (an epsilon bound, a budget,
the state of a rolling horizon) is not rebuilt or re-sent. It records where the time went:
building in Python, handing the model to HiGHS, and HiGHS itself.

When a model is infeasible, the optimiser rebuilds it *elastic*: every constraint family
that can be short (demand, capacity, budget) gets a slack variable with a large penalty,
registered with ``BuiltModel.add_elastic``. Solving that model shows which families, lanes
and weeks needed slack and by how much, e.g. "US_WH sea_fcl week 47: capacity short by
1,240 m3".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import highspy
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers.highs import Highs

ELASTIC_PENALTY = 1e7
"""Cost per unit of slack: large against any business cost, small enough for HiGHS."""


class SolveError(Exception):
    """The optimiser found no usable plan; the message says why in business terms."""


class Infeasible(SolveError):
    def __init__(self, shortfalls: list[str]) -> None:
        self.shortfalls = shortfalls
        lines = shortfalls[:8] + ([f"... and {len(shortfalls) - 8} more"]
                                  if len(shortfalls) > 8 else [])
        super().__init__("no feasible plan: " + "; ".join(lines))


class Unbounded(SolveError):
    pass


class NoSolution(SolveError):
    """The time limit ran out before HiGHS found any feasible plan."""


OPTIMAL_GAP = 1e-4
"""A solve is called "optimal" only when its relative gap |objective - bound| / max(|objective|,
1) is at most this (HiGHS's own default ``mip_rel_gap``), whatever gap it was asked to stop at;
otherwise its status says how far from the optimum it may be."""


@dataclass(frozen=True)
class SolveOptions:
    """HiGHS stops a MILP once its incumbent is proven within ``mip_gap`` (relative) of the
    optimum, 0.1 % by default, or at the time limit, which keeps a hard instance from
    stalling a sweep. The gap reached is reported, and the status says "optimal" only
    within ``OPTIMAL_GAP``: "within 0.08 % of optimal" otherwise, "time limit: within
    1.63 % of optimal" when the clock stopped it. Tests and sweeps that solve many MILPs
    may pass their own options."""

    time_limit_s: float | None = 300.0
    mip_gap: float = 0.001
    threads: int | None = None


@dataclass
class SolveReport:
    """The outcome of one solve and where its time went (seconds).

    ``condition`` is HiGHS's termination ("optimal" there means "within the gap asked
    for"); ``status`` is what the plan is, in words (see ``solve_status``).
    """

    condition: str
    objective: float
    bound: float | None
    build_s: float = 0.0
    handoff_s: float = 0.0
    highs_s: float = 0.0
    solve_s: float = 0.0

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.objective == 0:
            return None
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)

    @property
    def status(self) -> str:
        return solve_status(self.condition, self.objective, self.bound)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    @property
    def time_limited(self) -> bool:
        """The clock, not the gap, stopped the solve (the plan depends on machine speed)."""
        return self.condition == TerminationCondition.maxTimeLimit.name


def solve_status(condition: str, objective: float, bound: float | None) -> str:
    """"optimal" if the relative gap |objective - bound| / max(|objective|, 1) is within
    ``OPTIMAL_GAP`` (an LP's bound is its objective), else "within X % of optimal",
    prefixed "time limit: " (or HiGHS's condition) when the solve did not end on its gap."""
    if bound is None:
        reach = "no bound on the optimum"
    else:
        gap = abs(objective - bound) / max(abs(objective), 1.0)
        if gap <= OPTIMAL_GAP:
            return "optimal"
        reach = f"within {100.0 * gap:.3g} % of optimal"
    if condition == TerminationCondition.optimal.name:
        return reach
    if condition == TerminationCondition.maxTimeLimit.name:
        return f"time limit: {reach}"
    return f"{condition}: {reach}"


@dataclass
class Elastic:
    """A family of slack variables and how to say, in words, what each one means."""

    variables: pyo.Var
    describe: Callable[[Any, float], str]
    weight: float = 1.0


@dataclass(kw_only=True)
class BuiltModel:
    """What an optimiser's build returns: the Pyomo model and what the optimiser needs to
    read it back, typed, beside it rather than bolted onto it. Each optimiser extends it
    with its own index maps (``optimize.core.ChannelModel``, ``optimize.ads.AdModel``,
    ``optimize.peak.PeakModel``); ``elastic`` holds the slack families of an elastic build.
    """

    model: pyo.ConcreteModel
    elastic: dict[str, Elastic] = field(default_factory=dict)

    def add_elastic(self, family: str, variables: pyo.Var,
                    describe: Callable[[Any, float], str], weight: float = 1.0) -> None:
        """Register slack variables (already in the model) with a describer of one slack.

        A family with a higher ``weight`` is used only when no cheaper explanation exists,
        e.g. "no route can serve this demand" only when no capacity shortfall would do.
        """
        self.elastic[family] = Elastic(variables, describe, weight)

    def elastic_penalty(self) -> Any:
        """The penalty term an elastic model adds to its (minimised) objective."""
        return ELASTIC_PENALTY * sum(e.weight * pyo.quicksum(e.variables.values())
                                     for e in self.elastic.values())

    def shortfalls(self, tolerance: float = 1e-6) -> list[str]:
        """Describe every slack the solved elastic model had to use, largest first."""
        found = []
        for elastic in self.elastic.values():
            for index, var in elastic.variables.items():
                amount = var.value or 0.0
                if amount > tolerance:
                    found.append((amount, elastic.describe(index, amount)))
        return [text for _, text in sorted(found, key=lambda pair: -pair[0])]


Built = TypeVar("Built", bound=BuiltModel)


@dataclass
class Solver:
    """One persistent HiGHS instance for one model."""

    options: SolveOptions = field(default_factory=SolveOptions)
    _highs: Highs | None = None
    _model: pyo.ConcreteModel | None = None

    def solve(self, model: pyo.ConcreteModel, build_s: float = 0.0) -> SolveReport:
        """Solve (or re-solve after parameter changes) and load the solution."""
        handoff = 0.0
        if self._highs is None or self._model is not model:
            self._highs = _new_highs(self.options)
            started = time.perf_counter()
            self._highs.set_instance(model)
            handoff = time.perf_counter() - started
            self._model = model
        started = time.perf_counter()
        highs_before = float(self._highs._solver_model.getRunTime()) if handoff == 0.0 else 0.0
        results = self._highs.solve(model)
        if results.termination_condition == TerminationCondition.unknown:
            results = self._solve_cold(model)
        solve_s = time.perf_counter() - started
        # HiGHS's run-time clock accumulates over the runs of one persistent instance.
        highs_s = float(self._highs._solver_model.getRunTime()) - highs_before
        condition = results.termination_condition
        if condition == TerminationCondition.infeasible:
            raise Infeasible(["the constraints contradict each other"])
        if condition in (TerminationCondition.unbounded,
                         TerminationCondition.infeasibleOrUnbounded):
            raise Unbounded("the plan is unbounded: some cost or limit is missing")
        if results.best_feasible_objective is None:
            raise NoSolution(f"HiGHS stopped ({condition.name}) without a feasible plan; "
                             "raise the time limit")
        results.solution_loader.load_vars()
        return SolveReport(condition.name, float(results.best_feasible_objective),
                           results.best_objective_bound, build_s, handoff, highs_s,
                           solve_s)

    def _instance(self) -> Highs:
        """The HiGHS instance holding the model (after a first ``solve``)."""
        if self._highs is None:
            raise RuntimeError("the solver has no model yet: call solve first")
        return self._highs

    def _solve_cold(self, model: pyo.ConcreteModel) -> Any:
        """Solve again from no basis. A warm start from a point can give HiGHS a basis so
        badly conditioned that dual simplex gives up (seen on the ads model's LP copy)."""
        highs = self._instance()
        highs._solver_model.clearSolver()
        highs.config.warmstart = False
        try:
            return highs.solve(model)
        finally:
            highs.config.warmstart = True

    def duals(self, constraints: Iterable[Any]) -> dict[Any, float]:
        """Dual values of the given constraints (LPs only)."""
        return dict(self._instance().get_duals(list(constraints)))


def _new_highs(options: SolveOptions) -> Highs:
    highs = Highs()
    highs.config.stream_solver = False
    highs.config.load_solution = False  # loaded by Solver.solve once a plan is known to exist
    if options.time_limit_s is not None:
        highs.config.time_limit = options.time_limit_s
    highs.config.mip_gap = options.mip_gap
    # A re-solve starts from the last plan: a nearby frontier point or the next week of a
    # rolling horizon is then found in a fraction of the first solve's time.
    highs.config.warmstart = True
    if options.threads is not None:
        # HiGHS runs one thread pool per process; a different size needs a fresh one.
        highspy.Highs.resetGlobalScheduler(True)
        highs.highs_options = {"threads": options.threads}
    return highs


def solve_or_explain(build: Callable[[bool], Built], options: SolveOptions
                     ) -> tuple[Built, SolveReport, Solver]:
    """Build and solve; if infeasible, solve the elastic variant and explain the shortfall.

    ``build(elastic)`` returns the built model; with ``elastic=True`` it must register the
    slack variables of its families (``BuiltModel.add_elastic``) and add
    ``BuiltModel.elastic_penalty`` to its objective.
    """
    started = time.perf_counter()
    built = build(False)
    build_s = time.perf_counter() - started
    solver = Solver(options)
    try:
        return built, solver.solve(built.model, build_s), solver
    except Infeasible:
        elastic = build(True)
        Solver(options).solve(elastic.model)
        raise Infeasible(elastic.shortfalls()) from None
