"""Which KPIs an experiment shows by default, and which way each one is better.

A ranking needs a direction: more contribution margin is better, more lost sales is worse.
Some KPIs have none (ad spend is a decision, days of cover is bad both ways); they are
compared but never ranked. KPI names are those of ``sim.results`` with nested summaries
flattened to ``outer.inner`` (``landed_cost_per_unit_cny.US warehouse us_last_mile``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from experiments.errors import ExperimentError
from experiments.tables import KPI_LABELS

HEADLINE_KPIS = ("orders", "net_revenue_cny", "contribution_margin_cny", "fill_rate",
                 "on_time_rate", "mean_delivery_days", "return_rate", "final_cash_cny")
"""Shown by a comparison and watched by a precision target unless ``--kpi`` says otherwise."""

NESTED_KPIS = ("landed_cost_per_unit_cny.", "profit_and_loss_cny.")
"""Prefixes of the flattened nested summaries (one KPI per route, one per P&L line)."""

HIGHER_IS_BETTER = frozenset({
    "orders", "units_sold", "net_revenue_cny", "gross_margin_cny", "gross_margin_pct",
    "contribution_margin_cny", "contribution_margin_pct", "fill_rate", "on_time_rate",
    "cs_first_response_sla", "cs_resolution_sla", "roas", "inventory_turnover",
    "final_cash_cny", "min_cash_cny"})
LOWER_IS_BETTER = frozenset({
    "lost_sales_units", "stockout_sku_days", "mean_delivery_days", "p95_delivery_days",
    "logistics_cost_per_unit_cny",
    "return_rate", "refund_cost_cny", "lost_parcels", "cs_tickets",
    "cs_mean_first_response_hours", "cash_conversion_cycle_days", "peak_working_capital_cny",
    "capital_cost_cny", "profit_and_loss_cny.cogs", "profit_and_loss_cny.write_off"})


def direction(kpi: str) -> int:
    """+1 if more is better, -1 if less is better, 0 if the KPI is not ranked.

    P&L lines are signed cash flows (costs negative), so more is better, except cost of
    goods sold and write-offs, which the summary reports as positive costs.
    """
    if kpi in HIGHER_IS_BETTER:
        return 1
    if kpi in LOWER_IS_BETTER or kpi.startswith("landed_cost_per_unit_cny."):
        return -1
    if kpi.startswith("profit_and_loss_cny."):
        return 1
    return 0


def kpi_order(names: Iterable[str]) -> list[str]:
    """A fixed column order: the summary's KPIs in their table order, then the rest sorted.

    Results assembled from parts finished in any order must come out column for column the
    same, so the order cannot follow the order in which the parts arrived.
    """
    names = set(names)
    known = [k for k in KPI_LABELS if k in names]
    return known + sorted(names - set(known))


def check_scenario_kpis(names: Iterable[str]) -> None:
    """Refuse a KPI name no scenario run reports, suggesting the closest one."""
    for name in names:
        if name not in KPI_LABELS and not name.startswith(NESTED_KPIS):
            close = difflib.get_close_matches(name, KPI_LABELS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ExperimentError(f"unknown KPI '{name}'{hint}")
