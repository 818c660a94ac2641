"""What a run produces: its tables, its KPIs and its conservation checks.

Money KPIs cover the whole horizon on an accrual basis (every ledger entry counts, including
payouts that fall after the horizon); service KPIs (fill rate, on-time, delivery days,
stock-outs, tickets) skip ``horizon.warmup_days``. All money KPIs are in CNY.

    net revenue           = sales - output VAT
    gross margin          = net revenue + refunds - cost of goods sold - write-offs
    contribution margin   = every ledger flow except capitalised ones (purchases, inbound
                            freight, import duty) and fixed ones (agent wages, overheads)
                            - cost of goods sold - write-offs
    operating profit      = contribution margin + fixed flows (agent wages, overheads)

where cost of goods sold is the landed value (product, inbound freight, import duty) of the
units shipped, less what restocked returns put back. Hence the money identity the tests check:
sum(ledger) = operating profit - (closing - opening inventory value, in transit included).

Units: what was on hand and in transit on day 0, plus what purchase orders delivered (an
opening state's open orders among them), is on hand, in transit, shipped (less restocked
returns) or written off (defective, lost, damaged, cleared as aged stock) at the end.

A run whose tables or KPIs are not finite, or whose identities do not balance, stops with
``sim.integrity.RunIntegrityError`` instead of returning results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim import ageing
from sim.customers import CustomerBase
from sim.integrity import check_run
from sim.inventory import Stock, StockCounts
from sim.ledger import CAPITALISED, CATEGORIES, FIXED, Ledger
from sim.network import Network
from sim.pipeline import Pipeline
from sim.records import Records, WeeklyTrace
from sim.scenario import Scenario
from sim.tables import STREAMED, RunTables
from sim.totals import OrderTotals


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    orders: pd.DataFrame
    daily: pd.DataFrame
    shipments: pd.DataFrame
    ledger: pd.DataFrame
    tickets: pd.DataFrame
    summary: dict[str, Any]
    listings: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per market, SKU and day (``sim.records.ListingDays``)."""
    streamed: tuple[str, ...] = ()
    """Tables the run's sink wrote away instead of keeping (``sim.tables``): here they are
    empty frames with the table's columns."""
    conservation: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    closing_stock: np.ndarray | None = None
    """Units on hand at the end [warehouse, sku], in the scenario's order: the stock a plan
    made for the days after the run starts from."""
    weekly: WeeklyTrace | None = None
    """Stock, units issued to orders and demand per SKU and week (``sim.records``)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"orders": self.orders, "daily": self.daily, "shipments": self.shipments,
                "ledger": self.ledger, "tickets": self.tickets, "listings": self.listings}


def collect(net: Network, seed: int, started: float, records: Records, ledger: Ledger,
            stock: Stock, pipeline: Pipeline, paid_order_share: np.ndarray,
            customers: CustomerBase) -> RunResult:
    """Build the tables and KPIs at the run's end; ``started`` is the perf_counter() at
    the run's start, ``paid_order_share`` [market, day] the share of orders paid traffic
    brought (``sim.demand.DemandModel``), ``customers`` the buyers the run won."""
    start = np.datetime64(net.scenario.horizon.start_date, "D")
    streams = records.tables
    streams.close()
    ledger_table = ledger.frame(net.markets)

    days = net.days
    daily = records.daily.frame()
    daily.insert(1, "date", start + daily["day"].to_numpy().astype("timedelta64[D]"))
    cash_by_day = ledger_table.groupby("cash_day")["amount_cny"].sum()
    cash_flow = cash_by_day.reindex(range(days), fill_value=0.0).to_numpy()
    daily["cash_cny"] = net.scenario.finance.initial_cash_cny + np.cumsum(cash_flow)
    daily["cs_queue"] = streams.tickets.queue_at_day_end()
    daily["working_capital_cny"] = _working_capital(ledger_table, daily, days)

    held = {name: streams.held(name) for name in STREAMED}
    kept = {name: table if table is not None else streams.empty(name)
            for name, table in held.items()}
    result = RunResult(net.scenario, seed, kept["orders"], daily, kept["shipments"],
                       ledger_table, kept["tickets"], {}, kept["listings"],
                       streamed=tuple(name for name, table in held.items() if table is None))
    result.closing_stock = stock.on_hand.copy()
    result.weekly = records.weekly
    result.conservation = conservation(stock, pipeline, ledger_table)
    result.summary = kpis(net, stock, paid_order_share, streams, result)
    result.summary.update(commerce_kpis(net, streams, result, customers))
    check_run({"daily": daily, "ledger": ledger_table}, result.summary, result.conservation,
              gross_cny(stock, pipeline, ledger_table))
    result.wall_seconds = time.perf_counter() - started
    return result


def commerce_kpis(net: Network, streams: RunTables, result: RunResult,
                  customers: CustomerBase) -> dict[str, float]:
    """What the sources run a store by: conversion, order value, repeat buyers."""
    warm = net.scenario.horizon.warmup_days
    steady = slice(warm, net.days)
    first = int(customers.first_orders[:, steady].sum())
    returning = int(customers.returning_orders[:, steady].sum())
    orders = streams.orders
    contribution = float(result.summary["contribution_margin_cny"])
    return {
        "listings_below_landed_cost": orders.listings_below_landed_cost(),
        "conversion_rate": _ratio(first + returning, streams.listings.sessions),
        "average_order_value_cny": _ratio(orders.steady_revenue_cny, orders.steady),
        "repurchase_rate": _ratio(returning, first + returning),
        "new_customers": first,
        "customer_lifetime_value_cny": _ratio(contribution, first),
        "acquisition_cost_cny": _ratio(float(result.summary["ad_spend_cny"]), first),
    }


def gross_cny(stock: Stock, pipeline: Pipeline, ledger: pd.DataFrame) -> float:
    """The scale of a run's money: every flow and stock value counted without sign, against
    which the money identity's rounding is judged."""
    counts = stock.counts
    return float(np.abs(ledger["amount_cny"].to_numpy()).sum() + abs(counts.opening_value_cny)
                 + abs(stock.total_value()) + abs(pipeline.in_transit()[1])
                 + abs(counts.cogs_cny) + abs(counts.write_off_cny))


