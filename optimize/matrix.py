"""Linear and mixed-integer models built from numpy arrays and handed to HiGHS in one call.

Pyomo builds a model one Python object per variable and per term, and its hand-off to HiGHS
walks them again: at a thousand SKUs that took two minutes for a model HiGHS itself reads in
under a second. Here a model is blocks of columns and rows numbered by numpy index arrays,
and its matrix is three arrays of (row, column, coefficient), the way linopy and
PyOptInterface build theirs; ``highs()`` assembles the column-wise matrix once and calls
``passModel``. Figures that move between solves (a rolling window's demand, costs and
capacities) are changed in bulk on the live HiGHS instance (``ArraySolver``), so a re-solve
neither rebuilds nor re-sends the model.

The Pyomo formulations stay as the readable reference; tests build both and compare the
matrices, after mapping columns and rows by name, and the optima.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from optimize.solve import (
    Infeasible,
    NoSolution,
    SolveError,
    SolveOptions,
    SolveReport,
    Unbounded,
)

INF = math.inf


@dataclass(frozen=True)
class Block:
    """A family of columns (or rows): its name and the ids of its members, shaped like its
    index (``ids[s, m, w]`` is the column of member (s, m, w))."""

    name: str
    ids: np.ndarray

    @property
    def size(self) -> int:
        return int(self.ids.size)


@dataclass
class ArrayElastic:
    """Slack columns that explain an infeasible model, and how to say what one means: the
    describer gets the member's index (a tuple of positions in the block) and the amount."""

    block: Block
    describe: Callable[[tuple[int, ...], float], str]


@dataclass
class ArrayModel:
    """Columns, rows and coefficients, appended block by block.

    Bounds and costs broadcast to a block's shape; a coefficient of exactly zero is dropped,
    as Pyomo drops it, so both builds hand HiGHS the same matrix.
    """

    name: str
    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    elastic: dict[str, ArrayElastic] = field(default_factory=dict)
    _col_lower: list[np.ndarray] = field(default_factory=list)
    _col_upper: list[np.ndarray] = field(default_factory=list)
    _col_cost: list[np.ndarray] = field(default_factory=list)
    _col_integer: list[np.ndarray] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)
    _entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0

    def add_columns(self, name: str, shape: tuple[int, ...], *, lower: Any = 0.0,
                    upper: Any = INF, cost: Any = 0.0, integer: bool = False) -> np.ndarray:
        """A block of columns; returns their ids shaped ``shape``."""
        ids = self.n_cols + np.arange(math.prod(shape), dtype=np.int64).reshape(shape)
        self.n_cols += ids.size
        self.columns[name] = Block(name, ids)
        self._col_lower.append(_filled(lower, shape))
        self._col_upper.append(_filled(upper, shape))
        self._col_cost.append(_filled(cost, shape))
        self._col_integer.append(np.full(ids.size, integer))
        return ids

    def add_rows(self, name: str, shape: tuple[int, ...], *, lower: Any = -INF,
                 upper: Any = INF) -> np.ndarray:
        """A block of rows lower <= (terms) <= upper; returns their ids shaped ``shape``."""
        ids = self.n_rows + np.arange(math.prod(shape), dtype=np.int64).reshape(shape)
        self.n_rows += ids.size
        self.rows[name] = Block(name, ids)
        self._row_lower.append(_filled(lower, shape))
        self._row_upper.append(_filled(upper, shape))
        return ids

    def add_terms(self, rows: Any, cols: Any, coefs: Any = 1.0) -> None:
        """Coefficients ``coefs`` of columns ``cols`` in rows ``rows`` (broadcast together).
        A (row, column) pair given twice adds up, as a sum over it would."""
        r, c, v = np.broadcast_arrays(np.asarray(rows, dtype=np.int64),
                                      np.asarray(cols, dtype=np.int64),
                                      np.asarray(coefs, dtype=float))
        keep = v.ravel() != 0.0
        self._entries.append((r.ravel()[keep], c.ravel()[keep], v.ravel()[keep]))

    def add_elastic(self, family: str, block_name: str,
                    describe: Callable[[tuple[int, ...], float], str]) -> None:
        """Register a block of slack columns (already priced) as an explanation family."""
        self.elastic[family] = ArrayElastic(self.columns[block_name], describe)

    def column_costs(self) -> np.ndarray:
        return np.concatenate(self._col_cost) if self._col_cost else np.zeros(0)

    def lp(self) -> highspy.HighsLp:
        """The model as HiGHS's own LP structure: column-wise matrix, bounds and costs."""
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_ = self.column_costs()
        lp.col_lower_ = _joined(self._col_lower)
        lp.col_upper_ = _joined(self._col_upper)
        lp.row_lower_ = _joined(self._row_lower)
        lp.row_upper_ = _joined(self._row_upper)
        if self._entries:
            rows, cols, values = (np.concatenate(part)
                                  for part in zip(*self._entries, strict=True))
        else:
            rows = cols = np.zeros(0, np.int64)
            values = np.zeros(0)
        rows, cols, values = _column_wise(rows, cols, values, self.n_rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.concatenate(
            ([0], np.cumsum(np.bincount(cols, minlength=self.n_cols)))).astype(np.int32)
        lp.a_matrix_.index_ = rows.astype(np.int32)
        lp.a_matrix_.value_ = values
        if self.is_mip:
            integer = _joined(self._col_integer).astype(bool)
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[flag] for flag in integer.tolist()]
        return lp

    @property
    def is_mip(self) -> bool:
        return any(part.any() for part in self._col_integer)

    def values(self, solution: np.ndarray, name: str) -> np.ndarray:
        """A block's values from a solution vector, shaped like its index."""
        return solution[self.columns[name].ids]

    def shortfalls(self, solution: np.ndarray, tolerance: float = 1e-6) -> list[str]:
        """Describe every slack an elastic model's solution uses, largest first."""
        found = []
        for elastic in self.elastic.values():
            amounts = solution[elastic.block.ids]
            for index in zip(*np.nonzero(amounts > tolerance), strict=True):
                amount = float(amounts[index])
                found.append((amount, elastic.describe(tuple(int(i) for i in index), amount)))
        return [text for _, text in sorted(found, key=lambda pair: -pair[0])]


