"""What a run produces: its tables, its KPIs and its conservation checks.

Money KPIs cover the whole horizon on an accrual basis (every ledger entry counts, including
payouts that fall after the horizon); service KPIs (fill rate, on-time, delivery days,
stock-outs, tickets) skip ``horizon.warmup_days``. All money KPIs are in CNY.

    net revenue           = sales - output VAT
    gross margin          = net revenue + refunds - cost of goods sold - write-offs
    contribution margin   = every ledger flow except capitalised ones (purchases, inbound
                            freight, import duty) - cost of goods sold - write-offs

where cost of goods sold is the landed value (product, inbound freight, import duty) of the
units shipped, less what restocked returns put back. Hence the money identity the tests check:
sum(ledger) = contribution margin - (closing - opening inventory value, in transit included).

Units: what was on hand and in transit on day 0, plus what purchase orders delivered (an
opening state's open orders among them), is on hand, in transit, shipped (less restocked
returns) or written off (defective, lost, damaged) at the end.

A run whose tables or KPIs are not finite, or whose identities do not balance, stops with
``sim.integrity.RunIntegrityError`` instead of returning results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.integrity import check_run
from sim.inventory import Stock, StockCounts
from sim.ledger import CAPITALISED, CATEGORIES, Ledger
from sim.network import Network
from sim.pipeline import Pipeline
from sim.recorder import Recorder
from sim.records import Records, WeeklyTrace
from sim.returns import DISPOSITIONS
from sim.scenario import Scenario
from sim.service import TICKET_TYPES


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
    conservation: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    closing_stock: np.ndarray | None = None
    """Units on hand at the end [warehouse, sku], in the scenario's order: the stock a plan
    made for the days after the run starts from."""
    weekly: WeeklyTrace | None = None
    """Stock, units issued to orders and demand per SKU and week (``sim.records``)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"orders": self.orders, "daily": self.daily, "shipments": self.shipments,
                "ledger": self.ledger, "tickets": self.tickets}


def _name(codes: pd.Series | np.ndarray, names: list[str]) -> pd.Categorical:
    """Integer codes to a categorical of names; -1 stays missing."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=int), categories=names)


def collect(net: Network, seed: int, started: float, records: Records, ledger: Ledger,
            stock: Stock, pipeline: Pipeline, tickets: Recorder,
            paid_order_share: np.ndarray) -> RunResult:
    """Build the tables and KPIs at the run's end; ``started`` is the perf_counter() at
    the run's start, ``paid_order_share`` [market, day] the share of orders paid traffic
    brought (``sim.demand.DemandModel``)."""
    start = np.datetime64(net.scenario.horizon.start_date, "D")
    orders = records.orders.frame()
    orders.insert(1, "order_date", start + orders["order_day"].to_numpy().astype("timedelta64[D]"))
    orders["market"] = _name(orders["market"], net.markets)
    orders["sku"] = _name(orders["sku"], net.skus)
    orders["warehouse"] = _name(orders["warehouse"], net.warehouses)
    orders["mode"] = _name(orders["mode"], net.modes)
    orders["disposition"] = _name(orders["disposition"], list(DISPOSITIONS))
    orders.insert(8, "route", pd.Categorical.from_codes(
        (~orders["direct"].to_numpy()).astype(np.int8), ["direct", "warehouse"]))

    shipments = records.shipments.frame()
    shipments["mode"] = _name(shipments["mode"], net.modes)
    for column in ("origin", "destination"):
        shipments[column] = _name(shipments[column], net.warehouses)
    shipments["sku"] = _name(shipments["sku"], net.skus)

    ticket_table = tickets.frame()
    ticket_table["type"] = _name(ticket_table["type"], list(TICKET_TYPES))
    ledger_table = ledger.frame(net.markets)

    days = net.days
    daily = records.daily.frame()
    daily.insert(1, "date", start + daily["day"].to_numpy().astype("timedelta64[D]"))
    cash_by_day = ledger_table.groupby("cash_day")["amount_cny"].sum()
    cash_flow = cash_by_day.reindex(range(days), fill_value=0.0).to_numpy()
    daily["cash_cny"] = net.scenario.finance.initial_cash_cny + np.cumsum(cash_flow)
    daily["cs_queue"] = _queue_at_day_end(ticket_table, days)
    daily["working_capital_cny"] = _working_capital(ledger_table, daily, days)

    result = RunResult(net.scenario, seed, orders, daily, shipments, ledger_table,
                       ticket_table, {})
    result.closing_stock = stock.on_hand.copy()
    result.weekly = records.weekly
    result.conservation = conservation(stock, pipeline, ledger_table)
    result.summary = kpis(net, stock.counts, paid_order_share, result)
    check_run(result.tables(), result.summary, result.conservation,
              gross_cny(stock, pipeline, ledger_table))
    result.wall_seconds = time.perf_counter() - started
    return result


def gross_cny(stock: Stock, pipeline: Pipeline, ledger: pd.DataFrame) -> float:
    """The scale of a run's money: every flow and stock value counted without sign, against
    which the money identity's rounding is judged."""
    counts = stock.counts
    return float(np.abs(ledger["amount_cny"].to_numpy()).sum() + abs(counts.opening_value_cny)
                 + abs(stock.total_value()) + abs(pipeline.in_transit()[1])
                 + abs(counts.cogs_cny) + abs(counts.write_off_cny))