TAX_REFUNDS = ("import_vat", "export_rebate")
"""Ledger categories of taxes paid or earned now and refunded later (``sim.taxes``)."""


def _outstanding(rows: pd.DataFrame, days: int) -> np.ndarray:
    """Accrued but not yet settled, at each day's end [day], CNY."""
    accrued = np.bincount(rows["accrual_day"].clip(upper=days), rows["amount_cny"],
                          minlength=days + 1)[:days]
    settled = np.bincount(rows["cash_day"].clip(upper=days), rows["amount_cny"],
                          minlength=days + 1)[:days]
    return np.cumsum(accrued) - np.cumsum(settled)


def _working_capital(ledger: pd.DataFrame, daily: pd.DataFrame, days: int) -> np.ndarray:
    """Inventory (on hand and in transit) + receivables (trade, tax refunds) - payables,
    per day, in CNY."""
    trade = ledger["category"].isin(["sales", "vat", "commission", "payment_fee", "refund",
                                     *TAX_REFUNDS])
    purchases = ledger["category"] == "purchase"
    receivables = _outstanding(ledger[trade], days)
    payables = -_outstanding(ledger[purchases], days)
    return (daily["inventory_value_cny"] + daily["in_transit_value_cny"]).to_numpy() \
        + receivables - payables


def profit_and_loss(counts: StockCounts, ledger: pd.DataFrame) -> dict[str, float]:
    by_category = ledger.groupby("category", observed=False)["amount_cny"].sum()
    pnl = {f"{c}_cny": float(v) for c, v in by_category.items()}
    category = ledger["category"]
    fixed = float(ledger.loc[category.isin(FIXED), "amount_cny"].sum())
    operating = float(ledger.loc[~category.isin((*CAPITALISED, *FIXED)), "amount_cny"].sum())
    pnl["cogs_cny"] = counts.cogs_cny
    pnl["write_off_cny"] = counts.write_off_cny
    pnl["net_revenue_cny"] = pnl["sales_cny"] + pnl["vat_cny"]
    pnl["gross_margin_cny"] = (pnl["net_revenue_cny"] + pnl["refund_cny"] - counts.cogs_cny
                               - counts.write_off_cny)
    pnl["contribution_margin_cny"] = operating - counts.cogs_cny - counts.write_off_cny
    pnl["operating_profit_cny"] = pnl["contribution_margin_cny"] + fixed
    return pnl


