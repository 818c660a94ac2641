"""The report of one simulated run (``xbsim run``): KPIs and the profit and loss, then
traffic, stock, delivery, landed cost, cash and customer service, each where the run has data.

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
from experiments.report import figures_run, landed
from experiments.report.detect import Result
from experiments.report.html import Figure, Page, Section
from experiments.report.tables import kpi_rows
from experiments.report.text import Part
from experiments.storage.manifest import RunManifest
from sim.ledger import CATEGORIES
from sim.loader import ScenarioError, validate
from sim.network import compile_network


def page(result: Result, figures: Path) -> Page:
    """The run's page; a section is left out when the run has no rows for it (no delivered
    order, no ticket), as in a run of a few days."""
    manifest = result.manifest
    assert isinstance(manifest, RunManifest)
    scenario = manifest.scenario
    summary = json.loads(result.file("summary.json").read_text(encoding="utf-8"))
    daily = pd.read_parquet(result.file("daily.parquet"))
    orders = pd.read_parquet(result.file("orders.parquet"))
    start, end = daily["date"].iloc[0], daily["date"].iloc[-1]
    facts = [("scenario file", manifest.scenario_file),
             ("scenario hash", manifest.scenario_hash[:16]),
             ("seed", str(manifest.seed)),
             ("horizon", f"{start:%Y-%m-%d} to {end:%Y-%m-%d} ({len(daily)} days)"),
             ("code version", manifest.code_version),
             ("simulated in", f"{manifest.wall_seconds:.2f} s")]
    spans = _spans(scenario, start, end)
    sections = [_kpis(summary), Section(
        "traffic", "Traffic and orders",
        "Where the visitors came from each day (organic and each paid channel) and the "
        "orders they placed; lost sales are demand that found no stock.",
        [Figure(figures_run.traffic(daily, spans, figures / "traffic.png"),
                "Sessions by source (stacked) and orders per day; shaded: the scenario's "
                "peak events.")]), _stock(scenario, daily, spans, figures)]
    if (~orders["lost"]).any():
        sections.append(Section(
            "delivery", "Delivery time against the promise",
            "How long delivered orders took from order to doorstep, per shipping mode, "
            "against the delivery promise of the markets it serves.",
            [Figure(figures_run.delivery(orders, figures / "delivery.png"),
                    "Histogram of delivery days per mode; dashed: the promise.")]))
    if len(orders):
        sections.append(_landed(orders, pd.read_parquet(result.file("ledger.parquet")), figures))
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
                    "Backlog and slowest tickets per day; dashed: the SLA.")]))
    return Page(f"xbsim run: {scenario['name']}", scenario.get("description") or
                "one simulated run", facts, sections)


def _kpis(summary: dict[str, Any]) -> Section:
    family = FAMILIES["profit_and_loss_cny"]
    pnl = summary.get(family.name, {})
    lines = [c for c in (*CATEGORIES, "cogs", "write_off") if c in pnl]
    return Section(
        "kpis", "Key figures",
        "Money over the whole horizon on an accrual basis, in CNY along the simulated "
        "exchange rates; service figures exclude the warm-up days.",
        [Part("KPIs", ["KPI", "value", "unit"], [list(r) for r in kpi_rows(summary)],
              [False, True, False]),
         Part("Profit and loss by ledger category", ["line", family.unit],
              [[c, family.format.format(pnl[c])] for c in lines], [False, True]),
         "Ledger lines are signed flows (costs negative). Purchases, inbound freight and "
         "import duty become inventory and reach the margin as cost of goods sold (cogs) and "
         "write-offs, shown as positive costs."])


def _stock(scenario: dict[str, Any], daily: pd.DataFrame, spans: list[figures_run.Span],
           figures: Path) -> Section:
    reorder, note = reorder_points(scenario)
    content: list[Part | Figure | str] = [
        Figure(figures_run.stock(daily, reorder, spans, figures / "stock.png"),
               "Stock on hand per warehouse (dashed: reorder points), the pipeline on order "
               "and in transit, and stock-outs.")]
    if note:
        content.append(note)
    return Section("stock", "Stock, reorder points and the pipeline",
                   "Units on hand at each warehouse against the sum of its SKUs' reorder "
                   "points, the units on their way (on order at suppliers, then in transit) "
                   "and the days on which a selling warehouse ran out of a SKU.", content)


def reorder_points(scenario: dict[str, Any]) -> tuple[dict[str, float], str]:
    """Each warehouse's reorder points summed over SKUs, in units, as the simulation compiles
    them (days of cover become units at the expected demand); with a note when the stored
    scenario no longer validates against the current schema."""
    try:
        sc = validate(scenario, "manifest.json")
    except ScenarioError as exc:
        return {}, f"Reorder points not shown: the stored scenario no longer validates ({exc})."
    net = compile_network(sc)
    return dict(zip(net.warehouses, net.policies.reorder_point.sum(axis=1).tolist(),
                    strict=True)), ""


def _landed(orders: pd.DataFrame, ledger: pd.DataFrame, figures: Path) -> Section:
    table = landed.per_route(orders, ledger)
    columns = [*landed.ROUTE_STEPS, "total", landed.PRICE]
    rows = [[route, *(f"{table.at[route, c]:,.2f}" for c in columns),
             f"{table.at[route, 'units']:,.0f}"] for route in table.index]
    return Section(
        "landed-cost", "Landed cost per unit by fulfilment route",
        "Every cost of a unit shipped on each route, in CNY per unit: its landed value "
        "(product, inbound freight, import duty) from the orders, the rest from the ledger. "
        "A market's ledger entries are shared among its routes by revenue; entries without a "
        "market are shared among all routes, ads by revenue, warehouse storage and inbound "
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
