"""Warehouse work (pick/pack capacity, labour) and exceptions (reship, insurance,
undeliverable parcels, account health): each moves what it should, by the size a hand
calculation gives; neutral settings change nothing; units and money still balance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.account_health import AccountHealth
from sim.model import simulate
from sim.network import compile_network
from sim.scenario import AccountHealth as AccountHealthSpec
from sim.scenario import Defects
from tests.conftest import load

CAPACITY = 130
"""US_WH's units a day in the tests: above tiny's ~95-unit US day, below its flash sale's
~200 (days 19-21)."""


def us_units_by_day(result) -> np.ndarray:
    """Units of US orders per order day: tiny's US is lost-sales with no fallback, so every
    US order joins US_WH's packing line on the day it is placed."""
    orders = result.orders[result.orders["warehouse"] == "US_WH"]
    per_day = orders.groupby("order_day")["units"].sum()
    return per_day.reindex(range(result.scenario.horizon.days), fill_value=0).to_numpy()


def test_backlog_builds_at_the_peak_and_clears_at_the_stated_rate():
    result = simulate(load("tiny", f"warehouses.US_WH.picking={{units_per_day: {CAPACITY}}}"),
                      seed=0)
    arrivals = us_units_by_day(result)
    queue = result.daily["pick_queue_US_WH"].to_numpy()
    # Hand calculation: the line carries what today's capacity leaves,
    # q_t = max(0, q_{t-1} + a_t - C); with no arrivals a burst N is max(0, N - C d) after d.
    expected, q = [], 0.0
    for a in arrivals:
        q = max(0.0, q + a - CAPACITY)
        expected.append(q)
    np.testing.assert_allclose(queue, expected)
    assert queue[:19].max() == 0 and queue[21] > 150          # built by the flash sale
    cleared = 21 + int(np.argmax(queue[21:] == 0))
    assert queue[cleared] == 0 and cleared - 21 <= 10         # and gone at C - a a day
    waited = result.orders["dispatch_days"].to_numpy() > 1.0
    assert waited.any() and result.summary["dispatched_within_24h"] < 0.99
    assert result.summary["peak_pick_queue_units"] == queue.max()


def test_capacity_follows_the_peaks_by_its_flex():
    sc = load("tiny", "warehouses.US_WH.picking={units_per_day: 100, peak_flex: 0.25}")
    capacity = compile_network(sc).warehouse.pick_capacity
    us_wh = list(sc.warehouses).index("US_WH")
    assert capacity[us_wh, 10] == 100                         # a normal day
    assert capacity[us_wh, 20] == 100 * (1 + 0.25 * (2.0 - 1))  # the x2 flash sale
    assert np.isinf(capacity[list(sc.warehouses).index("SZ")]).all()


def test_labour_per_unit_adds_to_pick_and_pack_exactly():
    base = simulate(load("tiny"), seed=2)
    staffed = simulate(load("tiny", "warehouses.SZ.picking={units_per_day: 1e6, "
                                    "labour_cost_per_unit: 1.5}"), seed=2)
    sz_units = base.orders.loc[base.orders["warehouse"] == "SZ", "units"].sum()
    extra = (staffed.summary["profit_and_loss_cny"]["pick_pack"]
             - base.summary["profit_and_loss_cny"]["pick_pack"])
    assert extra == pytest.approx(-1.5 * sz_units)            # SZ bills in CNY
    assert staffed.orders["units"].equals(base.orders["units"])


def test_neutral_settings_change_nothing():
    base = simulate(load("tiny"), seed=4)
    neutral = simulate(load(
        "tiny", "warehouses.US_WH.picking={units_per_day: 1e9}",
        "exceptions={lost_parcels: refund, insurance: {premium_rate: 0}, "
        "undeliverable: {postal: {probability: 0, action: dispose, fee_per_parcel_cny: 9}}}"),
        seed=4)
    for name, table in base.tables().items():
        assert table.equals(neutral.tables()[name]), name
    assert (base.daily.filter(like="pick_queue_") == 0).all().all()
    assert (base.daily.filter(like="account_health_") == 1).all().all()