def _queue_at_day_end(tickets: pd.DataFrame, days: int) -> np.ndarray:
    """Tickets that have arrived but not yet had a first response, at each day's end."""
    ends = 24.0 * (np.arange(days) + 1)
    arrived = np.sort(tickets["arrival_hour"].to_numpy())
    answered = np.sort((tickets["arrival_hour"] + tickets["first_response_hours"]).to_numpy())
    return np.searchsorted(arrived, ends) - np.searchsorted(answered, ends)


def _working_capital(ledger: pd.DataFrame, daily: pd.DataFrame, days: int) -> np.ndarray:
    """Inventory (on hand and in transit) + receivables - payables, per day, in CNY."""
    def outstanding(rows: pd.DataFrame) -> np.ndarray:
        accrued = np.bincount(rows["accrual_day"].clip(upper=days), rows["amount_cny"],
                              minlength=days + 1)[:days]
        settled = np.bincount(rows["cash_day"].clip(upper=days), rows["amount_cny"],
                              minlength=days + 1)[:days]
        return np.cumsum(accrued) - np.cumsum(settled)

    trade = ledger["category"].isin(["sales", "vat", "commission", "payment_fee", "refund"])
    purchases = ledger["category"] == "purchase"
    receivables = outstanding(ledger[trade])
    payables = -outstanding(ledger[purchases])
    return (daily["inventory_value_cny"] + daily["in_transit_value_cny"]).to_numpy() \
        + receivables - payables


def profit_and_loss(counts: StockCounts, ledger: pd.DataFrame) -> dict[str, float]:
    by_category = ledger.groupby("category", observed=False)["amount_cny"].sum()
    pnl = {f"{c}_cny": float(v) for c, v in by_category.items()}
    operating = float(ledger.loc[~ledger["category"].isin(CAPITALISED), "amount_cny"].sum())
    pnl["cogs_cny"] = counts.cogs_cny
    pnl["write_off_cny"] = counts.write_off_cny
    pnl["net_revenue_cny"] = pnl["sales_cny"] + pnl["vat_cny"]
    pnl["gross_margin_cny"] = (pnl["net_revenue_cny"] + pnl["refund_cny"] - counts.cogs_cny
                               - counts.write_off_cny)
    pnl["contribution_margin_cny"] = operating - counts.cogs_cny - counts.write_off_cny
    return pnl


def conservation(stock: Stock, pipeline: Pipeline, ledger: pd.DataFrame) -> dict[str, float]:
    """Residuals of the unit and money identities; both are zero in a correct run."""
    u = stock.counts
    transit_units, transit_value = pipeline.in_transit()
    units_in = u.opening + u.opening_in_transit + u.purchased
    units_out = (int(stock.on_hand.sum()) + transit_units + u.shipped - u.restocked
                 + u.defective + u.bulk_lost + u.bulk_damaged)
    pnl = profit_and_loss(u, ledger)
    inventory_change = stock.total_value() + transit_value - u.opening_value_cny
    money = float(ledger["amount_cny"].sum()) - (pnl["contribution_margin_cny"] - inventory_change)
    return {"units_residual": float(units_in - units_out), "money_residual_cny": money,
            "units_in": float(units_in), "ledger_total_cny": float(ledger["amount_cny"].sum())}


LOGISTICS = ("parcel_freight", "last_mile", "parcel_duty", "pick_pack", "storage",
             "inbound_fee", "inbound_freight", "import_duty")
"""Ledger categories of moving, clearing and keeping goods: what a channel plan costs."""


