"""The array-built channel and rolling models are the Pyomo reference, entry by entry.

The Pyomo model is handed to HiGHS through APPSI and its LP read back from the solver; each
of its columns and rows is mapped, by component name and index, to the array build's, and
costs, bounds, integrality, row bounds and every matrix coefficient must be equal. Then both
are solved to optimality and give the same objective and the same plan.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
import scipy.sparse as sp

from optimize.channel_data import ChannelData, channel_data, sku_subset
from optimize.channels import build_channels_model, flows_table, solve_built
from optimize.core import ChannelModel
from optimize.core_arrays import ArrayChannelModel
from optimize.rolling import RollingPlanner, expected_state
from optimize.solve import SolveOptions, _new_highs
from sim.loader import load_scenario
from sim.scenario import Replan

EXACT = SolveOptions(mip_gap=0.0, time_limit_s=120.0)


def _position(built: ArrayChannelModel, name: str, index: tuple[Any, ...]) -> tuple[int, ...]:
    """Where member ``index`` of Pyomo component ``name`` sits in the array block."""
    data, sets = built.data, built.sets
    routes = {"flow": sets.used, "containers": sets.fcl, "use_mode": built.contract_routes,
              "container_fill": sets.fcl, "activation_upper": built.contract_routes,
              "activation_lower": built.contract_routes}
    if name in ("below_safety", "safety"):
        return (built.safety.index(tuple(index)),)
    if name == "flow":
        s, r, w = index
        return s, sets.used.index(r), w - 1
    if name in ("containers", "container_fill"):
        r, w = index
        return routes[name].index(r), w - 1
    if name in ("use_mode", "activation_upper", "activation_lower"):
        return (routes[name].index(index[0]),)
    if name in ("parcel_short", "parcel_capacity"):
        return sets.parcel_modes.index(index[0]), index[1] - 1
    if name in ("bulk_short", "bulk_capacity"):
        return sets.bulk_modes.index(index[0]), index[1] - 1
    if name == "space_short":
        return list(data.warehouse_m3).index(index[0]), index[1] - 1
    if name == "warehouse_space":
        return built.spaces.index(index[0]), index[1] - 1
    if name in ("inv", "lost", "unmet", "demand_met", "balance"):
        return index[0], index[1], index[2] - 1
    return tuple(index)   # short, closing, terminal, origin_supply: (sku, warehouse/origin)


def _indexed(component: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    return [(data, key if isinstance(key, tuple) else (key,))
            for key, data in component.items()]


def assert_same_lp(reference: ChannelModel, arrays: ArrayChannelModel,
                   ours: Any = None) -> None:
    """The LP APPSI hands HiGHS for ``reference`` is the array build's (``ours``: the LP as
    built, or as a live instance holds it), up to the order of columns and rows."""
    appsi = _new_highs(EXACT)
    appsi.set_instance(reference.model)
    lp = appsi._solver_model.getLp()
    column_of = appsi._pyomo_var_to_solver_var_map
    row_of = appsi._pyomo_con_to_solver_con_map
    mine = arrays.matrix
    col_perm = np.full(lp.num_col_, -1)
    for var in reference.model.component_objects(pyo.Var):
        for data, index in _indexed(var):
            if id(data) in column_of:
                col_perm[column_of[id(data)]] = mine.columns[var.name].ids[
                    _position(arrays, var.name, index)]
    row_perm = np.full(lp.num_row_, -1)
    for con in reference.model.component_objects(pyo.Constraint):
        for data, index in _indexed(con):
            row_perm[row_of[data]] = mine.rows[con.name].ids[_position(arrays, con.name, index)]
    assert (col_perm >= 0).all() and (row_perm >= 0).all()
    assert len(set(col_perm)) == lp.num_col_ and len(set(row_perm)) == lp.num_row_
    ours = mine.lp() if ours is None else ours
    # Columns the array build has and Pyomo never referenced (no row, no cost) are idle.
    idle = np.setdiff1d(np.arange(ours.num_col_), col_perm)
    assert not np.asarray(ours.col_cost_)[idle].any()
    assert ours.num_row_ == lp.num_row_
    np.testing.assert_array_equal(np.asarray(ours.col_cost_)[col_perm], lp.col_cost_)
    np.testing.assert_array_equal(np.asarray(ours.col_lower_)[col_perm], lp.col_lower_)
    np.testing.assert_array_equal(np.asarray(ours.col_upper_)[col_perm], lp.col_upper_)
    integer = [int(k) for k in lp.integrality_] or [0] * lp.num_col_
    ours_integer = ([int(k) for k in ours.integrality_] if len(ours.integrality_)
                    else [0] * ours.num_col_)
    assert list(np.asarray(ours_integer)[col_perm]) == integer
    np.testing.assert_array_equal(np.asarray(ours.row_lower_)[row_perm], lp.row_lower_)
    np.testing.assert_array_equal(np.asarray(ours.row_upper_)[row_perm], lp.row_upper_)

    def matrix(of: Any, rows: int, cols: int) -> sp.csc_array:
        a = of.a_matrix_
        kind = sp.csr_array if a.format_ == highspy.MatrixFormat.kRowwise else sp.csc_array
        return sp.csc_array(kind((a.value_, a.index_, a.start_), shape=(rows, cols)))

    theirs = matrix(lp, lp.num_row_, lp.num_col_)
    ours_m = matrix(ours, ours.num_row_, ours.num_col_)[row_perm][:, col_perm]
    difference = (theirs - ours_m).tocoo()
    assert ours_m.nnz == theirs.nnz
    assert not difference.data.any()


def few_skus(count: int, weeks: int | None = None) -> ChannelData:
    """The baseline's channel data cut to its first ``count`` SKUs and ``weeks`` weeks
    (every route, container, capacity and safety row stays), with a contract on its air
    lanes (fee, minimum volume) so the activation rows are there too."""
    data = sku_subset(channel_data(load_scenario("scenarios/baseline.yaml")), np.arange(count))
    air = {(route.lane, route.mode): (20_000.0, 50.0) for route in data.routes
           if route.mode == "air"}
    weeks = weeks or data.weeks
    return dataclasses.replace(data, contracts=air, weeks=weeks,
                               demand=data.demand[:, :, :weeks])


@pytest.fixture(scope="module")
def baseline_four() -> ChannelData:
    return few_skus(4)


@pytest.mark.parametrize("elastic", [False, True])
def test_static_model_is_the_pyomo_lp(baseline_four, elastic):
    reference = build_channels_model(baseline_four, elastic, "pyomo")
    arrays = build_channels_model(baseline_four, elastic, "arrays")
    assert isinstance(reference, ChannelModel) and isinstance(arrays, ArrayChannelModel)
    assert arrays.contract_routes and arrays.safety and arrays.sets.fcl  # every row family
    assert_same_lp(reference, arrays)


def test_rolling_window_is_the_pyomo_lp_after_the_same_figures(tiny):
    state = expected_state(tiny, 21)
    planners = {backend: RollingPlanner(tiny, Replan(window_weeks=4), EXACT, backend=backend)
                for backend in ("pyomo", "arrays")}
    plans = {backend: planner.replan(state) for backend, planner in planners.items()}
    reference, arrays = planners["pyomo"].built, planners["arrays"].built
    assert isinstance(reference, ChannelModel) and isinstance(arrays, ArrayChannelModel)
    # after a solve: the array instance holds the window's bounds and costs
    assert planners["arrays"]._arrays is not None
    assert_same_lp(reference, arrays, planners["arrays"]._arrays._instance().getLp())
    assert plans["arrays"].objective_cny == pytest.approx(plans["pyomo"].objective_cny, rel=1e-9)


def perturbed(data: ChannelData, seed: int) -> ChannelData:
    """Costs nudged by up to 0.1 %, so the optimal plan is unique and both builds must find
    the same one (on the unperturbed data many plans tie)."""
    rng = np.random.default_rng(seed)
    routes = [dataclasses.replace(route, unit_cost=route.unit_cost
                                  * rng.uniform(1.0, 1.001, route.unit_cost.shape))
              for route in data.routes]
    return dataclasses.replace(data, routes=routes,
                               holding=data.holding * rng.uniform(1.0, 1.001, data.holding.shape))


@pytest.mark.parametrize("seed", [0, 1])
def test_both_builds_give_the_same_optimum_and_plan(seed):
    data = perturbed(few_skus(3, weeks=16), seed)
    solved = {backend: solve_built(lambda elastic, b=backend: build_channels_model(
        data, elastic, b), EXACT) for backend in ("pyomo", "arrays")}
    (reference, ref_report), (arrays, arr_report) = solved["pyomo"], solved["arrays"]
    assert ref_report.optimal and arr_report.optimal
    assert arr_report.objective == pytest.approx(ref_report.objective, rel=1e-9)
    ours, theirs = flows_table(arrays), flows_table(reference)
    assert ours[["week", "sku", "kind", "origin", "destination", "mode"]].equals(
        theirs[["week", "sku", "kind", "origin", "destination", "mode"]])
    np.testing.assert_allclose(ours["units"], theirs["units"], atol=1e-6)
    np.testing.assert_allclose(arrays.solution().containers, reference.solution().containers,
                               atol=1e-6)
    np.testing.assert_allclose(arrays.solution().use_mode, reference.solution().use_mode,
                               atol=1e-6)
