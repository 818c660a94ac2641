"""The array-built peak model is the Pyomo reference's LP, and both give the same plan."""

from __future__ import annotations

from collections.abc import Callable

import highspy
import numpy as np
import pytest
from pyomo.contrib.appsi.solvers.highs import Highs

from optimize.peak import build_peak_model, solve_peak
from optimize.peak_arrays import PeakArrays, build_peak_arrays
from optimize.peak_data import PeakData, peak_data
from optimize.solve import SolveOptions
from tests.conftest import load
from tests.test_peak import STRESSED

ZERO_GAP = SolveOptions(mip_gap=0.0)


@pytest.fixture(scope="module")
def instances() -> dict[str, PeakData]:
    return {"tiny": peak_data(load("tiny", *STRESSED)),
            "tiny rules": peak_data(load("tiny", *STRESSED[:4], "planning.peak.scenarios=5")),
            "baseline": peak_data(load("baseline", "planning.peak.scenarios=2"))}


def translators(data: PeakData, built: PeakArrays) -> dict[str, tuple[Callable, ...]]:
    """How each position of a Pyomo index becomes a position in the array block: routes
    and markets are numbered in ``data.base`` there, in the data's lists here; weeks start
    at 1 there; parcel modes are sorted here."""
    def same(i):
        return i

    def week(t):
        return t - 1

    def among(items):
        return items.index

    modes = sorted({data.base.routes[r].mode for r in data.express} & set(data.parcel_capacity))
    return {
        "commit": (same, among(data.commit), same),
        "containers": (among(data.boxes), same),
        "expedite": (same, among(data.expedite), week, same),
        "express": (same, among(data.express), week, same),
        "deliver": (same, among(data.deliver), week, same),
        "inv": (same, same, week, same),
        "lost": (same, among(data.markets), week, same),
        "demand_met": (same, among(data.markets), week, same),
        "balance": (same, same, week, same),
        "container_fill": (among(data.boxes), same),
        "parcel_capacity": (among(modes), week, same),
    }


def position(ids: np.ndarray, index, translate: tuple[Callable, ...]) -> int:
    index = index if isinstance(index, tuple) else (index,)
    return int(ids[tuple(f(i) for f, i in zip(translate, index, strict=True))])


def triplets(lp, col_map: np.ndarray | None = None, row_map: np.ndarray | None = None):
    """The matrix's (row, column, value) entries, mapped and in sorted order."""
    matrix = lp.a_matrix_
    start, index, value = (np.asarray(a) for a in (matrix.start_, matrix.index_,
                                                   matrix.value_))
    by_column = matrix.format_ == highspy.MatrixFormat.kColwise
    outer = np.repeat(np.arange(lp.num_col_ if by_column else lp.num_row_), np.diff(start))
    cols, rows = (outer, index.astype(np.int64)) if by_column else (index.astype(np.int64),
                                                                    outer)
    if col_map is not None and row_map is not None:
        cols, rows = col_map[cols], row_map[rows]
    order = np.lexsort((rows, cols))
    return rows[order], cols[order], value[order]


@pytest.mark.parametrize("anticipative", [False, True])
@pytest.mark.parametrize("name", ["tiny", "tiny rules", "baseline"])
def test_the_array_build_hands_highs_the_pyomo_models_lp(instances, name, anticipative):
    """Column by column and row by row (matched by component and index), the same bounds,
    costs, integrality and coefficients, exactly."""
    data = instances[name]
    reference = build_peak_model(data, anticipative).model
    appsi = Highs()
    appsi.set_instance(reference)
    theirs = appsi._solver_model.getLp()
    built = build_peak_arrays(data, anticipative)
    ours = built.matrix.lp()
    assert (theirs.num_col_, theirs.num_row_) == (ours.num_col_, ours.num_row_)
    maps = translators(data, built)
    col_map = np.full(theirs.num_col_, -1)
    for var_id, col in appsi._pyomo_var_to_solver_var_map.items():
        var = appsi._vars[var_id][0]
        name_ = var.parent_component().local_name
        col_map[col] = position(built.matrix.columns[name_].ids, var.index(), maps[name_])
    row_map = np.full(theirs.num_row_, -1)
    for con, row in appsi._pyomo_con_to_solver_con_map.items():
        name_ = con.parent_component().local_name
        row_map[row] = position(built.matrix.rows[name_].ids, con.index(), maps[name_])
    assert sorted(col_map) == list(range(ours.num_col_))
    assert sorted(row_map) == list(range(ours.num_row_))
    for field in ("col_cost_", "col_lower_", "col_upper_"):
        assert np.array_equal(np.asarray(getattr(ours, field))[col_map],
                              np.asarray(getattr(theirs, field))), field
    for field in ("row_lower_", "row_upper_"):
        assert np.array_equal(np.asarray(getattr(ours, field))[row_map],
                              np.asarray(getattr(theirs, field))), field
    assert [str(k) for k in np.asarray(ours.integrality_, dtype=object)[col_map]] == \
        [str(k) for k in theirs.integrality_]
    for mine, reference_entries in zip(triplets(ours),
                                       triplets(theirs, col_map, row_map), strict=True):
        assert np.array_equal(mine, reference_entries)


@pytest.mark.parametrize("name", ["tiny", "tiny rules", "baseline"])
def test_both_backends_give_the_same_optimum_and_plan(instances, name):
    data = instances[name]
    arrays = solve_peak(data, ZERO_GAP, backend="arrays")
    pyomo = solve_peak(data, ZERO_GAP, backend="pyomo")
    for figure in ("expected_cost_rp_cny", "ev_plan_expected_cost_eev_cny",
                   "wait_and_see_cost_ws_cny", "committed_units", "expected_lost_units"):
        assert arrays.summary[figure] == pytest.approx(pyomo.summary[figure], rel=1e-7), figure
    assert arrays.plan.containers == pyomo.plan.containers
    ours, theirs = (outcome.tables["commitments"] for outcome in (arrays, pyomo))
    assert ours[["sku", "route"]].equals(theirs[["sku", "route"]])
    assert np.allclose(ours["units"], theirs["units"], rtol=1e-7, atol=1e-6)
    assert arrays.summary["vss_cny"] >= -1e-7 * arrays.summary["expected_cost_rp_cny"]
    assert arrays.summary["evpi_cny"] >= -1e-7 * arrays.summary["expected_cost_rp_cny"]
    assert arrays.tables["bookings"].equals(pyomo.tables["bookings"])