def kpis(net: Network, counts: StockCounts, paid_order_share: np.ndarray,
         result: RunResult) -> dict[str, Any]:
    sc = net.scenario
    days = net.days
    warm = sc.horizon.warmup_days
    orders, daily, tickets = result.orders, result.daily, result.tickets
    steady = orders["order_day"].to_numpy() >= warm
    lost = orders["lost"].to_numpy()
    undeliverable = orders["undeliverable"].to_numpy()
    delivered = steady & ~lost & ~undeliverable
    n_delivered = int(delivered.sum())
    delivery_days = orders["delivery_days"].to_numpy()[delivered]
    day_rows = daily[daily["day"] >= warm]
    pnl = profit_and_loss(counts, result.ledger)
    net_revenue = pnl["net_revenue_cny"]
    ad_spend = float(daily["ad_spend_cny"].sum())
    # Ad-attributed revenue: each market-day's net revenue times the share of its orders
    # that paid traffic brought (paid sessions weighted by their conversion multiplier).
    market_code = orders["market"].cat.codes.to_numpy().astype(np.int64)
    vat_share = 1.0 / (1.0 + net.market.vat_rate[market_code])
    cell = market_code * days + orders["order_day"].to_numpy()
    revenue = np.bincount(cell, orders["revenue_cny"] * vat_share,
                          minlength=len(net.markets) * days)
    attributed = float(np.dot(revenue, paid_order_share[:, :days].ravel()))
    stock_value = (daily["inventory_value_cny"] + daily["in_transit_value_cny"]).to_numpy()
    cogs_per_day = counts.cogs_cny / days
    steady_tickets = tickets[tickets["arrival_hour"] >= 24.0 * warm]
    spec = sc.service
    units_shipped = float(orders["units"].sum())
    by_route = orders.groupby(["market", "route", "mode"], observed=True)[
        ["landed_cost_cny", "units"]].sum()
    landed = {" ".join(map(str, key)): row["landed_cost_cny"] / row["units"]
              for key, row in by_route.iterrows()}
    return {
        "orders": int(len(orders)),
        "units_sold": int(units_shipped),
        "net_revenue_cny": net_revenue,
        "gross_margin_cny": pnl["gross_margin_cny"],
        "gross_margin_pct": _pct(pnl["gross_margin_cny"], net_revenue),
        "contribution_margin_cny": pnl["contribution_margin_cny"],
        "contribution_margin_pct": _pct(pnl["contribution_margin_cny"], net_revenue),
        "landed_cost_per_unit_cny": {k: round(float(v), 2) for k, v in landed.items()},
        "logistics_cost_per_unit_cny": _ratio(
            -sum(pnl[f"{c}_cny"] for c in LOGISTICS), units_shipped),
        "profit_and_loss_cny": {k.removesuffix("_cny"): v for k, v in pnl.items()
                                if k.removesuffix("_cny") in (*CATEGORIES, "cogs", "write_off")},
        "fill_rate": _ratio(day_rows["units_filled"].sum(), day_rows["units_demanded"].sum()),
        "lost_sales_units": int(day_rows["lost_sales_units"].sum()),
        "stockout_sku_days": int(day_rows["skus_out_of_stock"].sum()),
        "on_time_rate": _ratio((orders["on_time"].to_numpy() & delivered).sum(), n_delivered),
        "mean_delivery_days": float(delivery_days.mean()) if n_delivered else 0.0,
        "p95_delivery_days": float(np.quantile(delivery_days, 0.95)) if n_delivered else 0.0,
        "return_rate": _ratio((orders["returned"].to_numpy() & delivered).sum(), n_delivered),
        "refund_cost_cny": -pnl["refund_cny"],
        "lost_parcels": int((lost & steady).sum()),
        **exception_kpis(net, orders[steady], day_rows),
        "cs_tickets": int(len(steady_tickets)),
        "cs_first_response_sla": _ratio(
            (steady_tickets["first_response_hours"] <= spec.first_response_sla_hours).sum(),
            len(steady_tickets)),
        "cs_resolution_sla": _ratio(
            (steady_tickets["resolution_hours"] <= spec.resolution_sla_hours).sum(),
            len(steady_tickets)),
        "cs_mean_first_response_hours": float(steady_tickets["first_response_hours"].mean())
        if len(steady_tickets) else 0.0,
        "ad_spend_cny": ad_spend,
        "roas": _ratio(attributed, ad_spend),
        "inventory_turnover": _ratio(counts.cogs_cny * 365.0 / days, stock_value.mean()),
        "days_of_cover": _ratio(
            (daily.filter(like="stock_").sum(axis=1) + daily["in_transit_units"]).mean(),
            units_shipped / days),
        "cash_conversion_cycle_days": _cash_conversion_cycle(result.ledger, stock_value,
                                                             cogs_per_day),
        "peak_working_capital_cny": float(daily["working_capital_cny"].max()),
        "capital_cost_cny": float(stock_value.sum() * sc.finance.annual_capital_cost_rate / 365),
        "final_cash_cny": float(daily["cash_cny"].iloc[-1]),
        "min_cash_cny": float(daily["cash_cny"].min()),
    }


def exception_kpis(net: Network, orders: pd.DataFrame, days: pd.DataFrame) -> dict[str, Any]:
    """Warehouse work and exceptions (``sim.picking``, ``sim.exceptions``,
    ``sim.account_health``) over the steady orders and days."""
    queue = days[[f"pick_queue_{w}" for w in net.warehouses]].sum(axis=1)
    standing = days[[f"account_health_{m}" for m in net.markets]].to_numpy()
    return {
        "dispatched_within_24h": _ratio((orders["dispatch_days"] <= 1.0).sum(), len(orders)),
        "peak_pick_queue_units": float(queue.max()) if len(queue) else 0.0,
        "reshipped_parcels": int(orders["reshipped"].sum()),
        "undeliverable_parcels": int(orders["undeliverable"].sum()),
        "order_defect_rate": _ratio(orders["defect"].sum(), len(orders)),
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