def test_lost_parcels_are_reshipped_from_stock_without_a_refund():
    result = simulate(load("tiny", "exceptions.lost_parcels=reship"), seed=0)
    orders = result.orders
    assert result.summary["reshipped_parcels"] == result.summary["lost_parcels"] > 0
    due = orders["reshipped"] & (orders["delivery_day"] < result.scenario.horizon.days)
    # Replacements leave the shelves (the weekly trace counts them) but are not orders.
    assert result.weekly.issued.sum() - orders["units"].sum() == orders.loc[due, "units"].sum()
    refunded = simulate(load("tiny"), seed=0)
    assert (result.summary["profit_and_loss_cny"]["refund"]
            > refunded.summary["profit_and_loss_cny"]["refund"])


def test_insurance_premium_and_claims_by_hand():
    base = simulate(load("tiny"), seed=1)
    insured = simulate(load("tiny", "exceptions.insurance={premium_rate: 0.02, modes: [postal],"
                                    " claim_days: 20}"), seed=1)
    postal = insured.orders[insured.orders["mode"] == "postal"]       # every DE order, EUR
    expected = (-0.02 * postal["revenue"].sum()
                + postal.loc[postal["lost"], "revenue"].sum())
    ledger = insured.ledger[insured.ledger["category"] == "insurance"]
    assert ledger["amount"].sum() == pytest.approx(expected)
    assert (ledger.loc[ledger["amount"] > 0, "cash_day"]
            - ledger.loc[ledger["amount"] > 0, "accrual_day"]).eq(20).all()
    # Nothing else moves: the margin changes by the insurance line alone.
    assert (insured.summary["contribution_margin_cny"] - base.summary["contribution_margin_cny"]
            == pytest.approx(ledger["amount_cny"].sum()))


def test_undeliverable_parcels_are_refunded_and_returned_or_disposed():
    result = simulate(load(
        "tiny", "exceptions.undeliverable={postal: {probability: 0.1, action: dispose, "
        "fee_per_parcel_cny: 5}, us_last_mile: {probability: 0.05, action: return, "
        "fee_per_parcel_cny: 20, return_days: {dist: constant, value: 4}}}"), seed=3)
    orders = result.orders
    failed = orders["undeliverable"]
    for mode, p in (("postal", 0.1), ("us_last_mile", 0.05)):
        tried = orders[(orders["mode"] == mode) & ~orders["lost"]]
        n, k = len(tried), int(tried["undeliverable"].sum())
        assert abs(k - p * n) < 4 * np.sqrt(n * p * (1 - p))     # binomial, 4 sigma
    fees = result.ledger.loc[result.ledger["category"] == "undeliverable", "amount"].sum()
    disposed = (failed & (orders["mode"] == "postal")).sum()
    returned = (failed & (orders["mode"] == "us_last_mile")).sum()
    assert fees == pytest.approx(-5 * disposed - 20 * returned)
    assert not (failed & (orders["on_time"] | orders["returned"])).any()
    assert result.summary["undeliverable_parcels"] == failed.sum() > 0
    assert result.conservation["units_residual"] == 0            # returned goods restocked


def health(**limits) -> AccountHealthSpec:
    return AccountHealthSpec(defects=Defects(lost=1, undeliverable=1, late=0),
                             breach_factor=0.7, **limits)


def test_account_health_breaches_above_its_limits_by_hand():
    book = AccountHealth(health(), n_markets=2, n_days=100)
    shipped, late, defects = book.counts
    shipped[:, 10:30] = 5                    # 100 shipments in each market over 20 days
    late[0, 12:17] = 1                       # market 0: 5 late  -> 5 % > 4 %
    late[1, 12:15] = 1                       # market 1: 3 late  -> 3 %
    np.testing.assert_allclose(book.factor(30), [0.7, 1.0])
    assert book.factor(12).tolist() == [1.0, 1.0]               # nothing late before day 12
    defects[1, 20:22] = 1                                        # 2 % > 1 % defects
    np.testing.assert_allclose(book.factor(30), [0.7, 0.7])
    # Late shipments older than the 30-day window drop out again.
    np.testing.assert_allclose(book.factor(47), [1.0, 0.7])


