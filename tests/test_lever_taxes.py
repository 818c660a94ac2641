"""Taxes over time (issue 12, lever 7): dated duty, VAT and de minimis changes inside a run,
import VAT on bulk paid at clearance and recovered later, China's export VAT rebate.

The tiny scenario sells in the US from an overseas warehouse (bulk loads, duty 10 %, no VAT)
and in DE by direct parcels (duty 4 %, VAT 19 %, EUR 150 de minimis). Taxes draw nothing at
random, so a run with a tax lever and one without see the same orders and shipments; only
money differs, and each figure is checked against its hand calculation.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimize.channel_data import channel_data
from sim.loader import ScenarioError
from sim.model import simulate
from sim.network import compile_network
from tests.conftest import load

CHANGE = "2026-01-31"
CHANGE_DAY = 30
"""The tiny horizon starts on 1 January 2026."""
FX_EUR = 7.8
STEADY = ("markets.DE.fx_daily_volatility=0", "markets.US.fx_daily_volatility=0")
"""Constant exchange rates, so CNY amounts can be checked by hand."""
REBATE = ("finance.export_rebate={purchase_vat_rate: 0.13, rate_by_category: "
          "{apparel: 0.13, home: 0.09}, delay_days: 75, parcels: true}")


def run(*overrides: str, seed: int = 1):
    return simulate(load("tiny", *STEADY, *overrides), seed=seed)


def de_parcels(result) -> pd.DataFrame:
    orders = result.orders
    return orders[orders["market"] == "DE"]


def rows(result, category: str, market: str | None = None) -> pd.DataFrame:
    ledger = result.ledger
    pick = ledger["category"] == category
    if market is not None:
        pick &= ledger["market"] == market
    return ledger[pick]


# ----------------------------------------------------------------------------- off
def test_lever_off_changes_nothing():
    """No taxes section, and a change that restates the rates in force, give the same run;
    neither books an import VAT or rebate entry."""
    off = run()
    same = run(f"markets.DE.taxes={{changes: [{{start: {CHANGE}, duty_rate: 0.04, "
               "vat_rate: 0.19, de_minimis_value: 150}]}")
    for name, table in off.tables().items():
        assert table.equals(same.tables()[name]), name
    assert off.summary == same.summary
    assert rows(off, "import_vat").empty and rows(off, "export_rebate").empty
    assert off.summary["import_vat_paid_cny"] == 0 == off.summary["peak_tax_receivable_cny"]


# ----------------------------------------------------------------------------- parcels
def test_dated_duty_change_moves_parcel_duty_from_its_date():
    """DE without a de minimis, duty 4 % then 12 % from day 30: a parcel arriving before
    pays 0.04 x value ex VAT, one arriving from day 30 on 0.12 x value ex VAT."""
    result = run("markets.DE.de_minimis_value=0",
                 f"markets.DE.taxes={{changes: [{{start: {CHANGE}, duty_rate: 0.12}}]}}")
    orders = de_parcels(result)
    ex_vat_cny = orders["revenue"] / 1.19 * FX_EUR
    after = orders["delivery_day"] >= CHANGE_DAY
    assert after.any() and (~after).any()
    expected = np.where(after, 0.12, 0.04) * ex_vat_cny
    np.testing.assert_allclose(orders["parcel_duty_cny"], expected, rtol=1e-12)
    landed_rise = orders["landed_cost_cny"] - run("markets.DE.de_minimis_value=0").orders[
        lambda o: o["market"] == "DE"]["landed_cost_cny"]
    np.testing.assert_allclose(landed_rise, np.where(after, 0.08 * ex_vat_cny, 0.0),
                               atol=1e-9)


def test_de_minimis_removal_makes_every_parcel_dutiable():
    """The EUR 150 exemption ends on day 30: parcels (all under EUR 150) pay nothing before
    and 4 % of their value ex VAT after."""
    result = run(f"markets.DE.taxes={{changes: [{{start: {CHANGE}, de_minimis_value: 0}}]}}")
    orders = de_parcels(result)
    after = orders["delivery_day"] >= CHANGE_DAY
    assert (orders["revenue"] / 1.19 < 150).all()
    expected = np.where(after, 0.04 * orders["revenue"] / 1.19 * FX_EUR, 0.0)
    np.testing.assert_allclose(orders["parcel_duty_cny"], expected, rtol=1e-12)


def test_flat_low_value_duty_per_parcel():
    """The EU's interim EUR 3 per item on parcels under EUR 150, from day 30."""
    result = run(f"markets.DE.taxes={{changes: [{{start: {CHANGE}, "
                 "low_value_duty_per_parcel: 3}]}")
    orders = de_parcels(result)
    after = orders["delivery_day"] >= CHANGE_DAY
    np.testing.assert_allclose(orders["parcel_duty_cny"], np.where(after, 3 * FX_EUR, 0.0))


