"""Ageing stock: lots leave first in, first out; surcharges start at their tier; a clearance
takes the right units and books the right money; seasonal levels follow the calendar; the
turnover KPI is COGS over the average stock value; units and money balance throughout.

The hand calculations run on the tiny scenario without demand (no sessions, no ads), so the
only stock is what an opening state puts on the US warehouse's shelf and nothing sells.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ageing
from sim.loader import ScenarioError
from sim.lots import Lots
from sim.model import simulate
from sim.network import compile_network
from sim.state import OnHand, OpeningState
from tests.conftest import load

STILL = ("markets.US.organic_sessions_per_day=0", "markets.DE.organic_sessions_per_day=0",
         "policies.ad_spend={}")
"""No demand: stock on the shelves only ages."""
TEE_ON_US_SHELF = OpeningState(on_hand=(OnHand("US_WH", "TEE", 1000),))
TEE_VOLUME_M3 = 0.002


def still_run(*overrides: str, days: int = 220):
    """The tiny scenario from 15 January 2026 (an assessment day), 1000 TEE on the US
    shelf and nothing selling."""
    scenario = load("tiny", "horizon.start_date=2026-01-15", f"horizon.days={days}", *STILL,
                    *overrides)
    return simulate(scenario, seed=3, state=TEE_ON_US_SHELF)


def booked(result, category: str):
    """A category's ledger amounts (currency of the booking) by accrual day."""
    rows = result.ledger[result.ledger["category"] == category]
    return rows.groupby("accrual_day")["amount"].sum().to_dict()


# ----------------------------------------------------------------------------- lots
def test_lots_leave_oldest_first_and_age_by_week():
    now = [0.0]
    lots = Lots(1, 1, 5, lambda: now[0])
    lots.receive(0, np.array([0]), np.array([10]))          # week 0
    now[0] = 14.2
    lots.receive(0, np.array([0]), np.array([5]))           # week 2
    assert lots.units[0, 0].tolist() == [5, 0, 10, 0, 0]
    assert lots.ages(16).tolist() == [2, 9, 16, 23, 30]     # from each week's first day
    lots.issue(0, np.array([0]), np.array([12]))
    assert lots.units[0, 0].tolist() == [3, 0, 0, 0, 0]     # the week-0 lot went first


def test_the_last_lot_keeps_the_exact_mean_age_of_what_it_holds():
    now = [0.0]
    lots = Lots(1, 1, 3, lambda: now[0])
    lots.receive(0, np.array([0]), np.array([4]))           # day 0
    now[0] = 7.0
    lots.receive(0, np.array([0]), np.array([6]))           # day 7
    now[0] = 30.0                                           # both now in the last lot
    lots.observe(30, np.array([0]))
    assert lots.units[0, 0].tolist() == [0, 0, 10]
    assert lots.age_unit_days == pytest.approx(4 * 30 + 6 * 23)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2), st.integers(0, 50)),
                max_size=40))
def test_lots_always_hold_what_is_on_hand(moves):
    """Random receipts and issues: the lots add up to the stock and issues empty the
    oldest lots first."""
    now = [0.0]
    lots = Lots(1, 3, 4, lambda: now[0])
    on_hand = np.zeros(3, dtype=np.int64)
    for day, sku, units in sorted(moves):
        now[0] = float(day)
        if units % 2 or on_hand[sku] == 0:
            lots.receive(0, np.array([sku]), np.array([units]))
            on_hand[sku] += units
        else:
            take = min(units, int(on_hand[sku]))
            before = lots.units[0, sku].copy()
            lots.issue(0, np.array([sku]), np.array([take]))
            taken = before - lots.units[0, sku]
            touched = np.flatnonzero(taken)
            assert taken.sum() == take
            assert not len(touched) or (before[touched.max() + 1:] == 0).all()
            on_hand[sku] -= take
        assert (lots.units[0].sum(axis=1) == on_hand).all()


