"""The two-stage peak plan: VSS and EVPI are non-negative, and vanish without uncertainty."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optimize.peak import build_peak_model, peak_data, solve_peak
from optimize.solve import SolveOptions, Solver
from sim.model import simulate
from tests.conftest import load

STRESSED = ("warehouses.US_WH.initial_stock_days=5", "planning.peak.weeks=4",
            "horizon.days=90", "planning.peak.start=2026-02-23",
            # The rules replenish the origin only: the peak plan must stock US_WH itself.
            "policies.replenishment=[{warehouse: SZ, policy: {type: sS, unit: days, "
            "reorder_point: 25, order_up_to: 60}, review_days: 7}]")
EXACT = SolveOptions(mip_gap=1e-6)


@pytest.fixture(scope="module")
def stressed():
    return load("tiny", *STRESSED)


@pytest.mark.parametrize("seed", [0, 11])
def test_value_of_stochastic_solution_and_of_information_are_non_negative(stressed, seed):
    scenario = load("tiny", *STRESSED, f"planning.peak.seed={seed}")
    summary = solve_peak(peak_data(scenario), EXACT).summary
    assert summary["vss_cny"] >= -1e-6 * summary["expected_cost_rp_cny"]
    assert summary["evpi_cny"] >= -1e-6 * summary["expected_cost_rp_cny"]
    assert summary["committed_units"] > 0


def test_no_uncertainty_means_no_value_of_the_stochastic_solution(stressed):
    data = peak_data(stressed)
    same = np.repeat(data.demand[:1], data.demand.shape[0], axis=0)
    summary = solve_peak(dataclasses.replace(data, demand=same), EXACT).summary
    assert summary["vss_cny"] == pytest.approx(0.0, abs=1e-6 * summary["expected_cost_rp_cny"])
    assert summary["evpi_cny"] == pytest.approx(0.0, abs=1e-6 * summary["expected_cost_rp_cny"])


def test_stage_one_is_decided_once_for_all_scenarios(stressed):
    data = peak_data(stressed)
    model = build_peak_model(data).model
    Solver(EXACT).solve(model)
    assert {key[2] for key in model.commit} == {0}
    anticipative = build_peak_model(data, anticipative=True).model
    assert {key[2] for key in anticipative.commit} == set(range(data.demand.shape[0]))


def test_demand_scenarios_are_the_simulators_own_draws():
    scenario = load("tiny", "conversion.rating_elasticity=0", "planning.peak.scenarios=3",
                    "planning.peak.seed=4")
    data = peak_data(scenario)
    first_day = 32  # 2026-02-02
    for k, seed in enumerate(range(4, 7)):
        daily = simulate(scenario, seed=seed).daily["units_demanded"].to_numpy()
        weekly = daily[first_day:first_day + 21].reshape(3, 7).sum(axis=1)
        assert np.array_equal(data.demand[k].sum(axis=(0, 1)), weekly)


def test_the_plan_commits_only_what_the_rules_leave_short():
    """The model sees what the scenario's rules will have on the shelves and on their way
    (simulated with each demand scenario's seed): where the rules keep US_WH stocked, the
    plan commits less than where they do not."""
    starved = solve_peak(peak_data(load("tiny", *STRESSED)), EXACT).summary
    ruled = solve_peak(peak_data(load("tiny", *STRESSED[:4])), EXACT).summary
    assert ruled["committed_units"] < starved["committed_units"]
    data = peak_data(load("tiny", *STRESSED[:4]))
    assert data.supply is not None and data.supply[:, :, 0, 0].sum() > 0
