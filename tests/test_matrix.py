"""The array model builder against brute force and hand-solved models."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optimize.matrix import ArrayModel, ArraySolver, solve_arrays_or_explain
from optimize.solve import Infeasible, SolveOptions

OPTIONS = SolveOptions(mip_gap=0.0, time_limit_s=60.0)


def test_knapsack_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    value, weight = rng.integers(1, 30, 10).astype(float), rng.integers(1, 20, 10).astype(float)
    capacity = weight.sum() / 2
    model = ArrayModel("knapsack")
    take = model.add_columns("take", (10,), upper=1.0, cost=-value, integer=True)
    row = model.add_rows("capacity", (1,), upper=capacity)
    model.add_terms(row, take, weight)
    solver = ArraySolver(model, OPTIONS)
    report = solver.solve()
    best = max(value @ np.array(pick) for pick in itertools.product((0, 1), repeat=10)
               if weight @ np.array(pick) <= capacity)
    assert report.objective == pytest.approx(-best)
    assert report.optimal
    assert solver.solution is not None
    assert weight @ model.values(solver.solution, "take") <= capacity + 1e-9


def test_repeated_terms_add_up_and_bounds_change_in_place() -> None:
    # min x + y  s.t.  x + x + y >= b (the x term given twice: 2x), y <= 1
    model = ArrayModel("sum")
    x = model.add_columns("x", (1,), cost=1.0)
    y = model.add_columns("y", (1,), upper=1.0, cost=1.0)
    row = model.add_rows("cover", (1,), lower=4.0)
    model.add_terms(row, x)
    model.add_terms(row, np.concatenate([x, y]), [1.0, 1.0])
    solver = ArraySolver(model, OPTIONS)
    assert solver.solve().objective == pytest.approx(2.0)   # x = 2
    solver.change_row_bounds(row, 10.0, np.inf)
    solver.change_costs(x, [3.0])                             # now y = 1 first: x = 4.5
    report = solver.solve()
    assert report.objective == pytest.approx(1.0 + 3.0 * 4.5)
    assert report.handoff_s == 0.0


def test_elastic_build_names_the_shortfall() -> None:
    def build(elastic: bool):
        model = ArrayModel("short")
        x = model.add_columns("x", (2,), upper=[3.0, 4.0], cost=1.0)
        row = model.add_rows("demand", (1,), lower=10.0, upper=10.0)
        model.add_terms(row, x)
        if elastic:
            slack = model.add_columns("unmet", (1,), cost=1e7)
            model.add_terms(row, slack)
            model.add_elastic("demand", "unmet", lambda i, v: f"short by {v:,.0f} units")

        class Built:
            matrix = model
        return Built()

    with pytest.raises(Infeasible, match="short by 3 units"):
        solve_arrays_or_explain(build, OPTIONS)