# ----------------------------------------------------------------------------- surcharges
def test_surcharges_start_at_their_tier():
    """A unit received on day 0 is charged nothing before day 181, tier 1 from day 181 (the
    15 July assessment, 181 days after 15 January) and tier 2 from day 211 (15 August, day
    212): 1000 units x 0.002 m3 x 10 and then x 20 USD per m3 and month."""
    result = still_run("warehouses.US_WH.initial_stock_days=0",
                       "ageing.surcharges={US_WH: [{from_days: 181, fee_per_m3_month: 10}, "
                       "{from_days: 211, fee_per_m3_month: 20}]}")
    assert booked(result, "aged_surcharge") == pytest.approx(
        {181: -1000 * TEE_VOLUME_M3 * 10, 212: -1000 * TEE_VOLUME_M3 * 20})
    assert result.summary["profit_and_loss_cny"]["aged_surcharge"] < 0


def test_a_tier_is_charged_from_its_first_day():
    net = compile_network(load("tiny", "ageing.surcharges={US_WH: [{from_days: 181, "
                                       "fee_per_m3_month: 10}]}"))
    w = net.warehouses.index("US_WH")
    fee = ageing.surcharge_per_unit(net, w, np.array([180.0, 181.0, 400.0]))
    assert fee[net.skus.index("TEE")].tolist() == [0.0, TEE_VOLUME_M3 * 10,
                                                   TEE_VOLUME_M3 * 10]


# ----------------------------------------------------------------------------- clearance
CLEAR_ON_DAY_10 = ("warehouses.US_WH.initial_stock_days=70",
                   "ageing.clearance=[{date: 2026-01-25, older_than_days: 30, "
                   "action: ACTION, recovery_fraction_of_cost: RECOVERY, fee_per_unit: 0.5}]")


def clearance_run(action: str, recovery: float):
    return still_run(*(o.replace("ACTION", action).replace("RECOVERY", str(recovery))
                       for o in CLEAR_ON_DAY_10), days=40)


def test_a_liquidation_takes_the_old_units_and_books_their_money():
    """The opening 1000 TEE spread over 10 weekly lots (70 days of cover), 100 each, 0, 7,
    .., 63 days old on day 0 and 10, 17, .., 73 on 25 January (day 10): the 7 lots older
    than 30 days go, 700 units. Back: 0.3 x 25 CNY x 700; fee: 0.5 USD x 700; written off:
    their value at cost, 25 CNY x 700."""
    result = clearance_run("liquidate", 0.3)
    tee = result.scenario.skus["TEE"].unit_cost_cny
    assert result.summary["cleared_units"] == 700
    assert result.closing_stock[list(result.scenario.warehouses).index("US_WH"),
                                list(result.scenario.skus).index("TEE")] == 300
    assert booked(result, "clearance_proceeds") == pytest.approx({10: 0.3 * tee * 700})
    assert booked(result, "clearance_fee") == pytest.approx({10: -0.5 * 700})
    assert result.summary["profit_and_loss_cny"]["write_off"] == pytest.approx(tee * 700)
    assert result.conservation["units_residual"] == 0


def test_a_disposal_pays_its_fee_and_recovers_nothing():
    result = clearance_run("dispose", 0.0)
    assert result.summary["cleared_units"] == 700
    assert booked(result, "clearance_proceeds") == {}
    assert booked(result, "clearance_fee") == pytest.approx({10: -0.5 * 700})


def test_holding_changes_nothing():
    held = clearance_run("hold", 0.0)
    plain = still_run("warehouses.US_WH.initial_stock_days=70", days=40)
    assert held.summary["cleared_units"] == 0
    for name, table in plain.tables().items():
        assert table.equals(held.tables()[name]), name


def test_a_yearly_clearance_falls_every_year_of_the_horizon():
    net = compile_network(load("tiny", "horizon.days=730", "ageing.clearance=[{date: "
                                       "2026-09-30, older_than_days: 180, action: dispose}]"))
    assert net.ageing.clearances == {272: [0], 637: [0]}


# ----------------------------------------------------------------------------- seasonal
SEASONS = "calendar.seasonality_by_month=[1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]"
"""Mean 1.25: October to December run at 2 / 1.25 = 1.6 times the average season."""


