"""Plain-text tables a user can paste into a ticket or a spreadsheet."""

from __future__ import annotations

from typing import Any

KPI_LABELS = {
    "orders": ("Orders", "", "{:,.0f}"),
    "units_sold": ("Units sold", "units", "{:,.0f}"),
    "net_revenue_cny": ("Net revenue (ex VAT)", "CNY", "{:,.0f}"),
    "gross_margin_cny": ("Gross margin", "CNY", "{:,.0f}"),
    "gross_margin_pct": ("Gross margin", "% of revenue", "{:.1f}"),
    "contribution_margin_cny": ("Contribution margin", "CNY", "{:,.0f}"),
    "contribution_margin_pct": ("Contribution margin", "% of revenue", "{:.1f}"),
    "fill_rate": ("Fill rate (units from stock)", "%", "{:.1%}"),
    "lost_sales_units": ("Lost sales", "units", "{:,.0f}"),
    "stockout_sku_days": ("Stock-out SKU-days", "days", "{:,.0f}"),
    "on_time_rate": ("On-time delivery vs promise", "%", "{:.1%}"),
    "mean_delivery_days": ("Mean delivery time", "days", "{:.1f}"),
    "p95_delivery_days": ("95th pct delivery time", "days", "{:.1f}"),
    "logistics_cost_per_unit_cny": ("Logistics cost per unit sold", "CNY", "{:,.2f}"),
    "return_rate": ("Return rate", "% of delivered", "{:.1%}"),
    "refund_cost_cny": ("Refunds", "CNY", "{:,.0f}"),
    "lost_parcels": ("Lost parcels", "orders", "{:,.0f}"),
    "cs_tickets": ("Service tickets", "", "{:,.0f}"),
    "cs_first_response_sla": ("First response within SLA", "%", "{:.1%}"),
    "cs_resolution_sla": ("Resolved within SLA", "%", "{:.1%}"),
    "cs_mean_first_response_hours": ("Mean first response", "hours", "{:.1f}"),
    "ad_spend_cny": ("Ad spend", "CNY", "{:,.0f}"),
    "roas": ("ROAS (paid-attributed revenue / spend)", "x", "{:.2f}"),
    "inventory_turnover": ("Inventory turnover", "per year", "{:.1f}"),
    "days_of_cover": ("Days of cover", "days", "{:.0f}"),
    "cash_conversion_cycle_days": ("Cash conversion cycle", "days", "{:.0f}"),
    "peak_working_capital_cny": ("Peak working capital", "CNY", "{:,.0f}"),
    "capital_cost_cny": ("Capital cost of inventory", "CNY", "{:,.0f}"),
    "final_cash_cny": ("Cash at end", "CNY", "{:,.0f}"),
    "min_cash_cny": ("Lowest cash", "CNY", "{:,.0f}"),
}


def kpi_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(KPI, formatted value, unit) for every KPI of a run's summary, in table order."""
    rows = []
    for key, (label, unit, fmt) in KPI_LABELS.items():
        if key in summary:
            rows.append((label, fmt.format(summary[key]), unit))
    for route, cost in summary.get("landed_cost_per_unit_cny", {}).items():
        rows.append((f"Landed cost per unit: {route}", f"{cost:,.2f}", "CNY"))
    return rows


def kpi_table(summary: dict[str, Any]) -> str:
    """KPIs as an aligned three-column table (KPI, value, unit)."""
    rows = kpi_rows(summary)
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [f"{'KPI':<{width}}  {'value':>{value_width}}  unit",
             f"{'-' * width}  {'-' * value_width}  ----"]
    lines += [f"{label:<{width}}  {value:>{value_width}}  {unit}" for label, value, unit in rows]
    return "\n".join(lines)