def conservation(stock: Stock, pipeline: Pipeline, ledger: pd.DataFrame) -> dict[str, float]:
    """Residuals of the unit and money identities; both are zero in a correct run."""
    u = stock.counts
    transit_units, transit_value = pipeline.in_transit()
    units_in = u.opening + u.opening_in_transit + u.purchased
    units_out = (int(stock.on_hand.sum()) + transit_units + u.shipped - u.restocked
                 + u.defective + u.bulk_lost + u.bulk_damaged + u.cleared)
    pnl = profit_and_loss(u, ledger)
    inventory_change = stock.total_value() + transit_value - u.opening_value_cny
    money = float(ledger["amount_cny"].sum()) - (pnl["operating_profit_cny"] - inventory_change)
    return {"units_residual": float(units_in - units_out), "money_residual_cny": money,
            "units_in": float(units_in), "ledger_total_cny": float(ledger["amount_cny"].sum())}


LOGISTICS = ("parcel_freight", "last_mile", "parcel_duty", "pick_pack", "storage",
             "inbound_fee", "inbound_freight", "import_duty", "aged_surcharge")
"""Ledger categories of moving, clearing and keeping goods: what a channel plan costs."""


def kpis(net: Network, stock: Stock, paid_order_share: np.ndarray, streams: RunTables,
         result: RunResult) -> dict[str, Any]:
    sc = net.scenario
    counts = stock.counts
    days = net.days
    warm = sc.horizon.warmup_days
    orders, tickets, daily = streams.orders, streams.tickets, result.daily
    delivery_days = orders.delivery_days()
    day_rows = daily[daily["day"] >= warm]
    pnl = profit_and_loss(counts, result.ledger)
    net_revenue = pnl["net_revenue_cny"]
    ad_spend = float(daily["ad_spend_cny"].sum())
    # Ad-attributed revenue: each market-day's net revenue times the share of its orders
    # that paid traffic brought (paid sessions weighted by their conversion multiplier).
    attributed = float(np.dot(orders.revenue_ex_vat, paid_order_share[:, :days].ravel()))
    stock_value = (daily["inventory_value_cny"] + daily["in_transit_value_cny"]).to_numpy()
    cogs_per_day = counts.cogs_cny / days
    turnover = ageing.annual_turnover(counts.cogs_cny, stock_value, days)
    units_shipped = float(orders.units)
    return {
        "orders": orders.orders,
        "units_sold": orders.units,
        "net_revenue_cny": net_revenue,
        "gross_margin_cny": pnl["gross_margin_cny"],
        "gross_margin_pct": _pct(pnl["gross_margin_cny"], net_revenue),
        "contribution_margin_cny": pnl["contribution_margin_cny"],
        "contribution_margin_pct": _pct(pnl["contribution_margin_cny"], net_revenue),
        "operating_profit_cny": pnl["operating_profit_cny"],
        "operating_profit_pct": _pct(pnl["operating_profit_cny"], net_revenue),
        "landed_cost_per_unit_cny": orders.landed_cost_per_unit(),
        "logistics_cost_per_unit_cny": _ratio(
            -sum(pnl[f"{c}_cny"] for c in LOGISTICS), units_shipped),
        "profit_and_loss_cny": {k.removesuffix("_cny"): v for k, v in pnl.items()
                                if k.removesuffix("_cny") in (*CATEGORIES, "cogs", "write_off")},
        "fill_rate": _ratio(day_rows["units_filled"].sum(), day_rows["units_demanded"].sum()),
        "lost_sales_units": int(day_rows["lost_sales_units"].sum()),
        "stockout_sku_days": int(day_rows["skus_out_of_stock"].sum()),
        "on_time_rate": _ratio(orders.on_time, orders.delivered),
        "mean_delivery_days": float(delivery_days.mean()) if len(delivery_days) else 0.0,
        "p95_delivery_days": float(np.quantile(delivery_days, 0.95))
        if len(delivery_days) else 0.0,
        "return_rate": _ratio(orders.returned, orders.delivered),
        "refund_cost_cny": -pnl["refund_cny"],
        "lost_parcels": orders.lost,
        **exception_kpis(net, orders, day_rows),
        "cs_tickets": tickets.tickets,
        "cs_first_response_sla": _ratio(tickets.first_in_sla, tickets.tickets),
        "cs_resolution_sla": _ratio(tickets.resolved_in_sla, tickets.tickets),
        "cs_mean_first_response_hours": _ratio(tickets.first_response_hours, tickets.tickets),
        "cs_satisfaction": _ratio(tickets.satisfied, tickets.tickets),
        "disputes": tickets.disputes,
        "dispute_rate": _ratio(tickets.disputes, orders.steady),
        "dispute_cost_cny": tickets.dispute_cost_cny,
        "ad_spend_cny": ad_spend,
        "roas": _ratio(attributed, ad_spend),
        "inventory_turnover": turnover,
        **ageing.kpis(net, stock, turnover),
        "days_of_cover": _ratio(
            (daily.filter(like="stock_").sum(axis=1) + daily["in_transit_units"]).mean(),
            units_shipped / days),
        "cash_conversion_cycle_days": _cash_conversion_cycle(result.ledger, stock_value,
                                                             cogs_per_day),
        "peak_working_capital_cny": float(daily["working_capital_cny"].max()),
        "capital_cost_cny": float(stock_value.sum() * sc.finance.annual_capital_cost_rate / 365),
        "final_cash_cny": float(daily["cash_cny"].iloc[-1]),
        "min_cash_cny": float(daily["cash_cny"].min()),
        **_tax_timing(result.ledger, days),
    }


