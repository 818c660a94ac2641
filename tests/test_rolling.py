"""The rolling-horizon planner: the static plan over a whole-horizon window, the same plans
from re-solves and rebuilds, a forecast that follows observed demand, a pipeline that lands
where it should, and plans that conserve units and ship no more than needed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optimize.channel_data import channel_data
from optimize.channels import build_channels_model, solve_built
from optimize.rolling import RATIO_BOUNDS, RollingPlanner, expected_state
from optimize.solve import SolveOptions
from sim.demand import expected_units_by_day
from sim.model import simulate
from sim.plan import Plan
from sim.policy import OperationState
from sim.scenario import Replan
from tests.conftest import load

EXACT = SolveOptions(mip_gap=1e-9, time_limit_s=60)


@pytest.fixture(scope="module")
def tiny():
    return load("tiny")


def with_transit(state: OperationState, lines: list[tuple[str, str, str, float, float]]
                 ) -> OperationState:
    """The state with bulk lines (warehouse, mode, sku, units, created day) on their way."""
    return dataclasses.replace(
        state,
        transit_destination=np.array([state.warehouses.index(w) for w, *_ in lines], int),
        transit_mode=np.array([state.modes.index(k) for _, k, *_ in lines], int),
        transit_sku=np.array([state.skus.index(s) for _, _, s, *_ in lines], int),
        transit_units=np.array([u for *_, u, _ in lines], float),
        transit_created_day=np.array([d for *_, d in lines], float))


def lines(plan: Plan) -> dict[tuple, float]:
    """Every shipment and fulfilment line of a plan, keyed by all but its units."""
    out = {}
    for line in plan.shipments + plan.fulfilment:
        fields = line.model_dump()
        out[(type(line).__name__,) + tuple(v for k, v in fields.items() if k != "units")] = \
            fields["units"]
    return out


def bulk_units(plan: Plan, sku: str, warehouse: str) -> float:
    return sum(line.units for line in plan.shipments
               if line.sku == sku and line.destination == warehouse)


def test_whole_horizon_window_from_the_opening_state_costs_the_static_plan(tiny):
    # Without the terminal condition (and the static plan without its closing-stock row)
    # both models are the same MILP: same forecast (ratio 1, no backlog), stock, costs.
    data = channel_data(tiny)
    data.keep_closing_stock = False
    static = solve_built(lambda elastic: build_channels_model(data, elastic), EXACT)[1].objective
    planner = RollingPlanner(tiny, Replan(window_weeks=data.weeks), EXACT, terminal_weight=0)
    plan = planner.replan(expected_state(tiny, 0))
    assert plan.objective_cny == pytest.approx(static, rel=1e-7)
    assert plan.costs_cny["total"] == pytest.approx(static, rel=1e-7)
    assert plan.kind == "rolling" and {line.week for line in plan.fulfilment} == set(
        range(1, data.weeks + 1))


def test_terminal_condition_keeps_the_window_from_ending_dry(tiny):
    state = expected_state(tiny, 14)
    dry = RollingPlanner(tiny, options=EXACT, terminal_weight=0)
    kept = RollingPlanner(tiny, options=EXACT)
    dry.replan(state), kept.replan(state)

    def closing(planner: RollingPlanner) -> np.ndarray:
        """Stock [sku, warehouse] at the end of the window."""
        assert planner.built is not None
        return planner.built.solution().inv[:, :, planner.window_weeks - 1]
    # Cheap sea freight meets the target exactly; without one the window ends with only
    # the safety stock for its last week's shipments (no pipeline cover after it).
    assert closing(kept) == pytest.approx(kept.window(state).target, abs=1e-6)
    assert dry.built is not None
    leaving = [dry.sets.used.index(r) for r in dry.sets.leaving[0]]
    shipped = dry.built.solution().flow[:, leaving, -1].sum(axis=1, keepdims=True)
    assert closing(dry) == pytest.approx(dry.data.safety_cover * shipped, abs=1e-6)
    assert (shipped > 0).all() and (kept.window(state).target > 2 * closing(dry)).all()


def test_persistent_re_solves_and_rebuilds_give_the_same_plans(tiny):
    opening = expected_state(tiny, 0)
    demand = expected_units_by_day(tiny)
    states = [
        opening,
        with_transit(dataclasses.replace(
            expected_state(tiny, 7), backlog=np.array([[0, 0, 0], [30, 5, 12]])),
            [("US_WH", "sea_fcl", "TEE", 400, 2.0)]),
        dataclasses.replace(expected_state(tiny, 14), demand=1.3 * demand[:, :, :14],
                            on_hand=0.5 * opening.on_hand),
        expected_state(tiny, 49),  # the window runs past the horizon's 8 weeks
    ]
    persistent = RollingPlanner(tiny, options=EXACT)
    rebuilt = RollingPlanner(tiny, options=EXACT, persistent=False)
    model = persistent.built
    for i, state in enumerate(states):
        a, b = persistent.replan(state), rebuilt.replan(state)
        assert a.objective_cny == pytest.approx(b.objective_cny, rel=1e-9)
        assert lines(a).keys() == lines(b).keys()
        assert list(lines(a).values()) == pytest.approx(list(lines(b).values()), abs=1e-3)
        assert min(line.week for line in a.fulfilment) == state.week
        # The persistent model is handed to HiGHS once; a rebuilt one every time.
        assert (a.solver["handoff_s"] > 0) == (i == 0) and b.solver["handoff_s"] > 0
    assert persistent.built is model
    assert persistent.stats.solves == rebuilt.stats.solves == len(states)
    assert rebuilt.stats.update_s > persistent.stats.update_s


def test_forecast_scales_with_the_last_weeks_of_observed_demand_and_carries_backlog(tiny):
    planner = RollingPlanner(tiny, Replan(forecast_weeks=4))
    expected = planner.data.demand  # [sku, market, week], 8 weeks
    daily = expected_units_by_day(tiny)[:, :, :35]
    observed = daily.copy()
    observed[0, :, 7:] *= 1.5   # US: 1.5x over weeks 2-5, the last four complete weeks
    observed[0, :, :7] *= 9.0   # week 1 is older than four weeks and does not count
    observed[1] *= 10.0         # DE: clipped to the upper bound
    backlog = np.array([[4, 0, 2], [0, 7, 0]])
    state = dataclasses.replace(expected_state(tiny, 35), demand=observed, backlog=backlog)
    assert planner.demand_ratio(state) == pytest.approx([1.5, RATIO_BOUNDS[1]])
    forecast = planner.forecast(state, 4)  # weeks 6..9; week 9 is past the horizon
    weeks = [5, 6, 7, 7]
    assert forecast[:, 0, :] == pytest.approx(1.5 * expected[:, 0, weeks] + np.c_[
        backlog[0], np.zeros((3, 3))])
    assert forecast[:, 1, :] == pytest.approx(4.0 * expected[:, 1, weeks] + np.c_[
        backlog[1], np.zeros((3, 3))])
    assert planner.demand_ratio(expected_state(tiny, 6)) == pytest.approx([1.0, 1.0])


def test_in_transit_lines_land_in_their_week_and_replace_planned_shipments(tiny):
    state = expected_state(tiny, 28)  # week 5
    planner = RollingPlanner(tiny, options=EXACT)
    sea, air = planner.pipeline_lead("US_WH", "sea_fcl"), planner.pipeline_lead("US_WH", "air")
    assert air <= 4  # so that a line by air that left in week 1 is overdue
    landing = with_transit(state, [
        ("US_WH", "sea_fcl", "TEE", 300.0, 22.0),  # left in week 4: lands in 4 + L - 5 + 1
        ("US_WH", "air", "LAMP", 50.0, 0.0),       # overdue: lands in week 1
        ("US_WH", "postal", "CABLE", 70.0, 28.0),  # no such bulk route: the mean lead
    ])
    arrivals = planner.window(landing).arrivals
    expected = np.zeros_like(arrivals)
    expected[0, 0, sea - 1] = 300.0
    expected[1, 0, 0] = 50.0
    mean_lead = round(np.mean([sea, air]))
    assert planner.pipeline_lead("US_WH", "postal") == mean_lead
    expected[2, 0, mean_lead] = 70.0  # left in week 5: lands in window week mean_lead + 1
    assert arrivals == pytest.approx(expected)
    without = planner.replan(state)
    with_line = planner.replan(with_transit(state, [("US_WH", "sea_fcl", "TEE", 300.0, 22.0)]))
    assert bulk_units(without, "TEE", "US_WH") - bulk_units(with_line, "TEE", "US_WH") \
        == pytest.approx(300.0, abs=1e-3)
    # A line due after a short window lowers the terminal target instead.
    short = RollingPlanner(tiny, Replan(window_weeks=2))
    late = with_transit(state, [("US_WH", "sea_fcl", "TEE", 300.0, 14.0)])
    assert short.window(late).arrivals.sum() == 0.0
    assert short.window(state).target[0, 0] - short.window(late).target[0, 0] \
        == pytest.approx(300.0)


def test_plans_conserve_units_and_ship_no_more_than_the_window_needs(tiny):
    state = with_transit(dataclasses.replace(expected_state(tiny, 21),
                                             backlog=np.array([[0, 0, 0], [20, 0, 9]])),
                         [("US_WH", "sea_fcl", "TEE", 500.0, 7.0),
                          ("US_WH", "air", "CABLE", 80.0, 14.0)])
    planner = RollingPlanner(tiny, options=EXACT)
    plan = planner.replan(state)
    window, data, J = planner.window(state), planner.data, planner.window_weeks
    assert planner.built is not None
    solution = planner.built.solution()
    lead = {(r.destination, r.mode): r.lead_weeks for r in data.routes if r.kind == "bulk"}
    last = state.week + J - 1
    for s, sku in enumerate(data.skus):
        for h, home in enumerate(data.warehouses):
            ships = [(line.week + lead[home, line.mode], line.units) for line in plan.shipments
                     if line.sku == sku and line.destination == home]
            assert all(arrival <= last for arrival, _ in ships)  # none lands after the window
            shipped = sum(units for _, units in ships)
            delivered = sum(line.units for line in plan.fulfilment if line.sku == sku
                            and line.route == "warehouse" and line.warehouse == home)
            closing = window.opening[s, h] + window.arrivals[s, h].sum() + shipped - delivered
            assert closing == pytest.approx(solution.inv[s, h, J - 1], abs=1e-2)
            needs = delivered + window.target[s, h] - window.opening[s, h] \
                - window.arrivals[s, h].sum()
            assert shipped <= max(needs, 0.0) + 1e-2
    served = sum(line.units for line in plan.fulfilment)
    lost = solution.lost.sum()
    assert served + lost == pytest.approx(window.demand.sum(), abs=1e-3 * len(plan.fulfilment))


def test_settings_come_from_the_scenario_and_must_hold_together(tiny):
    with pytest.raises(ValueError, match="window_weeks must cover the 2 weeks"):
        Replan(window_weeks=1, review_days=14)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Replan(window_weeks=0)
    assert RollingPlanner(tiny, Replan(window_weeks=2, review_days=8)).review_days == 8
    planner = RollingPlanner(load("tiny", "policies.replan={review_days: 14, window_weeks: 4}"))
    assert (planner.review_days, planner.window_weeks, planner.forecast_weeks) == (14, 4, 4)
    assert RollingPlanner(tiny).window_weeks == Replan().window_weeks


def test_the_simulation_re_plans_with_it_every_review_and_ships_its_first_week(tiny):
    planner = RollingPlanner(tiny)
    plans = []

    class Recording:
        review_days = planner.review_days

        def replan(self, state):
            plans.append(planner.replan(state))
            return plans[-1]

    result = simulate(tiny, seed=3, policy=Recording())
    assert planner.stats.solves == len(plans) == -(-tiny.horizon.days // 7)
    assert planner.stats.wall_s >= planner.stats.highs_s > 0
    bulk = result.shipments[result.shipments["kind"] == "bulk"]
    sent = bulk.groupby([bulk["created_day"] // 7 + 1, "sku"], observed=True)[
        "ordered_units"].sum()
    checked = 0
    for week, plan in enumerate(plans, start=1):
        planned: dict[str, int] = {}
        for line in plan.shipments:
            if line.week == week and round(line.units) > 0:
                planned[line.sku] = planned.get(line.sku, 0) + round(line.units)
        # The first week's shipments leave as planned: the plan only sends what the
        # origin holds.
        assert {sku: sent.get((week, sku), 0) for sku in planned} == planned
        checked += len(planned)
    assert checked >= 3
