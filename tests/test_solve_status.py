"""The solver status says "optimal" only when the gap reached is within OPTIMAL_GAP."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from optimize.solve import OPTIMAL_GAP, SolveOptions, Solver, solve_status


def knapsack() -> pyo.ConcreteModel:
    """40 items, half the weight fits: the optimum is 1,010, HiGHS's first incumbent 1,007."""
    rng = np.random.default_rng(1)
    weight = rng.integers(20, 60, 40)
    value = weight + rng.integers(0, 15, 40)
    m = pyo.ConcreteModel()
    m.take = pyo.Var(range(40), within=pyo.Binary)
    m.fits = pyo.Constraint(expr=sum(int(weight[i]) * m.take[i] for i in range(40))
                            <= int(weight.sum()) // 2 + 7)
    m.value = pyo.Objective(expr=sum(int(value[i]) * m.take[i] for i in range(40)),
                            sense=pyo.maximize)
    return m


def test_a_loose_gap_reports_how_far_from_optimal_it_may_be():
    loose = Solver(SolveOptions(mip_gap=0.2)).solve(knapsack())
    exact = Solver(SolveOptions(mip_gap=1e-9)).solve(knapsack())
    assert exact.status == "optimal" and exact.optimal
    assert loose.condition == "optimal"                 # HiGHS: within the gap asked for
    assert loose.objective < exact.objective            # ... but not the optimum
    assert loose.gap is not None and loose.gap > OPTIMAL_GAP
    assert loose.status == f"within {100 * loose.gap:.3g} % of optimal"
    assert not loose.optimal and not loose.time_limited


def test_status_words():
    assert solve_status("optimal", 1000.0, 1000.05) == "optimal"
    assert solve_status("optimal", 1000.0, 1016.3) == "within 1.63 % of optimal"
    assert solve_status("maxTimeLimit", 1000.0, 1016.3) == "time limit: within 1.63 % of optimal"
    assert solve_status("maxTimeLimit", 1000.0, None) == "time limit: no bound on the optimum"
    assert solve_status("optimal", 0.0, 0.0) == "optimal"