def _tax_timing(ledger: pd.DataFrame, days: int) -> dict[str, float]:
    """Import VAT paid at clearance, and the most cash waiting for tax refunds (import VAT
    to recover, export rebates to receive) at a day's end."""
    rows = ledger[ledger["category"].isin(TAX_REFUNDS)]
    paid = rows[(rows["category"] == "import_vat") & (rows["amount_cny"] < 0)]
    return {"import_vat_paid_cny": -float(paid["amount_cny"].sum()),
            "peak_tax_receivable_cny": float(_outstanding(rows, days).max(initial=0.0))}


def exception_kpis(net: Network, orders: OrderTotals, days: pd.DataFrame) -> dict[str, Any]:
    """Warehouse work and exceptions (``sim.picking``, ``sim.exceptions``,
    ``sim.account_health``) over the steady orders and days."""
    queue = days[[f"pick_queue_{w}" for w in net.warehouses]].sum(axis=1)
    standing = days[[f"account_health_{m}" for m in net.markets]].to_numpy()
    return {
        "dispatched_within_24h": _ratio(orders.dispatched_within_24h, orders.steady),
        "peak_pick_queue_units": float(queue.max()) if len(queue) else 0.0,
        "reshipped_parcels": orders.reshipped,
        "undeliverable_parcels": orders.undeliverable,
        "order_defect_rate": _ratio(orders.defects, orders.steady),
        "account_health_cut_days": int((standing < 1.0).sum()),
    }


def _cash_conversion_cycle(ledger: pd.DataFrame, stock_value: np.ndarray,
                           cogs_per_day: float) -> float:
    """Days inventory outstanding + days sales outstanding - days payables outstanding."""
    def lag(category: str) -> float:
        rows = ledger[ledger["category"] == category]
        weight = rows["amount_cny"].abs()
        return float(np.average(rows["cash_day"] - rows["accrual_day"], weights=weight)) \
            if weight.sum() > 0 else 0.0

    dio = stock_value.mean() / cogs_per_day if cogs_per_day > 0 else 0.0
    return float(dio + lag("sales") - lag("purchase"))


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def _pct(numerator: float, denominator: float) -> float:
    return 100.0 * _ratio(numerator, denominator)