def _filled(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), shape).ravel()


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _column_wise(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries sorted by column, then row (one sort); duplicate (row, column) pairs added
    up and the zeros their sum leaves dropped."""
    key = cols * max(n_rows, 1) + rows
    order = np.argsort(key, kind="stable")
    key, values = key[order], values[order]
    repeated = key[1:] == key[:-1]
    if repeated.any():
        first = np.flatnonzero(np.concatenate(([True], ~repeated)))
        key, values = key[first], np.add.reduceat(values, first)
        keep = values != 0.0
        key, values = key[keep], values[keep]
    return key % max(n_rows, 1), key // max(n_rows, 1), values


def _flat(ids: np.ndarray, lower: Any, upper: Any) -> tuple[np.ndarray, ...]:
    """Ids and their bounds, flat and contiguous for highspy: a bound with as many values as
    there are ids is taken in their order, any other broadcasts to the ids' shape."""
    ids = np.asarray(ids)

    def fit(bound: Any) -> np.ndarray:
        bound = np.asarray(bound, float)
        if bound.size != ids.size:
            bound = np.broadcast_to(bound, ids.shape)
        return np.ascontiguousarray(bound).ravel()

    return ids.astype(np.int32).ravel(), fit(lower), fit(upper)


_CONDITIONS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "maxTimeLimit",
    highspy.HighsModelStatus.kIterationLimit: "maxIterations",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasibleOrUnbounded",
    highspy.HighsModelStatus.kInterrupt: "interrupted",
    highspy.HighsModelStatus.kSolutionLimit: "maxIterations",
}
"""HiGHS's model status in the words of Pyomo's TerminationCondition, so ``solve_status``
reads both paths' reports alike."""


