"""Plans drive the simulation: routing quotas, planned shipments, ad spend, plan files,
and the state a re-planning policy is handed."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import load, without_noise

from optimize.ads import optimize_ads
from optimize.channels import optimize_channels
from optimize.peak import optimize_peak
from sim.execution import Router
from sim.loader import load_scenario
from sim.model import MissingPolicy, simulate
from sim.plan import FulfilmentLine, Plan, PlanFileError, ShipmentLine, save_plan
from sim.policy import OperationState

PLENTY_AT_ORIGIN = "warehouses.SZ.initial_stock_days=120"
"""The channel plan takes origin stock as given; the test world gives it."""


@pytest.fixture(scope="module")
def noiseless():
    scenario = without_noise(load("tiny", PLENTY_AT_ORIGIN))
    outcome = optimize_channels(scenario)
    return scenario, outcome, simulate(scenario, seed=3, plan=outcome.plan)


def test_a_noiseless_world_delivers_the_planned_flows(noiseless):
    scenario, outcome, run = noiseless
    planned = outcome.tables["flows"].groupby(["kind", "mode"])["units"].sum()
    orders = run.orders[run.orders["order_day"] < 7 * outcome.plan.weeks]
    by_route = orders.groupby(["direct", "mode"], observed=True)["units"].sum()
    assert by_route[(False, "us_last_mile")] == pytest.approx(planned[("last_mile",
                                                                       "us_last_mile")], abs=3)
    assert by_route[(True, "postal")] == pytest.approx(planned[("direct", "postal")], abs=3)
    shipped = run.shipments.groupby("mode", observed=True)["ordered_units"].sum()
    assert shipped["sea_fcl"] == pytest.approx(planned[("bulk", "sea_fcl")], abs=3)
    assert run.summary["fill_rate"] == pytest.approx(1 - outcome.summary["lost_units"]
                                                     / orders["units"].sum(), abs=1e-3)
    assert run.summary["on_time_rate"] == 1.0


def test_a_noiseless_world_costs_what_the_plan_predicted(noiseless):
    _, outcome, run = noiseless
    predicted = outcome.plan.metrics
    # The plan counts storage weekly, the ledger daily: within 0.5 %.
    assert run.summary["logistics_cost_per_unit_cny"] == pytest.approx(
        predicted["logistics_cost_per_unit_cny"], rel=0.005)
    assert run.summary["fill_rate"] == pytest.approx(predicted["fill_rate"], abs=1e-3)
    assert run.summary["on_time_rate"] == pytest.approx(predicted["on_time_rate"])
    assert run.summary["mean_delivery_days"] == pytest.approx(
        predicted["mean_delivery_days"], abs=0.01)


def test_a_channel_plan_replaces_the_overseas_replenishment_rules(noiseless):
    scenario, outcome, run = noiseless
    by_rules = simulate(scenario, seed=3)
    planned_weeks = {line.week for line in outcome.plan.shipments}
    created_weeks = set((run.shipments["created_day"] // 7 + 1).astype(int))
    assert created_weeks == planned_weeks
    assert not by_rules.shipments.empty and not run.shipments.empty
    assert set((by_rules.shipments["created_day"] // 7 + 1).astype(int)) != planned_weeks


def test_a_scenario_names_its_plan_file_relative_to_itself(tmp_path, noiseless):
    scenario, outcome, run = noiseless
    save_plan(outcome.plan, tmp_path / "plans" / "weekly.yaml")
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["plan"] = "plans/weekly.yaml"
    (tmp_path / "with_plan.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    again = simulate(load_scenario(tmp_path / "with_plan.yaml"), seed=3)
    pd.testing.assert_frame_equal(again.orders, run.orders)


def test_a_plan_naming_an_unknown_sku_is_refused_with_its_line():
    scenario = load("tiny")
    plan = Plan(kind="channels", scenario="tiny", scenario_hash="x", weeks=1, objective_cny=0,
                shipments=[ShipmentLine(week=1, sku="SOCKS", origin="SZ",
                                        destination="US_WH", mode="sea_fcl", units=5)])
    with pytest.raises(PlanFileError, match=r"shipments\.0: unknown sku 'SOCKS'"):
        simulate(scenario, seed=0, days=7, plan=plan)


def test_an_ad_plan_sets_the_spend_of_its_weeks():
    scenario = load("tiny")
    outcome = optimize_ads(scenario)
    run = simulate(scenario, seed=0, plan=outcome.plan)
    daily = run.daily.set_index("day")["ad_spend_cny"]
    for line in outcome.plan.ad_spend[:5]:
        days = range(7 * (line.week - 1), min(7 * line.week, scenario.horizon.days))
        # The ledger books in channel currency at the day's FX rate: within its volatility.
        assert daily[list(days)].mean() == pytest.approx(line.spend_cny_per_day, rel=0.03)


def test_a_replan_scenario_without_a_policy_is_refused():
    with pytest.raises(MissingPolicy):
        simulate(load("tiny", "policies.replan={}"), seed=0, days=7)


# ------------------------------------------------------------------ routing quotas
def test_orders_take_warehouse_quota_first_then_direct_then_the_largest():
    router = Router(warehouse=[1], mode=[0], direct=[False], n_markets=1, n_skus=1)
    direct = router.option(warehouse=0, mode=2, direct=True)
    router.set_week(1, [(0, 0, 0, 3.0), (0, 0, direct, 5.0)])
    zeros = np.zeros(10, dtype=np.int64)
    chosen = router.assign(0, zeros, zeros, np.ones(10, dtype=np.int64), np.arange(10.0))
    # 3 units from the warehouse, 5 direct, the 2 beyond the plan by the larger quota.
    assert chosen.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert router.quota[1].sum() == 0
    unplanned_week = router.assign(7, zeros[:2], zeros[:2], np.ones(2, np.int64), np.zeros(2))
    assert unplanned_week.tolist() == [0, 0]


def test_quotas_carry_over_between_days_of_a_week():
    router = Router(warehouse=[1], mode=[0], direct=[False], n_markets=1, n_skus=1)
    direct = router.option(warehouse=0, mode=2, direct=True)
    router.set_week(1, [(0, 0, 0, 4.0), (0, 0, direct, 4.0)])
    one = np.zeros(3, dtype=np.int64)
    first = router.assign(0, one, one, np.ones(3, np.int64), np.arange(3.0))
    second = router.assign(1, one, one, np.ones(3, np.int64), np.arange(3.0))
    assert first.tolist() == [0, 0, 0] and second.tolist() == [0, direct, direct]


# ------------------------------------------------------------------ policy hand-off
class ShipEveryWeek:
    """A plain re-planning policy: ship a fixed quantity of each SKU by sea every week,
    and keep every state it was shown."""

    review_days = 7

    def __init__(self, units: float) -> None:
        self.units = units
        self.states: list[OperationState] = []

    def replan(self, state: OperationState) -> Plan:
        self.states.append(state)
        lines = [ShipmentLine(week=state.week, sku=sku, origin="SZ", destination="US_WH",
                              mode="sea_fcl", units=self.units) for sku in state.skus]
        return Plan(kind="rolling", scenario="tiny", scenario_hash="-", weeks=1,
                    objective_cny=0.0, shipments=lines)


def test_the_state_handed_to_a_policy_matches_the_simulation_counts():
    scenario = load("tiny", "modes.sea_fcl.loss_probability=0",
                    "modes.sea_fcl.damage_probability=0", "modes.air.loss_probability=0",
                    "modes.air.damage_probability=0")
    policy = ShipEveryWeek(200)
    run = simulate(scenario, seed=4, policy=policy)
    assert [s.day for s in policy.states] == list(range(0, scenario.horizon.days, 7))
    shipments, daily = run.shipments, run.daily.set_index("day")
    us_wh = list(scenario.warehouses).index("US_WH")
    for state in policy.states[1:]:
        t = state.day
        # In transit: every shipment line that left before today and had not arrived.
        arrived = shipments["arrived_day"]
        moving = shipments[(shipments["kind"] == "bulk") & (shipments["created_day"] < t)
                           & ((arrived > t + 0.45) | arrived.isna())]
        expected = moving.groupby("sku", observed=True)["ordered_units"].sum()
        seen = state.in_transit()[us_wh]
        for sku, units in expected.items():
            assert seen[state.skus.index(sku)] == units
        assert seen.sum() == expected.sum()
        # On hand plus in transit overseas: yesterday's closing count (nothing is lost on
        # the way, orders ship later in the day).
        yesterday = daily.loc[t - 1]
        assert state.on_hand[us_wh].sum() + seen.sum() == (yesterday["stock_US_WH"]
                                                           + yesterday["in_transit_units"])
        assert state.demand.sum() == daily.loc[: t - 1, "units_demanded"].sum()
        backlog = state.backlog.sum()
        assert backlog == yesterday["backlog_units"]
    # The policy's shipments were executed: one sea shipment a week, 200 of each SKU.
    bulk = shipments[shipments["kind"] == "bulk"]
    weekly = bulk.groupby(bulk["created_day"] // 7)["ordered_units"].sum()
    assert (weekly <= 200 * len(scenario.skus)).all() and weekly.iloc[0] == 600


def test_a_peak_plan_sends_its_commitments_on_top_of_the_rules():
    # The rules keep US_WH at a few days of cover only, so the peak plan must stock it.
    scenario = load("tiny", "warehouses.US_WH.initial_stock_days=10",
                    "policies.replenishment.1.policy.reorder_point=1",
                    "policies.replenishment.1.policy.order_up_to=3")
    plan = optimize_peak(scenario).plan
    committed = {(line.week, line.sku, line.mode): line.units for line in plan.shipments
                 if line.scenario is None}
    assert committed
    bulk = simulate(scenario, seed=0, plan=plan).shipments
    bulk = bulk[bulk["kind"] == "bulk"]
    for (week, sku, mode), units in committed.items():
        sent = bulk[(bulk["created_day"] == 7 * (week - 1) + 0.9) & (bulk["sku"] == sku)
                    & (bulk["mode"] == mode)]["ordered_units"]
        assert round(units) in sent.tolist()
    # The rules still run beside it: the (s,S) reviews keep shipping after the commitment.
    assert (bulk["created_day"] > 7).any()


# ------------------------------------------------------------------ stock-out fallback
def test_out_of_stock_warehouse_orders_fall_back_to_parcels_from_origin():
    short = ("warehouses.US_WH.initial_stock_days=3",)
    fallback = "policies.fulfilment.US.fallback={warehouse: SZ, mode: express}"
    without = simulate(load("baseline", *short), seed=2, days=45)
    with_fallback = simulate(load("baseline", *short, fallback), seed=2, days=45)
    orders = with_fallback.orders
    rescued = orders[(orders["market"] == "US") & (orders["mode"] == "express")]
    assert len(rescued) and (rescued["warehouse"] == "SZ").all() and rescued["direct"].all()
    assert with_fallback.summary["lost_sales_units"] < without.summary["lost_sales_units"]
    assert with_fallback.conservation["units_residual"] == 0
    assert abs(with_fallback.conservation["money_residual_cny"]) < 1e-6
    # Only the out-of-stock share falls back: the warehouse still ships most orders.
    us = orders[orders["market"] == "US"]
    assert (us["mode"] == "us_last_mile").sum() > len(rescued)


@pytest.mark.parametrize("override, message", [
    ("policies.fulfilment.UK.fallback={warehouse: SZ, mode: express}",
     "policies.fulfilment.UK.fallback: a fallback backs up a warehouse route only"),
    ("policies.fulfilment.US.fallback={warehouse: US_WH, mode: express}",
     "policies.fulfilment.US.fallback.warehouse: 'US_WH' is not an origin"),
    ("policies.fulfilment.US.fallback={warehouse: SZ, mode: sea_fcl}",
     "policies.fulfilment.US.fallback.mode: no lane carries 'sea_fcl' parcels to US"),
])
def test_impossible_fallbacks_are_refused_with_their_path(override, message):
    from sim.loader import ScenarioError
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load("baseline", override)


def test_a_fallback_leaves_other_carriers_queues_alone():
    # Demand that does not feed back on delivery (rating, ranking, returning buyers), so both
    # runs draw the same orders.
    world = ("warehouses.US_WH.initial_stock_days=3", "conversion.rating_elasticity=0",
             "modes.dedicated_line.capacity_units_per_day=40", "ranking.stockout_penalty=0",
             "ranking.velocity_elasticity=0", "ranking.rating_elasticity=0",
             "ranking.review_elasticity=0", "customers.repurchase_probability=0",
             "customers.on_time_bonus=0")
    fallback = "policies.fulfilment.US.fallback={warehouse: SZ, mode: express}"
    without = simulate(load("baseline", *world), seed=1, days=40).daily
    with_fallback = simulate(load("baseline", *world, fallback), seed=1, days=40).daily
    # UK's dedicated-line queue sees the same UK orders and one day's capacity a day.
    assert without["carrier_queue_units"].max() > 100
    assert (with_fallback["carrier_queue_units"] == without["carrier_queue_units"]).all()


def test_demand_beyond_a_used_up_quota_follows_the_plans_largest_route():
    router = Router(warehouse=[1], mode=[0], direct=[False], n_markets=1, n_skus=1)
    direct = router.option(warehouse=0, mode=2, direct=True)
    router.set_week(1, [(0, 0, 0, 2.0), (0, 0, direct, 3.0)])
    one = np.zeros(5, dtype=np.int64)
    assert router.assign(0, one, one, np.ones(5, np.int64), np.arange(5.0)).tolist() == [
        0, 0, direct, direct, direct]
    # Day 2: the week's quotas are used up; the plan's main route takes the rest, not the
    # scenario's own route (option 0).
    later = router.assign(1, one[:2], one[:2], np.ones(2, np.int64), np.arange(2.0))
    assert later.tolist() == [direct, direct]


@pytest.mark.parametrize("line, message", [
    (ShipmentLine(week=1, sku="TEE", origin="SZ", destination="US_WH", mode="express",
                  units=5), "shipments.0: no lane carries 'express' bulk freight from SZ to US_WH"),
    (ShipmentLine(week=1, sku="TEE", origin="US_WH", destination="SZ", mode="air", units=5),
     "shipments.0: no lane carries 'air' bulk freight from US_WH to SZ"),
    (FulfilmentLine(week=1, sku="TEE", market="DE", route="direct", mode="sea_fcl",
                    warehouse="US_WH", units=5),
     "fulfilment.0: direct route from US_WH: direct parcels ship from an origin "
     "warehouse"),
    (FulfilmentLine(week=1, sku="TEE", market="US", route="direct", mode="express",
                    warehouse="SZ", units=5),
     "fulfilment.0: direct route from SZ: no lane carries 'express' parcels to US"),
    (FulfilmentLine(week=1, sku="TEE", market="US", route="warehouse", mode="postal",
                    warehouse="US_WH", units=5),
     "fulfilment.0: warehouse route from US_WH: 'postal' is not a last_mile mode"),
])
def test_plan_lines_the_network_cannot_run_are_refused(line, message):
    lines = ({"shipments": [line]} if isinstance(line, ShipmentLine)
             else {"fulfilment": [line]})
    plan = Plan(kind="channels", scenario="tiny", scenario_hash="-", weeks=1,
                objective_cny=0.0, **lines)
    with pytest.raises(PlanFileError, match=re.escape(message)):
        simulate(load("tiny"), seed=0, days=7, plan=plan)


def test_plan_weeks_start_at_one():
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        ShipmentLine(week=0, sku="TEE", origin="SZ", destination="US_WH", mode="air", units=1)


def test_a_rewritten_plan_file_changes_the_scenario_fingerprint(tmp_path):
    from sim.loader import scenario_hash
    plan = Plan(kind="channels", scenario="tiny", scenario_hash="-", weeks=1, objective_cny=0)
    plan_file = save_plan(plan, tmp_path / "plan.yaml")
    scenario = load("tiny", f"plan={plan_file}")
    before = scenario_hash(scenario)
    save_plan(plan.model_copy(update={"objective_cny": 1.0}), plan_file)
    assert scenario_hash(scenario) != before
    assert scenario_hash(load("tiny")) not in (before, scenario_hash(scenario))


def test_a_mid_week_review_sends_its_shipments_the_same_day():
    policy = ShipEveryWeek(50)
    policy.review_days = 3
    run = simulate(load("tiny"), seed=4, days=21, policy=policy)
    daily = run.daily.set_index("day")
    departures = daily.index[daily["in_transit_units"].diff().fillna(
        daily["in_transit_units"]) > 0]
    assert list(departures) == [s.day for s in policy.states]
