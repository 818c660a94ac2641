"""Money KPIs: cash conversion cycle, working capital, inventory turnover, days of cover and
ROAS, recomputed from a run's own tables (daily, ledger, orders) with the definitions in
sim/results.py, and computed fully by hand on a deterministic case.

Definitions (sim/results.py):
    stock value[d]       = inventory_value_cny + in_transit_value_cny (daily, end of day d)
    inventory turnover   = COGS x 365 / days / mean(stock value)
    days of cover        = mean(units on hand in every warehouse + in transit) /
                           (units shipped / days)
    cash conversion cycle = DIO + DSO - DPO, with DIO = mean(stock value) / (COGS / days),
                           DSO (DPO) = the |amount|-weighted mean of cash_day - accrual_day
                           over the ledger's sales (purchase) rows
    working capital[d]   = stock value[d] + receivables[d] - payables[d], receivables the
                           trade entries (sales, VAT, commission, payment fee, refunds)
                           accrued by day d and not yet paid out, payables the purchases
                           accrued by day d and not yet paid
    ROAS                 = ad-attributed net revenue / ad spend, where each market-day's
                           revenue ex VAT counts in the share of its converting sessions that
                           paid traffic brought (paid sessions x conversion multiplier)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load

from sim.model import simulate

TRADE = ("sales", "vat", "commission", "payment_fee", "refund")
DIRECT_POSTAL = ("policies.fulfilment.US.route=direct", "policies.fulfilment.US.warehouse=SZ",
                 "policies.fulfilment.US.mode=postal")
AD_CHANNEL = ("ad_channels={ppc: {currency: CNY, cost_per_click: 0.5, conversion_multiplier: 2, "
              "max_sessions_per_day: 1000, hill_exponent: 1, carryover: 0.5, "
              "market_shares: {US: 1}}}",
              "policies.ad_spend={ppc: {spend_per_day: 500}}")


# ------------------------------------------------------------------ independent recomputation
def stock_value(daily: pd.DataFrame) -> np.ndarray:
    return (daily["inventory_value_cny"] + daily["in_transit_value_cny"]).to_numpy()


def outstanding(rows: pd.DataFrame, day: int) -> float:
    """Accrued by ``day`` and not yet settled, minus settled before being accrued."""
    accrued = rows["accrual_day"] <= day
    settled = rows["cash_day"] <= day
    return float(rows.loc[accrued & ~settled, "amount_cny"].sum()
                 - rows.loc[settled & ~accrued, "amount_cny"].sum())


def working_capital(result) -> np.ndarray:
    ledger = result.ledger
    trade = ledger[ledger["category"].isin(TRADE)]
    purchases = ledger[ledger["category"] == "purchase"]
    value = stock_value(result.daily)
    return np.array([value[d] + outstanding(trade, d) + outstanding(purchases, d)
                     for d in range(len(result.daily))])


def mean_lag(ledger: pd.DataFrame, category: str) -> float:
    rows = ledger[ledger["category"] == category]
    weight = rows["amount_cny"].abs().to_numpy()
    if weight.sum() == 0:
        return 0.0
    lag = (rows["cash_day"] - rows["accrual_day"]).to_numpy()
    return float((lag * weight).sum() / weight.sum())


def check_kpis_from_tables(result, cogs: float) -> None:
    days = result.scenario.horizon.days
    daily, ledger, summary = result.daily, result.ledger, result.summary
    assert len(daily) == days
    value = stock_value(daily)
    cogs_per_day = cogs / days
    assert summary["inventory_turnover"] == pytest.approx(cogs * 365 / days / value.mean())
    units = daily[[c for c in daily.columns if c.startswith("stock_")]].sum(axis=1) \
        + daily["in_transit_units"]
    shipped = result.orders["units"].sum()
    assert summary["days_of_cover"] == pytest.approx(units.mean() / (shipped / days))
    ccc = value.mean() / cogs_per_day + mean_lag(ledger, "sales") - mean_lag(ledger, "purchase")
    assert summary["cash_conversion_cycle_days"] == pytest.approx(ccc)
    wc = working_capital(result)
    assert daily["working_capital_cny"].to_numpy() == pytest.approx(wc, rel=1e-9, abs=1e-6)
    assert summary["peak_working_capital_cny"] == pytest.approx(wc.max())
    cash = result.scenario.finance.initial_cash_cny + np.array([
        ledger.loc[ledger["cash_day"] <= d, "amount_cny"].sum() for d in range(days)])
    assert daily["cash_cny"].to_numpy() == pytest.approx(cash)
    assert summary["final_cash_cny"] == pytest.approx(cash[-1])
    assert summary["min_cash_cny"] == pytest.approx(cash.min())
    assert summary["capital_cost_cny"] == pytest.approx(
        value.sum() * result.scenario.finance.annual_capital_cost_rate / 365)


def test_kpis_recomputed_from_the_tables_of_a_noisy_run():
    # tiny: two markets, purchases on 30-day terms, bulk shipments in transit, returns
    # restocked (so COGS is taken from the P&L: restocks put value back).
    result = simulate(load("tiny"), seed=4)
    assert (result.ledger["category"] == "purchase").any()
    assert result.daily["in_transit_value_cny"].max() > 0
    check_kpis_from_tables(result, result.summary["profit_and_loss_cny"]["cogs"])


def test_cogs_is_the_landed_value_of_the_units_shipped_when_nothing_comes_back():
    # Without returns, COGS is the product + inbound freight + import duty on the order lines.
    result = simulate(load("tiny", "returns.disposition.restock.share=0",
                           "returns.disposition.liquidate.share=0.6",
                           "returns.disposition.dispose.share=0.4"), seed=2)
    orders = result.orders
    landed = (orders["product_cost_cny"] + orders["inbound_freight_cny"]
              + orders["import_duty_cny"]).sum()
    assert result.summary["profit_and_loss_cny"]["cogs"] == pytest.approx(landed)
    check_kpis_from_tables(result, landed)


def test_roas_recomputed_from_the_tables_of_a_noisy_single_market_run():
    # One market, so the daily sessions are that market's: paid share of converting
    # sessions = 2 x ppc / (organic + 2 x ppc) (conversion multiplier 2); revenue ex VAT
    # (20 % VAT) by order day.
    scenario = load("clockwork", *DIRECT_POSTAL, *AD_CHANNEL, "traffic.daily_noise_cv=0.3",
                    "conversion.order_counts=poisson", "markets.US.vat_rate=0.2",
                    "policies.ad_spend.ppc.weekly_spend_per_day={2: 1500, 4: 0}")
    result = simulate(scenario, seed=9)
    daily, orders = result.daily, result.orders
    paid = 2.0 * daily["sessions_ppc"].to_numpy()
    share = paid / (daily["sessions_organic"].to_numpy() + paid)
    revenue = (orders["revenue_cny"] / 1.2).groupby(orders["order_day"]).sum()
    revenue = revenue.reindex(range(len(daily)), fill_value=0.0).to_numpy()
    spend = daily["ad_spend_cny"].sum()
    # Spend: 500 a day except week 2 (1500) and week 4 (0): 42 days -> 7 x (500 x 4 + 1500).
    assert spend == pytest.approx(7 * (4 * 500 + 1500))
    assert result.summary["ad_spend_cny"] == pytest.approx(spend)
    assert result.summary["roas"] == pytest.approx((revenue * share).sum() / spend)
    assert 0 < result.summary["roas"] < (revenue.sum() / spend)


# ------------------------------------------------------------------ by hand
def test_money_kpis_of_a_clockwork_run_by_hand():
    # Direct postal parcels from SZ: 10 single-unit orders a day for 42 days, no returns,
    # no purchases (SZ holds 10,000 units at 70 CNY and never reorders), no bulk freight.
    #
    # Stock at the end of day d: 10,000 - 10 (d + 1) units, value 70 x that.
    #   mean over d = 0 .. 41: 10,000 - 10 x 21.5 = 9,785 units -> 684,950 CNY.
    # COGS: 420 units x 70 = 29,400 CNY = 700 CNY a day.
    #   DIO = 684,950 / 700 = 978.5 days.
    #   DSO: sales accrue on day d, paid out at the end of the 14-day cycle, day
    #        14 (d // 14 + 1): lag 14 - d % 14, equal amounts -> mean of 14 .. 1 = 7.5.
    #   DPO: no purchases -> 0.                              CCC = 986.0 days.
    # Inventory turnover = 700 x 365 / 684,950 = 255,500 / 684,950.
    # Days of cover = 9,785 units / 10 a day = 978.5 days.
    # Receivables: a day's sales 10 x 30 USD x 7 = 2,100 CNY, less 10 % commission (210)
    #   and 2 % payment fee (42): 1,848 CNY a day, d % 14 + 1 days outstanding at day d.
    # Working capital[d] = 700,000 - 700 (d + 1) + 1,848 (d % 14 + 1);
    #   peak on day 13: 700,000 - 9,800 + 25,872 = 716,072.
    # Cash: 100,000 - 200 a day of postal freight (10 + 5 x 2 kg = 20 CNY a parcel), plus
    #   14 x 1,848 = 25,872 on payout days 14 and 28 (day 42 is past the horizon):
    #   final 100,000 - 8,400 + 51,744 = 143,344; lowest at day 13's end: 97,200.
    result = simulate(load("clockwork", *DIRECT_POSTAL), seed=0)
    s = result.summary
    assert s["units_sold"] == 420
    assert s["profit_and_loss_cny"]["cogs"] == pytest.approx(29_400.0)
    assert result.daily["inventory_value_cny"].mean() == pytest.approx(684_950.0)
    assert s["cash_conversion_cycle_days"] == pytest.approx(986.0)
    assert s["inventory_turnover"] == pytest.approx(255_500 / 684_950)
    assert s["days_of_cover"] == pytest.approx(978.5)
    d = np.arange(42)
    wc = 700_000 - 700 * (d + 1) + 1_848 * (d % 14 + 1)
    assert result.daily["working_capital_cny"].to_numpy() == pytest.approx(wc)
    assert s["peak_working_capital_cny"] == pytest.approx(716_072.0)
    assert s["final_cash_cny"] == pytest.approx(143_344.0)
    assert s["min_cash_cny"] == pytest.approx(97_200.0)
    assert s["roas"] == 0.0 and s["ad_spend_cny"] == 0.0


def test_purchases_on_terms_shorten_the_cash_conversion_cycle_by_hand():
    # As above, but SZ starts empty and buys 600 units on day 0 (base stock 600, reviewed
    # daily; lead time 10 -> delivered at 10.9, invoice 600 x 70 = 42,000 CNY accrued on day
    # 10 and paid on day 40). The US is served from SZ, so the orders of days 0 .. 10 are
    # lost (the goods land at 10.9, after day 10's dispatch at 10.5) and from day 11 on the
    # base-stock rule re-orders what each day ships (10 units, 10 days later). Only the DPO
    # part is checked by hand: every purchase is paid 30 days after it accrues -> DPO = 30.
    result = simulate(load("clockwork", *DIRECT_POSTAL, "warehouses.SZ.initial_stock_days=0",
                           "policies.replenishment.0.policy.level=600"), seed=0)
    purchases = result.ledger[result.ledger["category"] == "purchase"]
    assert ((purchases["cash_day"] - purchases["accrual_day"]) == 30).all()
    first = purchases[purchases["accrual_day"] == 10]
    assert first["amount_cny"].sum() == pytest.approx(-42_000.0)
    assert mean_lag(result.ledger, "purchase") == 30.0
    assert result.daily["lost_sales_units"].tolist() == [10] * 11 + [0] * 31
    value = stock_value(result.daily)
    cogs = result.summary["profit_and_loss_cny"]["cogs"]
    assert result.summary["cash_conversion_cycle_days"] == pytest.approx(
        value.mean() / (cogs / 42) + mean_lag(result.ledger, "sales") - 30.0)
    # Payables: 42,000 outstanding from day 10 (accrued) to day 39 (paid on day 40).
    payables = np.array([-outstanding(purchases, day) for day in range(42)])
    assert payables[9] == 0.0
    assert payables[10] == pytest.approx(42_000.0)
    check_kpis_from_tables(result, cogs)


def test_roas_by_hand():
    # ppc: 500 CNY a day held, so the adstock is 500; half saturation K = 0.5 x 1000 = 500
    # -> paid sessions 1000 x 500 / (500 + 500) = 500, converting as 2 x 500 = 1000 organic
    # sessions. Orders: (1000 organic + 1000) x 1 % = 20 a day, half of them paid.
    # Net revenue a day (no VAT): 20 x 30 USD x 7 = 4,200 CNY; attributed 2,100.
    # ROAS = 2,100 / 500 = 4.2.
    result = simulate(load("clockwork", *DIRECT_POSTAL, *AD_CHANNEL), seed=0)
    assert (result.daily["orders"] == 20).all()
    assert result.daily["sessions_ppc"].to_numpy() == pytest.approx(500.0)
    assert result.summary["ad_spend_cny"] == pytest.approx(42 * 500.0)
    assert result.summary["profit_and_loss_cny"]["ads"] == pytest.approx(-42 * 500.0)
    assert result.summary["roas"] == pytest.approx(4.2)
