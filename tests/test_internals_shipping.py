"""Bulk departures, container fill and carrier queues, against hand-computed cases.

The bulk cases run ``tests/data/clockwork.yaml`` (every time constant, nothing random) and
send shipments with a plan's shipment lines, which leave on the first day of their week at
the replenishment review, t = 7 (week - 1) + 0.9. A clockwork journey is then:

    created  c          (review time)
    ready    c + 1      (first mile: constant 1 day)
    departs  the first departure k * 7 / departures_per_week >= ready that has room
    customs  departs + 20 (transit), duty booked; clearance 2 days
    arrives  departs + 20 + 2 + 1 (final delivery: constant 1 day)

BOX is 0.01 m3 a unit (100 units = 1 m3) and costs 70 CNY; the US duty is 10 % of the
product value in USD at 7 CNY/USD. sea_fcl: 10,000 CNY a 30 m3 container, one sailing a week.
sea_lcl: 500 CNY/m3, one sailing every two weeks (departures_per_week 0.5 -> period 14 days),
25 m3 allocation per sailing. First-mile and final-delivery costs are zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load

from sim.model import simulate
from sim.plan import Plan, ShipmentLine
from sim.shipping import carrier_queue_wait


def ship(*lines: tuple[int, str, int]) -> Plan:
    """A plan that only sends bulk shipments: (week, mode, units) lines SZ -> US_WH."""
    return Plan(kind="peak", takes_over=[], scenario="clockwork", scenario_hash="-", weeks=6,
                objective_cny=0.0,
                shipments=[ShipmentLine(week=w, sku="BOX", origin="SZ", destination="US_WH",
                                        mode=mode, units=units) for w, mode, units in lines])


def bulk_rows(*lines: tuple[int, str, int], overrides: tuple[str, ...] = ()):
    result = simulate(load("clockwork", *overrides), seed=0, plan=ship(*lines))
    rows = result.shipments[result.shipments["kind"] == "bulk"]
    return rows.sort_values(["created_day", "mode"]).reset_index(drop=True), result


# ------------------------------------------------------------------ departures and containers
def test_a_shipment_waits_for_the_next_weekly_sailing():
    # 1000 units = 10 m3, week 1: created 0.9, ready 1.9, weekly sailings at 0, 7, 14 ...
    # -> departs 7.0; arrives 7 + 20 + 2 + 1 = 30.0.
    # Containers ceil(10 / 30) = 1 -> freight 10,000 CNY.
    # Duty: 10 % of 1000 x 70 CNY = 70,000 CNY = 10,000 USD -> 1,000 USD = 7,000 CNY.
    rows, _ = bulk_rows((1, "sea_fcl", 1000))
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["created_day"] == pytest.approx(0.9)
    assert row["departed_day"] == pytest.approx(7.0)
    assert row["arrived_day"] == pytest.approx(30.0)
    assert row["containers"] == 1
    assert row["freight_cny"] == pytest.approx(10_000.0)
    assert row["duty_cny"] == pytest.approx(7_000.0)
    assert row["units"] == 1000


def test_more_sailings_a_week_shorten_the_wait():
    # departures_per_week 2 -> a sailing every 3.5 days.
    # Week 1: ready 1.9 -> ceil(1.9 / 3.5) = 1 -> departs 3.5, arrives 3.5 + 23 = 26.5.
    # Week 2: created 7.9, ready 8.9 -> ceil(8.9 / 3.5) = 3 -> departs 10.5.
    rows, _ = bulk_rows((1, "sea_fcl", 100), (2, "sea_fcl", 100),
                        overrides=("modes.sea_fcl.departures_per_week=2",))
    assert rows["departed_day"].tolist() == pytest.approx([3.5, 10.5])
    assert rows["arrived_day"].tolist() == pytest.approx([26.5, 33.5])


@pytest.mark.parametrize(("units", "containers"), [
    (1, 1),        # 0.01 m3 still takes a whole container
    (2999, 1),     # 29.99 m3
    (3000, 1),     # exactly 30 m3: one container, not two (no floating-point spill-over)
    (3001, 2),     # 30.01 m3
    (3500, 2),     # 35 m3
    (9000, 3),     # 90 m3
])
def test_sea_fcl_charges_whole_containers(units, containers):
    # containers = ceil(units x 0.01 / 30); main leg = containers x 10,000 CNY.
    rows, _ = bulk_rows((1, "sea_fcl", units))
    assert rows.iloc[0]["containers"] == containers
    assert rows.iloc[0]["freight_cny"] == pytest.approx(10_000.0 * containers)


def test_lcl_is_charged_per_cubic_metre_without_containers():
    # 2000 units = 20 m3 x 500 CNY = 10,000 CNY; no container count.
    rows, _ = bulk_rows((1, "sea_lcl", 2000))
    assert rows.iloc[0]["containers"] == 0
    assert rows.iloc[0]["freight_cny"] == pytest.approx(10_000.0)


def test_a_load_waits_for_a_departure_it_fits():
    # sea_lcl sails at 0, 14, 28 ... with 25 m3 each.
    # Week 1: 2000 units = 20 m3, ready 1.9 -> sailing 14 (load 20).
    # Week 2: 1000 units = 10 m3, ready 8.9 -> sailing 14 has 5 m3 left -> sailing 28.
    # Freight: 20 x 500 = 10,000 and 10 x 500 = 5,000 CNY (booked at departure).
    rows, _ = bulk_rows((1, "sea_lcl", 2000), (2, "sea_lcl", 1000))
    assert rows["departed_day"].tolist() == pytest.approx([14.0, 28.0])
    assert rows["freight_cny"].tolist() == pytest.approx([10_000.0, 5_000.0])
    # The first arrives 14 + 23 = 37 inside the 42 days; the second (28 + 23 = 51) is
    # still at sea at the end: recorded with no arrival and nothing delivered yet.
    assert rows["arrived_day"].iloc[0] == pytest.approx(37.0)
    assert np.isnan(rows["arrived_day"].iloc[1])
    assert rows["units"].tolist() == [2000, 0]
    assert rows["ordered_units"].tolist() == [2000, 1000]


def test_two_loads_that_fit_together_share_a_departure():
    # 1200 units (12 m3) + 1300 units (13 m3) = 25 m3: exactly the allocation.
    rows, _ = bulk_rows((1, "sea_lcl", 1200), (2, "sea_lcl", 1300))
    assert rows["departed_day"].tolist() == pytest.approx([14.0, 14.0])


def test_a_load_larger_than_an_allocation_takes_the_first_empty_departure():
    # 3000 units = 30 m3 > 25 m3: it could never fit, so it takes the first empty uncut
    # sailing (14) whole; a 10 m3 load in week 2 then finds sailing 14 full -> 28.
    rows, _ = bulk_rows((1, "sea_lcl", 3000), (2, "sea_lcl", 1000))
    assert rows["departed_day"].tolist() == pytest.approx([14.0, 28.0])


def test_a_capacity_cut_makes_a_load_wait_for_an_uncut_departure():
    # A crunch halves sea_lcl from 2026-01-19 (day 14) for 7 days: sailing 14 offers
    # 25 x 0.5 = 12.5 m3. A 20 m3 load (not oversize: 20 <= 25) waits for sailing 28.
    # A 10 m3 load fits the cut sailing and still leaves at 14.
    cut = "modes.sea_lcl.capacity_cuts=[{start: 2026-01-19, days: 7, capacity_factor: 0.5}]"
    rows, _ = bulk_rows((1, "sea_lcl", 2000), overrides=(cut,))
    assert rows["departed_day"].tolist() == pytest.approx([28.0])
    rows, _ = bulk_rows((1, "sea_lcl", 1000), overrides=(cut,))
    assert rows["departed_day"].tolist() == pytest.approx([14.0])


# A closure of a mode with no per-sailing allocation computes inf x 0 (a NaN limit that no
# load fits): the right outcome, with a numpy RuntimeWarning on the way.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_closed_sailing_is_skipped_and_a_partial_cut_of_an_unlimited_mode_is_not():
    # sea_fcl has no capacity_per_departure_m3 (unlimited sailings). Closed (factor 0) on
    # 2026-01-12 (day 7): the week-1 load ready at 1.9 skips sailing 7 and departs at 14,
    # arriving 14 + 23 = 37. Halved instead: half of unlimited is unlimited -> sails at 7.
    closed = "modes.sea_fcl.capacity_cuts=[{start: 2026-01-12, days: 1, capacity_factor: 0}]"
    rows, _ = bulk_rows((1, "sea_fcl", 1000), overrides=(closed,))
    assert rows["departed_day"].tolist() == pytest.approx([14.0])
    assert rows["arrived_day"].tolist() == pytest.approx([37.0])
    halved = closed.replace("capacity_factor: 0}", "capacity_factor: 0.5}")
    rows, _ = bulk_rows((1, "sea_fcl", 1000), overrides=(halved,))
    assert rows["departed_day"].tolist() == pytest.approx([7.0])


def test_a_disruption_cuts_departure_capacity_and_adds_transit():
    # Port congestion on sea_lcl over days 10..19 (2026-01-15, 10 days): capacity x 0.4 ->
    # sailing 14 offers 10 m3. 1000 units (10 m3) fit and depart at 14; transit 20 + 3 extra
    # days -> customs at 37, clearance 2, final delivery 1 -> arrives 40.
    # 1100 units (11 m3) do not fit -> sailing 28 (outside the disruption).
    disruption = ("disruptions=[{name: congestion, modes: [sea_lcl], start: 2026-01-15, "
                  "days: 10, capacity_factor: 0.4, "
                  "extra_transit_days: {dist: constant, value: 3}}]")
    rows, _ = bulk_rows((1, "sea_lcl", 1000), overrides=(disruption,))
    assert rows["departed_day"].tolist() == pytest.approx([14.0])
    assert rows["arrived_day"].tolist() == pytest.approx([40.0])
    rows, _ = bulk_rows((1, "sea_lcl", 1100), overrides=(disruption,))
    assert rows["departed_day"].tolist() == pytest.approx([28.0])


def test_a_peak_surcharge_raises_the_main_leg_on_the_departure_day():
    # A 50 % surcharge on sea_fcl over days 5..9 (2026-01-10, 5 days) covers the sailing at
    # day 7: one container costs 10,000 x 1.5 = 15,000 CNY. A week-2 shipment departs at
    # 14, after the window: 10,000 CNY.
    surcharge = "modes.sea_fcl.surcharges=[{start: 2026-01-10, days: 5, rate: 0.5}]"
    rows, result = bulk_rows((1, "sea_fcl", 100), (2, "sea_fcl", 100),
                             overrides=(surcharge,))
    assert rows["departed_day"].tolist() == pytest.approx([7.0, 14.0])
    assert rows["freight_cny"].tolist() == pytest.approx([15_000.0, 10_000.0])
    freight = result.ledger[result.ledger["category"] == "inbound_freight"]
    by_day = freight.groupby("accrual_day")["amount_cny"].sum()
    assert by_day[by_day != 0].to_dict() == pytest.approx({7: -15_000.0, 14: -10_000.0})


def test_arrived_stock_and_landed_value_reach_the_warehouse():
    # 1000 units depart day 7, arrive day 30.0: stock_US_WH is 1000 at the end of day 30,
    # less the 10 orders a day the warehouse then ships (day 30 itself: the shipment lands
    # at 30.0, before the day's dispatch at 30.5): 1000 - 10 x (t - 29) for t >= 30.
    # Landed value per unit: 70 + 10,000 / 1000 + 7,000 / 1000 = 87 CNY.
    rows, result = bulk_rows((1, "sea_fcl", 1000))
    daily = result.daily.set_index("day")
    assert (daily.loc[:29, "stock_US_WH"] == 0).all()
    assert daily.loc[30:, "stock_US_WH"].tolist() == [1000 - 10 * (t - 29) for t in
                                                      range(30, 42)]
    assert daily.loc[29, "in_transit_units"] == 1000
    assert daily.loc[30, "in_transit_units"] == 0
    sold = result.orders
    assert (sold["order_day"] >= 30).all()
    landed = (sold["product_cost_cny"] + sold["inbound_freight_cny"]
              + sold["import_duty_cny"]) / sold["units"]
    assert landed.to_numpy() == pytest.approx(87.0)


# ------------------------------------------------------------------ carrier queues
INF = np.inf


def test_carrier_queue_parcels_within_todays_capacity_do_not_wait():
    # One mode, 10 units a day, nothing queued: three 3-unit parcels have 0, 3, 6 units
    # ahead, all below the 10 of today -> wait 0; nothing left for tomorrow.
    wait, left = carrier_queue_wait(np.array([3, 3, 3]), np.array([0, 0, 0]),
                                    np.array([0.0]), np.full((1, 5), 10.0))
    assert wait.tolist() == [0, 0, 0]
    assert left.tolist() == [0.0]


def test_carrier_queue_waits_and_carried_over_queue():
    # Capacity 10 a day, 5 units queued from yesterday, five 4-unit parcels.
    # Units ahead of each: 5, 9, 13, 17, 21. Cumulative capacity 10, 20, 30 ...
    # A parcel waits for the first day whose cumulative capacity exceeds its place:
    #   5 -> day 0, 9 -> day 0, 13 -> day 1, 17 -> day 1, 21 -> day 2.
    # Left for tomorrow: 5 + 20 - 10 = 15.
    wait, left = carrier_queue_wait(np.array([4, 4, 4, 4, 4]), np.zeros(5, dtype=int),
                                    np.array([5.0]), np.full((1, 10), 10.0))
    assert wait.tolist() == [0, 0, 1, 1, 2]
    assert left.tolist() == [15.0]


def test_carrier_queue_follows_a_capacity_crunch_day_by_day():
    # Capacity by day 10, 0 (a full cut), 5, 10 ...; cumulative 10, 10, 15, 25, 35.
    # Six 3-unit parcels, nothing queued: ahead 0, 3, 6, 9, 12, 15.
    #   0, 3, 6, 9 < 10 -> day 0; 12 -> first cumulative > 12 is 15 (day 2);
    #   15 -> first cumulative > 15 is 25 (day 3).
    # Left: 18 - 10 = 8.
    capacity = np.array([[10.0, 0.0, 5.0, 10.0, 10.0, 10.0]])
    wait, left = carrier_queue_wait(np.full(6, 3), np.zeros(6, dtype=int), np.array([0.0]),
                                    capacity)
    assert wait.tolist() == [0, 0, 0, 0, 2, 3]
    assert left.tolist() == [8.0]


def test_carrier_queue_modes_are_independent_and_unlimited_modes_never_wait():
    # Mode 0: unlimited (inf) -> no wait, no queue, even with 50 units in a day.
    # Mode 1: 4 a day, 2 queued; parcels (in order) of 3 and 2 units: ahead 2 and 5
    #   -> day 0 (2 < 4) and day 1 (4 <= 5 < 8). Left: 2 + 5 - 4 = 3.
    # Mode 2: 6 a day, 9 queued, no parcels today: the queue drains by a day -> 3.
    units = np.array([50, 3, 2])
    mode = np.array([0, 1, 1])
    capacity = np.array([[INF] * 4, [4.0] * 4, [6.0] * 4])
    wait, left = carrier_queue_wait(units, mode, np.array([0.0, 2.0, 9.0]), capacity)
    assert wait.tolist() == [0, 0, 1]
    assert left.tolist() == [0.0, 3.0, 3.0]


def test_carrier_queue_a_queue_longer_than_today_pushes_every_parcel_out():
    # 25 queued, capacity 10 a day: the first new parcel (ahead 25) goes on day 2
    # (cumulative 10, 20, 30: 30 > 25); a 10-unit parcel then has 26 ahead -> day 2, the
    # next (36 ahead) -> day 3. Left: 25 + 12 - 10 = 27.
    wait, left = carrier_queue_wait(np.array([1, 10, 1]), np.zeros(3, dtype=int),
                                    np.array([25.0]), np.full((1, 6), 10.0))
    assert wait.tolist() == [2, 2, 3]
    assert left.tolist() == [27.0]


def test_a_parcel_carrier_queue_in_a_run():
    # Direct postal parcels from SZ, postal limited to 8 units a day, 10 single-unit orders
    # a day (processing 0, so a parcel ships on day t + wait). On day t the queue holds 2t
    # units (10 in, 8 out each day), so today's orders have 2t .. 2t + 9 units ahead and
    # wait floor(ahead / 8) days:
    #   day 0: ahead 0..9   -> 8 ship on day 0, 2 on day 1;
    #   day 1: ahead 2..11  -> 6 on day 1, 4 on day 2;
    #   day 2: ahead 4..13  -> 4 on day 2, 6 on day 3.
    # Carrier queue at each day's end: 2 (t + 1).
    result = simulate(load("clockwork", "policies.fulfilment.US.route=direct",
                           "policies.fulfilment.US.warehouse=SZ",
                           "policies.fulfilment.US.mode=postal",
                           "modes.postal.capacity_units_per_day=8"), seed=0, days=10)
    orders = result.orders
    for day, expected in {0: {0: 8, 1: 2}, 1: {1: 6, 2: 4}, 2: {2: 4, 3: 6}}.items():
        today = orders[orders["order_day"] == day]
        assert today["ship_day"].value_counts().to_dict() == expected
    assert result.daily["carrier_queue_units"].tolist() == [2.0 * (t + 1) for t in range(10)]
    # Delivery days = 0.5 (noon order) -> ship at t + 0.5 + wait; transit 8 -> wait + 8.
    day0 = orders[orders["order_day"] == 0]
    assert sorted(day0["delivery_days"]) == [8.0] * 8 + [9.0] * 2
