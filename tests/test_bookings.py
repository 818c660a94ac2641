"""The booking list: dates, whole units and containers a planner can act on."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from optimize.bookings import booking_list
from optimize.channels import optimize_channels
from tests.conftest import load


def test_bookings_by_hand():
    lines = pd.DataFrame({
        "week": [3, 3, 5], "sku": ["TEE", "LAMP", "TEE"], "origin": "SZ",
        "destination": "US_WH", "mode": ["sea_fcl", "sea_fcl", "air"],
        "units": [10.5, 0.4, 99.49], "mean_days": [30.4, 30.4, 9.6]})
    table = booking_list(lines, {("SZ", "US_WH", "sea_fcl", 3): 2.0},
                         dt.date(2026, 1, 5), lead_days=14)
    # Week 3 starts 5 Jan + 14 days = 19 Jan; booked 14 days before: 5 Jan; at sea 30 days.
    assert table.to_dict("records") == [
        {"sku": "TEE", "origin": "SZ", "destination": "US_WH", "mode": "sea_fcl",
         "departure_week": 3, "book_by": dt.date(2026, 1, 5), "departs": dt.date(2026, 1, 19),
         "units": 11, "lane_containers": 2, "expected_arrival": dt.date(2026, 2, 18)},
        {"sku": "TEE", "origin": "SZ", "destination": "US_WH", "mode": "air",
         "departure_week": 5, "book_by": dt.date(2026, 1, 19), "departs": dt.date(2026, 2, 2),
         "units": 99, "lane_containers": 0, "expected_arrival": dt.date(2026, 2, 12)},
    ]  # LAMP's 0.4 units round to nothing and are left out


def test_a_channel_plan_books_every_shipment_line_in_whole_units():
    scenario = load("tiny", "horizon.days=63")
    outcome = optimize_channels(scenario)
    bookings, plan = outcome.tables["bookings"], outcome.plan
    planned = pd.DataFrame([line.model_dump() for line in plan.shipments])
    assert len(bookings) > 0
    assert bookings["units"].dtype.kind == "i"
    assert bookings["units"].sum() == sum(int(u + 0.5) for u in planned["units"])
    assert set(bookings["departure_week"]) == set(planned["week"])
    assert (bookings["book_by"] == bookings["departs"]
            - pd.Timedelta(days=scenario.planning.booking_lead_days)).all()
    assert (bookings["expected_arrival"] > bookings["departs"]).all()
    boxes = sum(plan.containers.values())
    lanes = bookings.drop_duplicates(["origin", "destination", "mode", "departure_week"])
    assert lanes["lane_containers"].sum() == boxes