def test_a_breach_cuts_conversion_by_its_factor():
    base = simulate(load("tiny"), seed=5)
    cut = simulate(load("tiny", "exceptions.account_health={handling_days: 0.01, "
                                "late_shipment_limit: 0, breach_factor: 0.5, "
                                "defects: {lost: 0, undeliverable: 0, late: 0}}"), seed=5)
    standing = cut.daily.filter(like="account_health_").to_numpy()
    assert (standing[0] == 1).all() and (standing[1:] == 0.5).all()
    # Orders drawn (lost sales included) halve, give or take Poisson noise and ratings.
    ratio = cut.daily["orders"][1:].sum() / base.daily["orders"][1:].sum()
    assert ratio == pytest.approx(0.5, abs=0.03)
    assert cut.summary["account_health_cut_days"] == 2 * 59


def test_every_lever_on_still_balances():
    result = simulate(load(
        "tiny", "warehouses.US_WH.picking={units_per_day: 110, peak_flex: 0.5, "
        "labour_cost_per_unit: 0.2}", "warehouses.SZ.picking={units_per_day: 40}",
        "exceptions={lost_parcels: reship, lost_parcels_by_market: {DE: refund}, "
        "insurance: {premium_rate: 0.01}, undeliverable: {postal: {probability: 0.05, "
        "action: return, fee_per_parcel_cny: 30, return_days: {dist: uniform, low: 5, "
        "high: 15}}, us_last_mile: {probability: 0.02, action: dispose, "
        "fee_per_parcel_cny: 2}}, account_health: {defects: {lost: 0.5, undeliverable: 0.2,"
        " late: 0.1}, breach_factor: 0.8}}"), seed=6)
    assert result.conservation["units_residual"] == 0
    assert abs(result.conservation["money_residual_cny"]) < 1e-6
    summary = result.summary
    assert summary["reshipped_parcels"] > 0 and summary["undeliverable_parcels"] > 0
    assert summary["order_defect_rate"] > 0 and summary["peak_pick_queue_units"] > 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), capacity=st.floats(20, 400), flex=st.floats(0, 1),
       loss=st.floats(0, 0.3), undeliverable=st.floats(0, 0.3),
       policy=st.sampled_from(["refund", "reship"]), action=st.sampled_from(["return", "dispose"]),
       stockout=st.sampled_from(["lost_sales", "backorder"]))
def test_conservation_holds_for_any_exceptions(seed, capacity, flex, loss, undeliverable, policy,
                                               action, stockout):
    result = simulate(load(
        "tiny", f"warehouses.US_WH.picking={{units_per_day: {capacity}, peak_flex: {flex}}}",
        f"warehouses.SZ.picking={{units_per_day: {capacity / 2}, labour_cost_per_unit: 1}}",
        f"modes.postal.loss_probability={loss}", f"modes.us_last_mile.loss_probability={loss}",
        f"markets.US.stockout={stockout}",
        f"exceptions={{lost_parcels: {policy}, insurance: {{premium_rate: 0.02}}, "
        f"undeliverable: {{postal: {{probability: {undeliverable}, action: {action}, "
        f"fee_per_parcel_cny: 10, return_days: {{dist: uniform, low: 2, high: 9}}}}}}, "
        f"account_health: {{defects: {{lost: 1, undeliverable: 1, late: 0.5}}, "
        f"breach_factor: 0.6}}}}"), seed=seed, days=40)
    assert result.conservation["units_residual"] == 0
    scale = max(abs(result.summary["net_revenue_cny"]), 1.0)
    assert abs(result.conservation["money_residual_cny"]) < 1e-9 * scale
    assert not (result.orders["undeliverable"] & result.orders["lost"]).any()
