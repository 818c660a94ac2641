"""Supplier shutdowns and Chinese New Year: the shutdown calendar of each supplier, lead
times pushed past shutdowns, and purchase orders in a run that arrive later by the shutdown.

Run cases use ``tests/data/clockwork.yaml`` (day 0 = 2026-01-05) with the origin warehouse
emptied and a base-stock rule of 500 units at SZ, reviewed daily: the first review (day 0
at 0.9) orders 500 BOX; from then on the inventory position stays 500 (US orders ship from
the empty US_WH, never from SZ), so exactly one purchase order is placed, at t = 0.9.
FACTORY: constant 10-day lead time, always on time, whole deliveries, no defects, pays
30 days after delivery, observes Chinese New Year.
"""

from __future__ import annotations

import pytest
from conftest import load

from sim.calendar import push_past_shutdowns, shutdown_windows
from sim.model import simulate

ONE_ORDER = ("warehouses.SZ.initial_stock_days=0", "policies.replenishment.0.policy.level=500")
CNY = "calendar.chinese_new_year={start: 2026-01-10, days: 14}"  # days 5 .. 19


# ------------------------------------------------------------------ push_past_shutdowns
@pytest.mark.parametrize(("start", "duration", "shutdowns", "end"), [
    # No shutdowns: start + duration.
    (0.9, 10.0, [], 10.9),
    # Shutdown after the work ends, or ending before it starts: no effect.
    (0.0, 5.0, [(5.0, 19.0)], 5.0),
    (20.0, 3.0, [(5.0, 19.0)], 23.0),
    (19.0, 3.0, [(5.0, 19.0)], 22.0),
    # Work spans the shutdown: 0.9 .. 5 is 4.1 days, the remaining 5.9 from 19 -> 24.9.
    (0.9, 10.0, [(5.0, 19.0)], 24.9),
    # Work begins inside the shutdown: it starts when the factory reopens at 13 -> 23.
    (0.9, 10.0, [(-1.0, 13.0)], 23.0),
    # Two separate shutdowns: 0 .. 5 (5 days), 19 .. 20 (1), 25 .. 29 (4) -> 29.
    (0.0, 10.0, [(5.0, 19.0), (20.0, 25.0)], 29.0),
    # A shutdown the first push runs into: 0 .. 5 (5), then 19 .. 24 (5) -> 24; the second
    # shutdown (30, 31) is beyond it.
    (0.0, 10.0, [(5.0, 19.0), (30.0, 31.0)], 24.0),
    # Zero duration, ready at once.
    (3.0, 0.0, [(5.0, 19.0)], 3.0),
])
def test_push_past_shutdowns(start, duration, shutdowns, end):
    assert push_past_shutdowns(start, duration, shutdowns) == pytest.approx(end)


@pytest.mark.parametrize(("shutdowns", "end"), [
    # A supplier holiday (10, 22) overlapping Chinese New Year (5, 19): the factory is shut
    # 5 .. 22. 10 working days from 0: 0 .. 5 (5 days) and 22 .. 27 (5 days) -> 27.
    ([(5.0, 19.0), (10.0, 22.0)], 27.0),
    # A window nested inside another: shut 5 .. 19 -> 24 (not 28).
    ([(5.0, 19.0), (8.0, 12.0)], 24.0),
])
def test_overlapping_shutdowns_count_once(shutdowns, end):
    assert push_past_shutdowns(0.0, 10.0, shutdowns) == pytest.approx(end)


# ------------------------------------------------------------------ shutdown_windows
def test_chinese_new_year_closes_only_suppliers_that_observe_it():
    # CNY 2026-01-10 (day 5) for 14 days -> (5, 19); the supplier's own holiday
    # 2026-01-07 (day 2) for 2 days -> (2, 4). Sorted by start.
    own = "suppliers.FACTORY.shutdowns=[{start: 2026-01-07, days: 2}]"
    assert shutdown_windows(load("clockwork", CNY, own), "FACTORY") == [(2.0, 4.0),
                                                                         (5.0, 19.0)]
    assert shutdown_windows(load("clockwork", CNY, own,
                                 "suppliers.FACTORY.observes_chinese_new_year=false"),
                            "FACTORY") == [(2.0, 4.0)]
    # No Chinese New Year in the calendar: only the supplier's own windows.
    assert shutdown_windows(load("clockwork", own), "FACTORY") == [(2.0, 4.0)]
    assert shutdown_windows(load("clockwork"), "FACTORY") == []


def test_shutdown_windows_before_the_horizon_are_negative_days():
    # CNY from 2025-12-29 (day -7) for 10 days -> (-7, 3).
    scenario = load("clockwork", "calendar.chinese_new_year={start: 2025-12-29, days: 10}")
    assert shutdown_windows(scenario, "FACTORY") == [(-7.0, 3.0)]