def test_vat_change_applies_on_the_sale_day():
    """VAT 19 % then 21 %: the parcel duty's base (value ex VAT) follows the sale's rate;
    orders shipped before the change sold at 19 %, orders placed after it at 21 %."""
    result = run("markets.DE.de_minimis_value=0",
                 f"markets.DE.taxes={{changes: [{{start: {CHANGE}, vat_rate: 0.21}}]}}")
    orders = de_parcels(result)
    old = orders["ship_day"] < CHANGE_DAY
    new = orders["order_day"] >= CHANGE_DAY
    assert old.any() and new.any()
    duty_share = orders["parcel_duty_cny"] / (orders["revenue"] * FX_EUR)
    np.testing.assert_allclose(duty_share[old], 0.04 / 1.19)
    np.testing.assert_allclose(duty_share[new], 0.04 / 1.21)


# ----------------------------------------------------------------------------- bulk
def test_dated_duty_change_moves_bulk_duty_and_landed_cost():
    """US duty 10 % then 30 % from day 35: loads cleared before pay as before, loads cleared
    from day 35 on three times as much (0.30 / 0.10 x the same customs value); US orders
    shipped before the first dearer load lands cost the same, later ones more."""
    base = run()
    dearer = run("markets.US.taxes={changes: [{start: 2026-02-05, duty_rate: 0.30}]}")
    before, after = rows(base, "import_duty"), rows(dearer, "import_duty")
    assert list(before["accrual_day"]) == list(after["accrual_day"])
    ratio = after["amount_cny"].to_numpy() / before["amount_cny"].to_numpy()
    cleared_after = before["accrual_day"].to_numpy() >= 35
    assert cleared_after.any() and (~cleared_after).any()
    np.testing.assert_allclose(ratio, np.where(cleared_after, 3.0, 1.0))
    us = base.orders["market"] == "US"
    first_landing = base.shipments.loc[
        base.shipments["arrived_day"] >= 35, "arrived_day"].min()
    early = us & (base.orders["ship_day"] < first_landing)
    rise = dearer.orders["landed_cost_cny"] - base.orders["landed_cost_cny"]
    np.testing.assert_allclose(rise[early], 0.0, atol=1e-9)
    assert rise[us & ~early].mean() > 0


