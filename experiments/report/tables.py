"""Plain-text tables a user can paste into a ticket or a spreadsheet."""

from __future__ import annotations

from typing import Any

from experiments.kpis import FAMILIES, KPIS


def kpi_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(KPI, formatted value, unit) for every KPI of a run's summary, in table order, then
    the landed cost per route (the P&L lines have a table of their own)."""
    rows = [(k.label, k.format.format(summary[k.name]), k.unit)
            for k in KPIS.values() if k.name in summary]
    landed = FAMILIES["landed_cost_per_unit_cny"]
    for route, cost in summary.get(landed.name, {}).items():
        kpi = landed.member(route)
        rows.append((kpi.label, kpi.format.format(cost), kpi.unit))
    return rows


def kpi_table(summary: dict[str, Any]) -> str:
    """KPIs as an aligned three-column table (KPI, value, unit)."""
    rows = kpi_rows(summary)
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [f"{'KPI':<{width}}  {'value':>{value_width}}  unit",
             f"{'-' * width}  {'-' * value_width}  ----"]
    lines += [f"{label:<{width}}  {value:>{value_width}}  {_beside(value, unit)}"
              for label, value, unit in rows]
    return "\n".join(lines)


def _beside(value: str, unit: str) -> str:
    """The unit beside a formatted value, less the ``%`` a percent value already ends in."""
    return unit.removeprefix("%").lstrip() if value.endswith("%") else unit
