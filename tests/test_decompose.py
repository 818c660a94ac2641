"""The decomposed channel plan: feasible for the full model, costed right, and within its
reported gap of the monolithic optimum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from optimize.channel_data import ChannelData, channel_data, sku_subset
from optimize.channels import (
    build_channels_model,
    cost_breakdown,
    flows_table,
    optimize_channels,
    solve_built,
)
from optimize.core_arrays import ArrayChannelModel
from optimize.decompose import relaxation, sku_families, solve_decomposed
from optimize.solve import Infeasible, SolveOptions
from sim.loader import load_scenario

EXACT = SolveOptions(mip_gap=0.0, time_limit_s=120.0)


@pytest.fixture(scope="module")
def small() -> ChannelData:
    """Six baseline SKUs over ten weeks: small enough to solve the full MILP exactly."""
    data = channel_data(load_scenario("scenarios/baseline.yaml"))
    data = sku_subset(data, np.arange(6))
    data.weeks, data.demand = 10, data.demand[:, :, :10]
    return data


def full_vector(model: ArrayChannelModel, plan) -> np.ndarray:
    """The assembled plan as a column vector of the full model (safety shortfalls as the
    plan implies them)."""
    x = np.zeros(model.matrix.n_cols)
    for name in ("flow", "inv", "lost", "containers", "use_mode"):
        if name in model.matrix.columns:
            x[model.column(name)] = getattr(plan, name)
    if model.safety:
        s, h, w = (np.array(axis) for axis in zip(*model.safety, strict=True))
        leaving = model.sets.leaving
        out = np.array([sum(plan.flow[a, model.sets.used.index(r), b - 1]
                            for r in leaving[c]) for a, c, b in zip(s, h, w, strict=True)])
        cover = model.data.safety_cover[s, h]
        x[model.column("below_safety")] = np.maximum(cover * out - plan.inv[s, h, w - 1], 0.0)
    return x


def test_relaxation_families_and_their_sums(small):
    families = sku_families(small, 3)
    assert sorted(set(families)) == [0, 1, 2] and families[0] == 0
    relaxed = relaxation(small, families)
    assert relaxed.demand.sum() == pytest.approx(small.demand.sum())
    for f in range(3):
        members = families == f
        assert relaxed.volume[f] == small.volume[members].min()
        assert (relaxed.routes[0].unit_cost[f] == small.routes[0].unit_cost[members].min(axis=0)
                ).all()


def test_decomposed_plan_is_feasible_costed_and_within_its_gap_of_the_optimum(small):
    plan, report = solve_decomposed(small, EXACT, families=3)
    _, monolithic = solve_built(lambda elastic: build_channels_model(small, elastic), EXACT)
    assert monolithic.optimal
    optimum = monolithic.objective
    # the bound bounds the optimum, the plan costs no less than it, the gap covers the loss
    assert report.bound is not None and report.bound <= optimum * (1 + 1e-7)
    assert report.objective >= optimum * (1 - 1e-7)
    assert report.gap is not None
    assert (report.objective - optimum) / report.objective <= report.gap + 1e-9
    # the assembled plan satisfies every row of the full model and costs what is reported
    full = build_channels_model(small)
    assert isinstance(full, ArrayChannelModel)
    lp = full.matrix.lp()
    a = lp.a_matrix_
    matrix = sp.csc_array((a.value_, a.index_, a.start_), shape=(lp.num_row_, lp.num_col_))
    x = full_vector(full, plan.solution())
    activity = matrix @ x
    scale = 1e-6 * np.maximum(1.0, np.abs(activity))
    assert (activity >= np.asarray(lp.row_lower_) - scale).all()
    assert (activity <= np.asarray(lp.row_upper_) + scale).all()
    assert (x >= -1e-9).all()
    containers = x[full.column("containers")]
    assert containers == pytest.approx(np.round(containers))
    assert float(np.asarray(lp.col_cost_) @ x) == pytest.approx(report.objective, rel=1e-6)
    # the readers take the assembled plan as they take a solved model
    flows = flows_table(plan)
    costs = cost_breakdown(plan, flows)
    assert costs["total"] == pytest.approx(report.objective, rel=1e-6)
    customer = flows[flows["kind"] != "bulk"]["units"].sum()
    assert customer + costs["lost_units"] == pytest.approx(small.demand.sum(), rel=1e-6)

def test_families_of_identical_skus_lose_nothing(small):
    """Two copies of each SKU with half its demand: the families are the originals, the
    relaxation is exact, and the plan is optimal within the family model's own gap."""
    twice = sku_subset(small, np.repeat(np.arange(len(small.skus)), 2))
    twice.skus = [f"{name}_{i % 2}" for i, name in enumerate(twice.skus)]
    twice.demand = twice.demand / 2
    twice.opening = twice.opening / 2
    if twice.safety_stock is not None:
        twice.safety_stock = twice.safety_stock / 2
    _, report = solve_decomposed(twice, EXACT, families=len(small.skus))
    assert report.gap is not None and report.gap <= 1e-6


def test_optimize_channels_by_families_reports_its_method_and_gap(tiny):
    outcome = optimize_channels(tiny, EXACT, method="decomposed")
    solver = outcome.plan.solver
    assert solver["method"] == "decomposed"
    assert solver["lower_bound_cny"] <= outcome.plan.objective_cny
    assert solver["gap"] == pytest.approx(
        (outcome.plan.objective_cny - solver["lower_bound_cny"]) / outcome.plan.objective_cny)
    monolithic = optimize_channels(tiny, EXACT, method="monolithic")
    assert monolithic.plan.solver["method"] == "monolithic"
    # tiny's three SKUs are their own families: the decomposition is exact
    assert outcome.plan.objective_cny == pytest.approx(monolithic.plan.objective_cny, rel=1e-6)


def test_an_infeasible_catalogue_is_explained_in_the_skus_terms(small):
    starved = dataclasses.replace(small, allow_lost_sales=False, routes=[
        route for route in small.routes if route.kind == "direct"][:1])
    with pytest.raises(Infeasible, match="no allowed route can deliver|capacity short"):
        solve_decomposed(starved, EXACT, families=2)