class ArraySolver:
    """One HiGHS instance holding one array-built model.

    ``solve`` hands the model over on the first call; later calls re-solve after
    ``change_costs`` / ``change_row_bounds``, starting a MILP from the last plan (as APPSI's
    warm start does), so the next window of a rolling horizon is found quickly.
    """

    def __init__(self, model: ArrayModel, options: SolveOptions) -> None:
        self.model = model
        self.options = options
        self.highs: highspy.Highs | None = None
        self.solution: np.ndarray | None = None
        self.handoff_s = 0.0
        self.solves = 0

    def _instance(self) -> highspy.Highs:
        if self.highs is None:
            started = time.perf_counter()
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
            if self.options.time_limit_s is not None:
                highs.setOptionValue("time_limit", float(self.options.time_limit_s))
            highs.setOptionValue("mip_rel_gap", float(self.options.mip_gap))
            if self.options.threads is not None:
                highspy.Highs.resetGlobalScheduler(True)
                highs.setOptionValue("threads", int(self.options.threads))
            highs.passModel(self.model.lp())
            self.highs = highs
            self.handoff_s = time.perf_counter() - started
        return self.highs

    def change_costs(self, cols: np.ndarray, costs: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32).ravel()
        self._instance().changeColsCost(cols.size, cols, np.asarray(costs, float).ravel())

    def change_row_bounds(self, rows: np.ndarray, lower: Any, upper: Any) -> None:
        rows, lower, upper = _flat(rows, lower, upper)
        # (missing from highspy's type stubs, present in its binding)
        change = self._instance().changeRowsBounds  # type: ignore[attr-defined]
        change(rows.size, rows, lower, upper)

    def change_col_bounds(self, cols: np.ndarray, lower: Any, upper: Any) -> None:
        cols, lower, upper = _flat(cols, lower, upper)
        self._instance().changeColsBounds(cols.size, cols, lower, upper)

    def make_continuous(self, cols: np.ndarray) -> None:
        """Drop the integrality of ``cols`` (e.g. once their values are fixed)."""
        cols = np.asarray(cols, dtype=np.int32).ravel()
        continuous = np.full(cols.size, highspy.HighsVarType.kContinuous)
        self._instance().changeColsIntegrality(cols.size, cols, continuous)

    def solve(self, build_s: float = 0.0, warm: bool = True) -> SolveReport:
        """Solve (or re-solve) and keep the solution in ``solution``; raises ``SolveError``
        subclasses as ``optimize.solve.Solver`` does. ``warm=False`` re-solves a MILP
        without the last plan as its start: after changes that leave it far from feasible
        (another demand scenario) HiGHS spends longer repairing it than it saves."""
        first = not self.solves
        highs = self._instance()
        handoff = self.handoff_s if first else 0.0
        self.solves += 1
        started = time.perf_counter()
        before = float(highs.getRunTime())
        if warm and self.solution is not None and self.model.is_mip:
            start = highspy.HighsSolution()
            start.col_value = self.solution.tolist()
            start.value_valid = True
            highs.setSolution(start)
        highs.run()
        solve_s = time.perf_counter() - started
        highs_s = float(highs.getRunTime()) - before
        status = highs.getModelStatus()
        condition = _CONDITIONS.get(status, status.name)
        if condition == "infeasible":
            raise Infeasible(["the constraints contradict each other"])
        if condition in ("unbounded", "infeasibleOrUnbounded"):
            raise Unbounded("the plan is unbounded: some cost or limit is missing")
        info = highs.getInfo()
        if info.primal_solution_status != 2:  # 2: a feasible point is known
            raise NoSolution(f"HiGHS stopped ({condition}) without a feasible plan; "
                             "raise the time limit")
        self.solution = np.asarray(highs.getSolution().col_value, dtype=float)
        objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if self.model.is_mip else objective
        return SolveReport(condition, objective, bound, build_s, handoff, highs_s, solve_s)


def solve_arrays_or_explain(build: Callable[[bool], Any], options: SolveOptions
                            ) -> tuple[Any, SolveReport, ArraySolver]:
    """``optimize.solve.solve_or_explain`` for array-built models: ``build(elastic)``
    returns an object whose ``matrix`` is the ``ArrayModel``; an elastic build registers
    its slack blocks (``ArrayModel.add_elastic``) priced at the elastic penalty."""
    started = time.perf_counter()
    built = build(False)
    build_s = time.perf_counter() - started
    solver = ArraySolver(built.matrix, options)
    try:
        return built, solver.solve(build_s), solver
    except Infeasible:
        elastic = build(True)
        explain = ArraySolver(elastic.matrix, options)
        try:
            explain.solve()
        except SolveError:
            raise Infeasible(["the constraints contradict each other"]) from None
        assert explain.solution is not None
        raise Infeasible(elastic.matrix.shortfalls(explain.solution)) from None