def test_seasonal_levels_rise_in_peak_months_by_the_seasonality_factor():
    """The US rule's s = 45 and S = 75 days of cover: on 1 October both windows lie in the
    peak months (x 1.6), on 1 March in the slow ones (x 0.8); the units rule (CABLE by air)
    keeps its levels."""
    scenario = load("tiny", "horizon.days=365", SEASONS, "policies.replenishment.1.seasonal=true")
    net = compile_network(scenario)
    w = net.warehouses.index("US_WH")
    rate = net.planning_units[w]
    seasonal = np.arange(net.n_skus) != net.skus.index("CABLE")
    for day, factor in ((273, 2 / 1.25), (59, 1 / 1.25)):
        low, high = net.policies.levels(w, day)
        assert low[seasonal] == pytest.approx(np.round(45 * rate * factor)[seasonal])
        assert high[seasonal] == pytest.approx(np.round(75 * rate * factor)[seasonal])
        assert low[~seasonal] == net.policies.reorder_point[w, ~seasonal]
    assert net.policies.reorder_point[w, seasonal] == pytest.approx(
        np.round(45 * rate)[seasonal])


def test_seasonal_levels_hold_more_stock_in_the_peak():
    base = load("tiny", "horizon.days=365", SEASONS)
    plain = simulate(base, seed=2).daily
    seasonal = simulate(base.model_copy(update={"policies": base.policies.model_copy(update={
        "replenishment": [r.model_copy(update={"seasonal": r.policy.unit == "days"})
                          for r in base.policies.replenishment]})}), seed=2).daily
    peak = plain["date"].dt.month >= 10
    assert seasonal["stock_US_WH"][peak].mean() > 1.2 * plain["stock_US_WH"][peak].mean()
    assert seasonal["lost_sales_units"][peak].sum() < plain["lost_sales_units"][peak].sum()


def test_seasonal_needs_days_of_cover():
    with pytest.raises(ScenarioError, match="seasonal levels are days of cover"):
        load("tiny", "policies.replenishment.2.seasonal=true")


# ----------------------------------------------------------------------------- turnover
def test_turnover_is_cogs_over_the_average_stock_value_a_year():
    """1,200 CNY of goods sold in 73 days over stock worth 50 and 150: 1200 x 5 / 100."""
    assert ageing.annual_turnover(1200.0, np.array([50.0, 150.0]), 73) == pytest.approx(60.0)
    assert ageing.annual_turnover(1200.0, np.array([0.0, 0.0]), 73) == 0.0


def test_the_run_reports_turnover_against_its_target():
    result = simulate(load("tiny", "ageing.turnover_target_per_year=8"), seed=1)
    daily, summary = result.daily, result.summary
    value = (daily["inventory_value_cny"] + daily["in_transit_value_cny"]).mean()
    cogs = summary["profit_and_loss_cny"]["cogs"]
    assert summary["inventory_turnover"] == pytest.approx(cogs * 365 / 60 / value)
    assert summary["inventory_turnover_vs_target"] == pytest.approx(
        summary["inventory_turnover"] / 8)


def test_stock_age_kpis_on_a_still_shelf():
    """1000 units received on day 0 and never sold: mean age (0 + .. + 219) / 220 = 109.5
    days; older than 180 days on 39 of the 220 days, 1000 x 39 / 220 on an average day."""
    result = still_run("warehouses.US_WH.initial_stock_days=0")
    assert result.summary["mean_stock_age_days"] == pytest.approx(109.5)
    assert result.summary["aged_stock_units"] == pytest.approx(1000 * 39 / 220)


# ----------------------------------------------------------------------------- balance
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(older=st.integers(0, 60), action=st.sampled_from(["hold", "liquidate", "dispose"]),
       day=st.integers(1, 28), fee=st.floats(0, 50), seasonal=st.booleans())
def test_units_and_money_balance_with_ageing_on(older, action, day, fee, seasonal):
    recovery = 0.4 if action == "liquidate" else 0.0
    scenario = load(
        "tiny", f"ageing.clearance=[{{date: 2026-01-{day:02d}, older_than_days: {older}, "
                f"action: {action}, recovery_fraction_of_cost: {recovery}, "
                f"fee_per_unit: 1.5}}]",
        f"ageing.surcharges={{US_WH: [{{from_days: 1, fee_per_m3_month: {fee}}}], "
        f"SZ: [{{from_days: 20, fee_per_m3_month: {fee}}}]}}",
        f"policies.replenishment.0.seasonal={str(seasonal).lower()}",
        f"policies.replenishment.1.seasonal={str(seasonal).lower()}")
    result = simulate(scenario, seed=day)
    assert result.conservation["units_residual"] == 0
    assert abs(result.conservation["money_residual_cny"]) < 1e-6
    if action == "hold":
        assert result.summary["cleared_units"] == 0