def test_import_vat_paid_at_clearance_and_recovered_on_the_return():
    """US with 20 % VAT and monthly returns filed 10 days after the month: each clearance pays
    0.2 x (customs value + duty) = 0.2 x 11 x duty on its day and gets it back on the 10th
    day after its month's end; the margin is unchanged, cash waits in between."""
    vat = ("markets.US.vat_rate=0.2",)
    base = run(*vat)
    result = run(*vat, "markets.US.taxes={import_vat: {return_period_months: 1, "
                       "recovered_days_after_period: 10}}")
    duty = rows(result, "import_duty", "US").set_index("accrual_day")["amount_cny"]
    entries = rows(result, "import_vat", "US")
    paid = entries[entries["amount_cny"] < 0]
    back = entries[entries["amount_cny"] > 0]
    assert len(duty) > 0
    np.testing.assert_allclose(paid.set_index("accrual_day")["amount_cny"], 0.2 * 11 * duty)
    assert (paid["cash_day"] == paid["accrual_day"]).all()
    start = dt.date(2026, 1, 1)
    for accrual, cash in zip(back["accrual_day"], back["cash_day"], strict=True):
        cleared = start + dt.timedelta(days=int(accrual))
        month_end = dt.date(cleared.year + cleared.month // 12, cleared.month % 12 + 1, 1)
        assert cash == (month_end - start).days - 1 + 10
    np.testing.assert_allclose(back["amount_cny"].sum(), -paid["amount_cny"].sum())
    assert result.summary["profit_and_loss_cny"]["import_vat"] == pytest.approx(0.0, abs=1e-6)
    assert result.summary["contribution_margin_cny"] == pytest.approx(
        base.summary["contribution_margin_cny"], abs=1e-6)
    assert result.summary["import_vat_paid_cny"] == pytest.approx(-paid["amount_cny"].sum())
    assert result.summary["peak_tax_receivable_cny"] > 0
    cash_gap = base.daily["cash_cny"] - result.daily["cash_cny"]
    first = int(paid["accrual_day"].min())
    assert cash_gap[first] == pytest.approx(-paid.loc[paid["accrual_day"] == first,
                                                      "amount_cny"].sum())


def test_quarterly_returns_recover_at_the_quarter_end():
    net = compile_network(load("tiny", "markets.US.taxes={import_vat: {return_period_months: 3, "
                                       "recovered_days_after_period: 40}}"))
    recovery = net.taxes.vat_recovery_day
    march_31, june_30 = 89, 180
    assert recovery[0, 0] == recovery[0, march_31] == march_31 + 40
    assert recovery[0, march_31 + 1] == june_30 + 40
    assert (recovery[1] == -1).all()  # DE: import VAT not modelled


# ----------------------------------------------------------------------------- rebate
def test_export_rebate_booked_with_its_delay():
    """13 % VAT in purchase prices, rebate 13 % (apparel) and 9 % (home), none for
    electronics, paid 75 days after export: a DE parcel earns unit cost / 1.13 x rate per
    unit on its ship day; bulk loads to the US earn theirs when they depart."""
    result = run(REBATE)
    entries = rows(result, "export_rebate")
    assert (entries["cash_day"] == entries["accrual_day"] + 75).all()
    assert (entries["amount_cny"] > 0).all()
    orders = de_parcels(result)
    per_unit = {"TEE": 25 / 1.13 * 0.13, "LAMP": 60 / 1.13 * 0.09, "CABLE": 0.0}
    expected = (orders["sku"].astype(str).map(per_unit) * orders["units"]).groupby(
        orders["ship_day"]).sum()
    booked = entries[entries["market"] == "DE"].groupby("accrual_day")["amount_cny"].sum()
    pd.testing.assert_series_equal(booked, expected[expected > 0], check_names=False,
                                   check_index_type=False)
    bulk = result.shipments[(result.shipments["kind"] == "bulk")
                            & (result.shipments["departed_day"] >= 0)]
    us = entries[entries["market"] == "US"].groupby("accrual_day")["amount_cny"].sum()
    by_departure = (bulk["sku"].astype(str).map(per_unit) * bulk["ordered_units"]).groupby(
        np.floor(bulk["departed_day"]).astype(int)).sum()
    pd.testing.assert_series_equal(us, by_departure[by_departure > 0], check_names=False,
                                   check_index_type=False)
    assert result.summary["profit_and_loss_cny"]["export_rebate"] == pytest.approx(
        entries["amount_cny"].sum())
    bulk_only = run(REBATE.replace("parcels: true", "parcels: false"))
    assert rows(bulk_only, "export_rebate", "DE").empty


# ----------------------------------------------------------------------------- optimiser
def test_channel_optimiser_prices_each_week_at_the_rates_in_force():
    """US duty 10 % then 30 % from day 49, DE's de minimis gone from day 30, a bulk-only
    rebate. A sea load sent mid-week w (day 7w + 3) reaches US customs ~32 days later (first
    mile 2 + half the 3.5-day wait between departures 1.75 + sea 28), so weeks 2 on cost
    0.2 x unit cost more; a postal parcel sold mid-week arrives ~19 days later (processing
    0.5 + transit 18 + inspections 0.1), so from week 2 on it pays 0.04 x its value ex VAT,
    and in every week it forgoes the rebate a bulk load earns (route costs leave the
    product, and so its rebate, out)."""
    base = {r.name: r for r in channel_data(load("tiny")).routes}
    changed = {r.name: r for r in channel_data(load(
        "tiny", "markets.US.taxes={changes: [{start: 2026-02-19, duty_rate: 0.30}]}",
        f"markets.DE.taxes={{changes: [{{start: {CHANGE}, de_minimis_value: 0}}]}}",
        REBATE.replace("parcels: true", "parcels: false"))).routes}
    tiny = load("tiny")
    unit_cost = np.array([tiny.skus[s].unit_cost_cny for s in ("TEE", "LAMP", "CABLE")])
    rebate = unit_cost / 1.13 * np.array([0.13, 0.09, 0.0])
    from_week_2 = np.arange(8) >= 2
    sea = "SZ->US_WH sea_fcl"
    np.testing.assert_allclose(changed[sea].unit_cost - base[sea].unit_cost,
                               0.2 * unit_cost[:, None] * from_week_2, atol=1e-9)
    postal = "SZ->DE postal"
    ex_vat = np.array([tiny.skus[s].price["DE"] for s in ("TEE", "LAMP", "CABLE")]) \
        / 1.19 * FX_EUR
    np.testing.assert_allclose(changed[postal].unit_cost - base[postal].unit_cost,
                               0.04 * ex_vat[:, None] * from_week_2 + rebate[:, None],
                               atol=1e-9)


# ----------------------------------------------------------------------------- checks
def test_schema_refuses_unclear_changes():
    with pytest.raises(ScenarioError, match="at least one of"):
        load("tiny", f"markets.DE.taxes={{changes: [{{start: {CHANGE}}}]}}")
    with pytest.raises(ScenarioError, match="date order"):
        load("tiny", "markets.DE.taxes={changes: [{start: 2026-02-01, vat_rate: 0.2}, "
                     "{start: 2026-01-01, vat_rate: 0.21}]}")
    with pytest.raises(ScenarioError, match="unknown category"):
        load("tiny", REBATE.replace("home:", "garden:"))


ALL_ON = (f"markets.DE.taxes={{changes: [{{start: {CHANGE}, vat_rate: 0.21, "
          "de_minimis_value: 0, duty_rate: 0.08}]}",
          "markets.US.vat_rate=0.1",
          "markets.US.taxes={changes: [{start: 2026-02-10, duty_rate: 0.25}], "
          "import_vat: {return_period_months: 3, recovered_days_after_period: 30}}", REBATE)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), day=st.integers(-10, 70),
       rate=st.floats(0, 1), months=st.sampled_from([1, 3, 12]))
def test_conservation_holds_with_taxes_changing(seed, day, rate, months):
    """Units and money balance with every tax lever on, whatever the change's date and rate
    (a date before the start applies from day 0, one after the horizon never)."""
    start = dt.date(2026, 1, 1) + dt.timedelta(days=day)
    result = simulate(load(
        "tiny", *ALL_ON[:2], REBATE,
        f"markets.US.taxes={{changes: [{{start: {start}, duty_rate: {rate}, vat_rate: {rate}}}],"
        f" import_vat: {{return_period_months: {months}, recovered_days_after_period: 5}}}}"),
        seed=seed)
    assert result.conservation["units_residual"] == 0
    assert abs(result.conservation["money_residual_cny"]) < 1e-6 * max(
        1.0, abs(result.conservation["ledger_total_cny"]))
