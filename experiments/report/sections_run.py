"""The report of one simulated run (``xbsim run``): the answer first (a sentence and six
figures), the profit and loss, each market and each SKU, then traffic, stock, delivery,
landed cost, cash and customer service, each where the run has data; every KPI and the raw
ledger totals last, collapsed.

The calendar windows and the reorder points come from the resolved scenario the run's
manifest stores, so the report shows what the run used even if the scenario file has
changed since.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.kpis import FAMILIES
from experiments.report import figures_run, landed, markets, pnl, skus
from experiments.report.detect import Result
from experiments.report.html import Details, Figure, Headline, Page, Section, Stat
from experiments.report.numbers import count, money, number, per_unit, percent
from experiments.report.tables import kpi_rows
from experiments.report.text import Part
from experiments.storage.manifest import RunManifest
from sim.ledger import CATEGORIES

ORDER_COLUMNS_READ = (
    "order_day", "market", "sku", "units", "warehouse", "route", "mode", "promise_days",
    "delivery_days", "on_time", "lost", "undeliverable", "return_day", "disposition",
    "revenue", "revenue_cny", "product_cost_cny", "inbound_freight_cny", "import_duty_cny",
    "refund_cny", "landed_cost_cny")
"""The order columns the page reads: 21 of the table's 35, so a year of millions of orders
is not read whole."""


def page(result: Result, figures: Path) -> Page:
    """The run's page; a section is left out when the run has no rows for it (no delivered
    order, no ticket), as in a run of a few days."""
    manifest = result.manifest
    assert isinstance(manifest, RunManifest)
    scenario = manifest.scenario
    summary = json.loads(result.file("summary.json").read_text(encoding="utf-8"))
    daily = pd.read_parquet(result.file("daily.parquet"))
    orders = pd.read_parquet(result.file("orders.parquet"), columns=list(ORDER_COLUMNS_READ))
    start, end = daily["date"].iloc[0], daily["date"].iloc[-1]
    facts = [("scenario file", manifest.scenario_file),
             ("scenario hash", manifest.scenario_hash[:16]),
             ("seed", str(manifest.seed)),
             ("horizon", f"{start:%Y-%m-%d} to {end:%Y-%m-%d} ({len(daily)} days)"),
             ("code version", manifest.code_version),
             ("simulated in", f"{manifest.wall_seconds:.2f} s")]
    spans = _spans(scenario, start, end)
    ledger = pd.read_parquet(result.file("ledger.parquet"))
    shipments = pd.read_parquet(result.file("shipments.parquet"))
    stock = skus.rebuild(scenario, daily, orders, shipments)
    timely = markets.on_time(orders, int(scenario["horizon"].get("warmup_days", 0)))
    outs = skus.stockouts(stock, daily, orders) if stock is not None else None
    sections = [_money(summary, orders, ledger, daily, scenario),
                _markets(summary, orders, ledger, daily, scenario, timely)]
    if len(orders):
        sections.append(_skus(orders, daily, scenario, stock, outs))
    sections += [Section(
        "traffic", "Traffic and orders",
        "Where the visitors came from each day (organic and each paid channel) and the "
        "orders they placed; lost sales are demand that found no stock.",
        [Figure(figures_run.traffic(daily, spans, figures / "traffic.png"),
                "Sessions by source (stacked) and orders per day; shaded: the scenario's "
                "peak events.")]), _stock(stock, daily, spans, figures)]
    if (~orders["lost"]).any():
        sections.append(Section(
            "delivery", "Delivery time against the promise",
            "How long delivered orders took from order to doorstep, per shipping mode, "
            "against the delivery promise of the markets it serves.",
            [Figure(figures_run.delivery(orders, figures / "delivery.png"),
                    "Histogram of delivery days per mode; dashed: the promise.")]))
    if len(orders):
        sections.append(_landed(orders, ledger, markets.ad_shares(daily, scenario), figures))
    sections.append(Section(
        "cash", "Cash and working capital",
        "Cash after every inflow and outflow on its cash day (payouts arrive on the "
        "marketplace's cycle, suppliers are paid on their terms), and the money tied up in "
        "stock, receivables less payables.",
        [Figure(figures_run.cash(daily, figures / "cash.png"),
                "Cash, working capital and inventory value (million CNY).")]))
    tickets = pd.read_parquet(result.file("tickets.parquet"))
    if len(tickets):
        service = scenario["service"]
        sections.append(Section(
            "service", "Customer service against the SLA",
            f"Tickets waiting for a first response at each day's end, and the 95th "
            f"percentile of first-response and resolution times by arrival day against the "
            f"SLA ({service['first_response_sla_hours']:g} h first response, "
            f"{service['resolution_sla_hours']:g} h resolution).",
            [Figure(figures_run.service(tickets, daily, service["first_response_sla_hours"],
                                        service["resolution_sla_hours"],
                                        figures / "service.png"),
                    "Backlog and slowest tickets per day; dashed: the SLA."),
             *_service_against_target(summary)]))
    sections.append(_appendix(summary))
    return Page(f"xbsim run: {scenario['name']}", scenario.get("description") or
                "one simulated run", facts, sections,
                _headline(summary, len(daily), timely, outs))


def _headline(summary: dict[str, Any], days: int, timely: pd.DataFrame,
              outs: pd.DataFrame | None) -> Headline:
    """Six figures a manager reads first; a single run has no interval, so each is set
    against its own context (revenue, demand, the promise, the cash low)."""
    margin = summary["contribution_margin_cny"]
    worst = markets.worst_on_time(timely)
    top = outs.iloc[0] if outs is not None and len(outs) else None
    short = (f"; the SKU most short was {top['sku']} at {top['warehouse']} ({top['days_out']} "
             f"days out, first on {top['first']:%Y-%m-%d})" if top is not None else "")
    sentence = (f"Over {days} days the operation "
                f"{'earned' if margin >= 0 else 'LOST MONEY, with'} a contribution margin of "
                f"{money(margin)} ({number(summary['contribution_margin_pct'], 1)} % of "
                f"net revenue) on {count(summary['orders'])} orders; it filled "
                f"{percent(summary['fill_rate'])} of demand from stock{short}, and delivered "
                f"{percent(summary['on_time_rate'])} of orders on time.")
    return Headline(sentence, [
        Stat("Contribution margin", money(margin),
             f"{number(summary['contribution_margin_pct'], 1)} % of net revenue "
             f"{money(summary['net_revenue_cny'])}", "bad" if margin < 0 else ""),
        Stat("Fill rate from stock", percent(summary["fill_rate"]),
             f"{count(summary['lost_sales_units'])} units lost; "
             f"{count(len(outs) if outs is not None else 0)} SKU-warehouse pairs ran out"),
        Stat("On time against the promise", percent(summary["on_time_rate"]),
             f"least on time: {worst}" if worst else ""),
        Stat("Mean delivery time", f"{number(summary['mean_delivery_days'], 1)} days",
             f"95th percentile {number(summary['p95_delivery_days'], 1)} days"),
        Stat("Landed and selling cost per unit",
             per_unit(_cost_per_unit(summary)),
             f"logistics alone {per_unit(summary['logistics_cost_per_unit_cny'])}"),
        Stat("Lowest cash", money(summary["min_cash_cny"]),
             f"peak working capital {money(summary['peak_working_capital_cny'])}",
             "bad" if summary["min_cash_cny"] < 0 else "")])


def _service_against_target(summary: dict[str, Any]) -> list[Part]:
    """Satisfaction against the sources' 85 % target, the disputes late answers caused and
    what the desk cost (``sim.disputes``, ``sim.staffing``); none for results written
    before these KPIs existed."""
    if "cs_satisfaction" not in summary:
        return []
    satisfaction = summary["cs_satisfaction"]
    wages = -summary["profit_and_loss_cny"].get("agent_wages", 0.0)
    rows = [["Satisfaction: answered and resolved within the SLAs, not disputed",
             percent(satisfaction), "target 85 %: " + ("met" if satisfaction >= 0.85
                                                       else "MISSED")],
            ["First response within the SLA", percent(summary["cs_first_response_sla"]), ""],
            ["Resolved within the SLA", percent(summary["cs_resolution_sla"]), ""],
            ["Disputes (order tickets answered late that escalated)",
             count(summary["disputes"]), f"{number(100 * summary['dispute_rate'], 2)} % of "
                                         "orders"],
            ["Dispute fees and refunds", money(summary["dispute_cost_cny"]), ""],
            ["Agents' wages", money(wages), "below the contribution margin"]]
    return [Part("Service against the target", ["measure", "value", "note"], rows,
                 [False, True, False])]


def _cost_per_unit(summary: dict[str, Any]) -> float:
    """Every cost on the statement per unit sold: net revenue less contribution, less
    refunds (a refund is revenue given back, not a cost of the unit)."""
    lines = pnl.signed_lines(summary["profit_and_loss_cny"])
    costs = summary["net_revenue_cny"] - summary["contribution_margin_cny"] + lines["refund"]
    return costs / summary["units_sold"] if summary["units_sold"] else float("nan")


def _money(summary: dict[str, Any], orders: pd.DataFrame, ledger: pd.DataFrame,
           daily: pd.DataFrame, scenario: dict[str, Any]) -> Section:
    lines = summary.get(FAMILIES["profit_and_loss_cny"].name, {})
    landed_units = orders["landed_cost_cny"].sum() / max(1, orders["units"].sum())
    return Section(
        "kpis", "Profit and loss",
        "Money over the whole horizon on an accrual basis, in CNY along the simulated "
        "exchange rates. Money in is positive, costs negative; each subtotal is the sum of "
        "the lines above it. Agents' wages and overheads follow no order: they come below the "
        "contribution margin, on the way to operating profit.",
        [pnl.statement_part(lines), pnl.stock_memo(lines),
         Part("What a unit costs: three figures, three scopes", ["figure", "CNY per unit",
                                                                  "includes"],
              [["Landed and selling cost per unit sold", number(_cost_per_unit(summary), 2),
                "every cost on the statement (goods, freight, duties, fees, warehouses, ads, "
                "returns), refunds excluded"],
               ["Landed cost per unit shipped (order lines)", number(landed_units, 2),
                "product, inbound freight, import and parcel duty, outbound freight, "
                "commission, payment and pick-and-pack fees of each order line"],
               ["Logistics cost per unit sold", number(summary["logistics_cost_per_unit_cny"],
                                                       2),
                "freight (inbound, parcel, last mile), duties, pick and pack, warehouse "
                "storage and receiving fees; not the product, fees or ads"]],
              [False, True, False])])


def _markets(summary: dict[str, Any], orders: pd.DataFrame, ledger: pd.DataFrame,
             daily: pd.DataFrame, scenario: dict[str, Any], timely: pd.DataFrame) -> Section:
    lines = summary.get(FAMILIES["profit_and_loss_cny"].name, {})
    columns: dict[str, dict[str, float]] = dict(
        markets.market_flows(orders, ledger, daily, scenario, lines))
    columns["all markets"] = dict(lines)
    content: list[Part | Figure | Details | str] = [
        pnl.by_columns(columns, "Profit and loss by market [CNY]")]
    if len(timely):
        content.append(markets.on_time_part(timely))
    return Section(
        "markets", "By market",
        "Each market's profit and loss and its delivery against the promise. Entries booked "
        "to no market are shared out: advertising only among the markets its paid traffic "
        "reaches (by paid sessions), warehouse storage and receiving fees by units sold, cost "
        "of goods sold and write-offs by the landed value of each market's orders.", content)


def _skus(orders: pd.DataFrame, daily: pd.DataFrame, scenario: dict[str, Any],
          stock: skus.StockBySku | None, outs: pd.DataFrame | None) -> Section:
    vat = {m: float(spec.get("vat_rate", 0.0)) for m, spec in scenario["markets"].items()}
    margins = skus.margin_by_sku(orders, vat)
    content: list[Part | Figure | Details | str] = []
    lost: dict[str, float] = {}
    if stock is not None and outs is not None:
        lost = outs.groupby("sku")["lost_units"].sum().to_dict()
        matched = stock.matched_days(daily["skus_out_of_stock"].to_numpy())
        content += [
            skus.stockouts_part(outs, margins["margin_per_unit"].fillna(0.0).to_dict())
            if len(outs) else "No selling warehouse ran out of any SKU.",
            f"Stock per SKU is rebuilt from the orders and shipments (the run records stock "
            f"per warehouse only); the rebuilt stock-outs match the run's own count on "
            f"{matched} of {len(daily)} days. Lost units are estimated: each day's lost sales "
            "shared among the SKUs out that day by their usual daily sales.",
            skus.reorder_part(skus.against_reorder_point(stock), len(daily)),
            "A reorder point applies to stock on hand plus stock on order and in transit, so a "
            "warehouse fed by a long lane sits below it on hand for much of the year by "
            "design; days out are the ones that cost sales."]
    else:
        content.append("Stock per SKU not shown: the stored scenario no longer validates.")
    content.append(skus.margin_part(margins, lost))
    return Section("skus", "By SKU",
                   "Which SKUs ran out, where and when, what that cost, and each SKU's margin.",
                   content)


def _stock(stock: skus.StockBySku | None, daily: pd.DataFrame,
           spans: list[figures_run.Span], figures: Path) -> Section:
    below = skus.below_reorder_point(stock) if stock is not None else {}
    return Section("stock", "Stock, reorder points and the pipeline",
                   "Units on hand at each warehouse, how many of its SKUs are below their own "
                   "reorder point, the units on their way (on order at suppliers, then in "
                   "transit) and the days on which a selling warehouse ran out of a SKU "
                   "(which SKUs: see By SKU).",
                   [Figure(figures_run.stock(daily, below, spans, figures / "stock.png"),
                           "Stock on hand per warehouse, SKUs below their own reorder point, "
                           "the pipeline on order and in transit, and stock-outs.")])


def _appendix(summary: dict[str, Any]) -> Section:
    """Every KPI and the ledger totals as summary.json holds them, for whoever checks."""
    family = FAMILIES["profit_and_loss_cny"]
    lines = summary.get(family.name, {})
    categories = [c for c in (*CATEGORIES, "cogs", "write_off") if c in lines]
    return Section("appendix", "Appendix: every KPI and the ledger totals", "", [
        Details("Every KPI of the run", [
            Part("KPIs", ["KPI", "value", "unit"], [list(r) for r in kpi_rows(summary)],
                 [False, True, False])]),
        Details("Ledger totals as summary.json records them", [
            Part("Profit and loss by ledger category", ["line", family.unit],
                 [[c, family.format.format(lines[c])] for c in categories], [False, True]),
            "Ledger categories are signed flows (costs negative), except cost of goods sold "
            "(cogs) and write-offs, which summary.json records as positive costs; the "
            "statement above gives every line the sign of its effect on the margin."])])


def _landed(orders: pd.DataFrame, ledger: pd.DataFrame, ad_shares: dict[str, float],
            figures: Path) -> Section:
    table = landed.per_route(orders, ledger, ad_shares)
    columns = [*landed.ROUTE_STEPS, "total", landed.PRICE]
    rows = [[route, *(f"{table.at[route, c]:,.2f}" for c in columns),
             f"{table.at[route, 'units']:,.0f}"] for route in table.index]
    return Section(
        "landed-cost", "Landed cost per unit by fulfilment route",
        "Every cost of a unit shipped on each route, in CNY per unit: its landed value "
        "(product, inbound freight, import duty) from the orders, the rest from the ledger. "
        "A market's ledger entries are shared among its routes by revenue; entries without a "
        "market are shared among all routes: ads among the markets their paid traffic reaches "
        "(by paid sessions, then by revenue within a market), warehouse storage and inbound "
        "fees by units.",
        [Figure(landed.waterfall_figure(table, figures / "landed_cost.png"),
                "Waterfall of cost per unit shipped by route; dashed: the price customers "
                "paid net of refunds (VAT included)."),
         Part("CNY per unit shipped", ["route", *columns, "units"], rows,
              [False, *[True] * (len(columns) + 1)])])


def _spans(scenario: dict[str, Any], first: pd.Timestamp,
           last: pd.Timestamp) -> list[figures_run.Span]:
    """Peak events, factory shutdowns and disruptions that overlap the horizon."""
    windows = [(e["name"], e, "peak") for e in scenario["calendar"].get("peak_events", [])]
    if scenario["calendar"].get("chinese_new_year"):
        windows.append(("Chinese New Year", scenario["calendar"]["chinese_new_year"],
                        "supply"))
    for name, supplier in scenario.get("suppliers", {}).items():
        windows += [(f"{name} shutdown", w, "supply") for w in supplier.get("shutdowns", [])]
    windows += [(d["name"], d, "supply") for d in scenario.get("disruptions", [])]
    spans = []
    for name, window, kind in windows:
        start = np.datetime64(window["start"], "D")
        end = start + np.timedelta64(window["days"], "D")
        if start <= last and end > first:
            spans.append(figures_run.Span(name, start, end, kind))
    return spans