# ------------------------------------------------------------------ purchase orders in a run
def purchase_orders(*overrides: str):
    result = simulate(load("clockwork", *ONE_ORDER, *overrides), seed=0)
    return result.shipments[result.shipments["kind"] == "purchase_order"], result


def test_a_purchase_order_without_shutdowns_takes_its_lead_time():
    # Placed 0.9, lead time 10 -> 10.9. Invoice 500 x 70 = 35,000 CNY accrued on the
    # delivery day 10, paid 30 days later (day 40).
    po, result = purchase_orders()
    assert len(po) == 1
    row = po.iloc[0]
    assert row["created_day"] == pytest.approx(0.9)
    assert row["arrived_day"] == pytest.approx(10.9)
    assert row["ordered_units"] == row["units"] == 500
    purchase = result.ledger[result.ledger["category"] == "purchase"]
    assert purchase[["accrual_day", "cash_day"]].values.tolist() == [[10, 40]]
    assert purchase["amount_cny"].sum() == pytest.approx(-35_000.0)
    daily = result.daily.set_index("day")
    assert daily.loc[9, "stock_SZ"] == 0 and daily.loc[10, "stock_SZ"] == 500
    assert daily.loc[9, "on_order_units"] == 500 and daily.loc[10, "on_order_units"] == 0


def test_a_purchase_order_placed_before_chinese_new_year_arrives_later_by_the_shutdown():
    # CNY days 5 .. 19 (14 days) falls inside the 0.9 .. 10.9 lead time: 10.9 + 14 = 24.9.
    po, result = purchase_orders(CNY)
    assert po["arrived_day"].tolist() == pytest.approx([24.9])
    purchase = result.ledger[result.ledger["category"] == "purchase"]
    assert purchase[["accrual_day", "cash_day"]].values.tolist() == [[24, 54]]
    # A supplier that works through the holiday delivers on time.
    po, _ = purchase_orders(CNY, "suppliers.FACTORY.observes_chinese_new_year=false")
    assert po["arrived_day"].tolist() == pytest.approx([10.9])


def test_a_purchase_order_placed_during_the_shutdown_starts_when_it_ends():
    # CNY from 2025-12-29 (day -7) for 20 days: shut until day 13; 13 + 10 = 23.
    po, _ = purchase_orders("calendar.chinese_new_year={start: 2025-12-29, days: 20}")
    assert po["arrived_day"].tolist() == pytest.approx([23.0])


def test_a_supplier_holiday_delays_like_chinese_new_year():
    # Own shutdown 2026-01-07 (day 2) for 3 days: 10.9 + 3 = 13.9.
    po, _ = purchase_orders("suppliers.FACTORY.shutdowns=[{start: 2026-01-07, days: 3}]")
    assert po["arrived_day"].tolist() == pytest.approx([13.9])


def test_a_shutdown_after_the_goods_are_ready_changes_nothing():
    # CNY from 2026-01-17 (day 12): the order is ready at 10.9, before it.
    po, _ = purchase_orders("calendar.chinese_new_year={start: 2026-01-17, days: 14}")
    assert po["arrived_day"].tolist() == pytest.approx([10.9])


def test_production_capacity_stretches_across_the_shutdown():
    # 50 units a day: 500 units take 10 production days. Lead time 2 alone would give 2.9
    # (before CNY), but production runs 0.9 .. 5 (4.1 days) and 19 .. 24.9 (5.9 days):
    # ready at max(2.9, 24.9) = 24.9. Without the shutdown: max(2.9, 10.9) = 10.9.
    slow = ("suppliers.FACTORY.capacity_units_per_day=50",
            "suppliers.FACTORY.lead_time_days={dist: constant, value: 2}")
    po, _ = purchase_orders(*slow)
    assert po["arrived_day"].tolist() == pytest.approx([10.9])
    po, _ = purchase_orders(*slow, CNY)
    assert po["arrived_day"].tolist() == pytest.approx([24.9])


def test_a_supplier_holiday_overlapping_chinese_new_year_delays_only_by_their_union():
    # CNY days 5 .. 19 and a factory holiday 2026-01-15 (day 10) for 12 days -> 10 .. 22:
    # the factory is shut 5 .. 22. 10 lead-time days from 0.9: 0.9 .. 5 (4.1 days), then
    # 22 .. 27.9 (5.9 days) -> 27.9.
    po, _ = purchase_orders(CNY, "suppliers.FACTORY.shutdowns=[{start: 2026-01-15, days: 12}]")
    assert po["arrived_day"].tolist() == pytest.approx([27.9])
