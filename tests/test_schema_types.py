"""The schema states its rules in its types: origin against overseas warehouses, bulk
against parcel against last-mile modes; an error names the file's own dotted path."""

from __future__ import annotations

import pytest

from sim.loader import ScenarioError
from sim.scenario import BulkMode, LastMileMode, OriginWarehouse, OverseasWarehouse, ParcelMode
from tests.conftest import load


def test_each_kind_and_family_is_its_own_type():
    sc = load("tiny")
    assert isinstance(sc.warehouses["SZ"], OriginWarehouse)
    assert isinstance(sc.warehouses["US_WH"], OverseasWarehouse)
    assert isinstance(sc.modes["sea_fcl"], BulkMode)
    assert isinstance(sc.modes["postal"], ParcelMode)
    assert isinstance(sc.modes["us_last_mile"], LastMileMode)


@pytest.mark.parametrize(("override", "message"), [
    ("modes.postal.departures_per_week=3",
     "modes.postal.departures_per_week: unknown key for parcel entries"),
    ("modes.sea_fcl.capacity_units_per_day=5",
     "modes.sea_fcl.capacity_units_per_day: unknown key for bulk entries"),
    ("modes.air.departures_per_week=null",
     "modes.air.departures_per_week: Input should be a valid number"),
    ("warehouses.SZ.market=US", "warehouses.SZ.market: not allowed for origin entries"),
    ("warehouses.US_WH.market=null",
     "warehouses.US_WH.market: Input should be a valid string"),
    ("modes.postal.transit_days={dist: lognormal, mean: 5, cv: 0.2, low: 1}",
     "modes.postal.transit_days.low: unknown key for lognormal entries"),
])
def test_a_field_of_another_kind_is_refused_at_its_path(override, message):
    with pytest.raises(ScenarioError) as error:
        load("tiny", override)
    assert str(error.value).endswith(message)
    assert "\n" not in str(error.value)


def test_a_warehouse_named_like_a_kind_keeps_its_path():
    """Union tags are dropped from pydantic's path by reading the document, not by name: a
    warehouse called 'overseas' stays in the path."""
    with pytest.raises(ScenarioError) as error:
        load("tiny", "warehouses.overseas={kind: overseas, currency: USD, "
                     "inbound_fee_per_unit: 0, storage_fee_per_m3_day: 0, "
                     "pick_pack_fee_per_order: 0, initial_stock_days: 0}")
    assert str(error.value).endswith("warehouses.overseas.market: required key is missing")
