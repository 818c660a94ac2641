"""The day-indexed calendar (Timeline.build): surcharges, capacity cuts, disruptions, peaks
and seasonality, and what a surcharge or a capacity cut does to parcels in a run.

Scenario: ``tests/data/clockwork.yaml``; day 0 is Monday 2026-01-05, so 2026-01-10 is day
5, 2026-02-01 is day 27. Modes in file order: sea_fcl 0, sea_lcl 1, postal 2, us_last_mile 3.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import load

from sim.calendar import Timeline, day_of, window_mask
from sim.model import simulate

MODES = ["sea_fcl", "sea_lcl", "postal", "us_last_mile"]
DIRECT_POSTAL = ("policies.fulfilment.US.route=direct", "policies.fulfilment.US.warehouse=SZ",
                 "policies.fulfilment.US.mode=postal")


def timeline(*overrides: str) -> Timeline:
    scenario = load("clockwork", *overrides)
    return Timeline.build(scenario, list(scenario.markets), list(scenario.modes))


def test_window_mask_days_and_clipping():
    scenario = load("clockwork", "calendar.chinese_new_year={start: 2026-01-10, days: 3}")
    window = scenario.calendar.chinese_new_year  # any Window (start, days) will do

    def span(start: dt.date, days: int):
        return window.model_copy(update={"start": start, "days": days})

    assert day_of(scenario, dt.date(2026, 1, 10)) == 5
    mask = window_mask(scenario, span(start=dt.date(2026, 1, 10), days=3), 20)
    assert np.flatnonzero(mask).tolist() == [5, 6, 7]
    # A window that began before day 0 keeps only its days inside the array: 2026-01-02 is
    # day -3, 5 days -> days -3 .. 1 -> 0, 1.
    mask = window_mask(scenario, span(start=dt.date(2026, 1, 2), days=5), 20)
    assert np.flatnonzero(mask).tolist() == [0, 1]
    # One ending past the array is clipped: day 18 + 5 -> 18, 19.
    mask = window_mask(scenario, span(start=dt.date(2026, 1, 23), days=5), 20)
    assert np.flatnonzero(mask).tolist() == [18, 19]


def test_surcharges_are_added_inside_their_windows_only():
    # postal: +0.2 on days 5, 6, 7 (2026-01-10, 3 days) and +0.1 on days 6 .. 10
    # (2026-01-11, 5 days): 0 | 0.2 | 0.3 | 0.3 | 0.1 | 0.1 | 0.1 | 0 ...
    t = timeline("modes.postal.surcharges=[{start: 2026-01-10, days: 3, rate: 0.2}, "
                 "{start: 2026-01-11, days: 5, rate: 0.1}]")
    expected = np.zeros(t.n_days)
    expected[5] = 0.2
    expected[6:8] = 0.3
    expected[8:11] = 0.1
    assert t.surcharge.shape == (len(MODES), t.n_days)
    assert t.surcharge[2] == pytest.approx(expected)
    # Other modes are untouched, and no capacity changes with a surcharge.
    assert not t.surcharge[[0, 1, 3]].any()
    assert (t.capacity == 1.0).all()


def test_capacity_cuts_multiply_and_disruptions_cut_capacity_too():
    # sea_lcl cuts: x0.5 on days 7 .. 20 (2026-01-12, 14 days) and x0.5 on days 14 .. 20
    # (2026-01-19, 7 days); a disruption x0.8 on days 11 .. 15 (2026-01-16, 5 days):
    #   days  0 .. 6  : 1
    #   days  7 .. 10 : 0.5
    #   days 11 .. 13 : 0.5 x 0.8        = 0.4
    #   days 14 .. 15 : 0.5 x 0.5 x 0.8  = 0.2
    #   days 16 .. 20 : 0.5 x 0.5        = 0.25
    #   days 21 ..    : 1
    t = timeline(
        "modes.sea_lcl.capacity_cuts=[{start: 2026-01-12, days: 14, capacity_factor: 0.5}, "
        "{start: 2026-01-19, days: 7, capacity_factor: 0.5}]",
        "disruptions=[{name: strike, modes: [sea_lcl, postal], start: 2026-01-16, days: 5, "
        "capacity_factor: 0.8, extra_transit_days: {dist: constant, value: 4}}]")
    expected = np.ones(t.n_days)
    expected[7:11] = 0.5
    expected[11:14] = 0.4
    expected[14:16] = 0.2
    expected[16:21] = 0.25
    assert t.capacity[1] == pytest.approx(expected)
    # The disruption alone hits postal: 0.8 on days 11 .. 15.
    postal = np.ones(t.n_days)
    postal[11:16] = 0.8
    assert t.capacity[2] == pytest.approx(postal)
    assert (t.capacity[[0, 3]] == 1.0).all()
    assert not t.surcharge.any()
    # One (mode, days, extra transit) entry per disrupted mode.
    assert [k for k, _, _ in t.disruption] == [1, 2]
    for _, mask, dist in t.disruption:
        assert np.flatnonzero(mask).tolist() == [11, 12, 13, 14, 15]
        assert dist.mean() == 4.0


def test_peaks_multiply_per_market_and_seasonality_follows_the_month():
    # Two overlapping peaks for US: x2 on days 5 .. 8, x1.5 on days 7 .. 9 -> 3 on 7, 8.
    # (b names its market explicitly; a names none, so it covers every market.)
    # Seasonality 1 in January, 2 in February: 2026-01-31 is day 26, 2026-02-01 day 27.
    t = timeline(
        "calendar.peak_events=[{name: a, start: 2026-01-10, days: 4, demand_multiplier: 2}, "
        "{name: b, start: 2026-01-12, days: 3, demand_multiplier: 1.5, markets: [US]}]",
        "calendar.seasonality_by_month=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]")
    expected = np.ones(t.n_days)
    expected[5:7] = 2.0
    expected[7:9] = 3.0
    expected[9] = 1.5
    assert t.peak.shape == (1, t.n_days)
    assert t.peak[0] == pytest.approx(expected)
    assert t.seasonality[26] == 1.0 and t.seasonality[27] == 2.0
    assert t.seasonality[27 + 28] == 3.0  # 2026-03-01
    assert t.weekday[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]  # Monday first


def test_the_calendar_runs_past_the_horizon():
    t = timeline()
    assert t.n_days > load("clockwork").horizon.days
    assert t.day(np.array([-1.0, 0.4, 3.99, 1e9])).tolist() == [0, 0, 3, t.n_days - 1]


def test_a_surcharge_raises_parcel_freight_booked_on_its_days():
    # Direct postal parcels, 10 single-unit orders a day, unlimited postal capacity and no
    # processing: each parcel ships on its order day.
    # Freight per parcel = 10 + 5 CNY/kg x max(2 kg, 0.01 m3 x 0) = 20 CNY -> 200 CNY/day.
    # Surcharges: +25 % on days 5 .. 7, +50 % more on day 6:
    #   days 5, 7: 200 x 1.25 = 250;  day 6: 200 x 1.75 = 350;  other days 200.
    scenario = load("clockwork", *DIRECT_POSTAL,
                    "modes.postal.surcharges=[{start: 2026-01-10, days: 3, rate: 0.25}, "
                    "{start: 2026-01-11, days: 1, rate: 0.5}]")
    result = simulate(scenario, seed=0, days=14)
    freight = result.ledger[result.ledger["category"] == "parcel_freight"]
    by_day = -freight.groupby("accrual_day")["amount_cny"].sum()
    expected = {d: 200.0 for d in range(14)}
    expected.update({5: 250.0, 6: 350.0, 7: 250.0})
    assert by_day.to_dict() == pytest.approx(expected)
    # Paid on the ship day (cash day = accrual day) and on each order's line.
    assert (freight["cash_day"] == freight["accrual_day"]).all()
    per_order = result.orders.groupby("order_day")["outbound_freight_cny"].unique()
    assert per_order[4].tolist() == pytest.approx([20.0])
    assert per_order[6].tolist() == pytest.approx([35.0])
    # The same run without the surcharge pays 14 x 200.
    plain = simulate(load("clockwork", *DIRECT_POSTAL), seed=0, days=14)
    assert plain.summary["profit_and_loss_cny"]["parcel_freight"] == pytest.approx(-2800.0)
    assert result.summary["profit_and_loss_cny"]["parcel_freight"] == pytest.approx(
        -2800.0 - (50.0 + 150.0 + 50.0))


def test_a_full_parcel_capacity_cut_holds_the_days_parcels_to_the_next_day():
    # postal 100 units a day, cut to 0 on day 3 (2026-01-08). Day 3's 10 parcels find
    # cumulative capacity 0, 100, ... -> all wait one day and ship on day 4, leaving a queue
    # of 10 at day 3's end; day 4 ships them and its own 10 (20 <= 100): queue 0 again.
    scenario = load("clockwork", *DIRECT_POSTAL, "modes.postal.capacity_units_per_day=100",
                    "modes.postal.capacity_cuts=[{start: 2026-01-08, days: 1, "
                    "capacity_factor: 0}]")
    result = simulate(scenario, seed=0, days=7)
    ship_day = result.orders.groupby("order_day")["ship_day"].unique()
    assert {d: v.tolist() for d, v in ship_day.items()} == {
        0: [0], 1: [1], 2: [2], 3: [4], 4: [4], 5: [5], 6: [6]}
    assert result.daily["carrier_queue_units"].tolist() == [0, 0, 0, 10, 0, 0, 0]
    late = result.orders[result.orders["order_day"] == 3]
    assert late["delivery_days"].to_numpy() == pytest.approx(9.0)  # 1 day wait + 8 transit
