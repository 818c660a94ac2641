"""The one registry of KPIs: what each is called, its unit, which way is better, how it prints.

Every table, report, comparison and sweep reads labels, units, formats and directions here, so
a KPI reads the same everywhere. Names are those ``sim.results.kpis`` writes into
``summary.json``; its two nested summaries are families whose members are flattened to
``outer.inner`` (``landed_cost_per_unit_cny.US warehouse us_last_mile``,
``profit_and_loss_cny.cogs``).

A ranking needs a direction: more contribution margin is better (+1), more lost sales is worse
(-1). Some KPIs have none (ad spend is a decision, days of cover is bad both ways): they are
compared but never ranked (0).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from experiments.errors import ExperimentError


@dataclass(frozen=True)
class Kpi:
    """One KPI; ``format`` is a ``str.format`` spec for its value."""

    name: str
    label: str
    unit: str
    direction: int
    format: str
    headline: bool = False

    @property
    def percent(self) -> bool:
        """Stored as a fraction, printed (and drawn) in percent."""
        return self.format.endswith("%}")


@dataclass(frozen=True)
class Family:
    """A nested summary: one KPI per member (route, P&L line), all alike but for their label
    and, for ``reversed`` members, their direction."""

    name: str
    label: str
    unit: str
    direction: int
    format: str
    reversed: frozenset[str] = field(default_factory=frozenset)

    def member(self, inner: str) -> Kpi:
        sign = -self.direction if inner in self.reversed else self.direction
        return Kpi(f"{self.name}.{inner}", self.label.format(inner), self.unit, sign,
                   self.format)


KPIS: dict[str, Kpi] = {k.name: k for k in (
    Kpi("orders", "Orders", "", 1, "{:,.0f}", headline=True),
    Kpi("units_sold", "Units sold", "units", 1, "{:,.0f}"),
    Kpi("net_revenue_cny", "Net revenue (ex VAT)", "CNY", 1, "{:,.0f}", headline=True),
    Kpi("gross_margin_cny", "Gross margin", "CNY", 1, "{:,.0f}"),
    Kpi("gross_margin_pct", "Gross margin", "% of revenue", 1, "{:.1f}"),
    Kpi("contribution_margin_cny", "Contribution margin", "CNY", 1, "{:,.0f}", headline=True),
    Kpi("contribution_margin_pct", "Contribution margin", "% of revenue", 1, "{:.1f}"),
    Kpi("operating_profit_cny", "Operating profit (contribution less agents and overheads)",
        "CNY", 1, "{:,.0f}"),
    Kpi("operating_profit_pct", "Operating profit", "% of revenue", 1, "{:.1f}"),
    Kpi("fill_rate", "Fill rate (units from stock)", "%", 1, "{:.1%}", headline=True),
    Kpi("lost_sales_units", "Lost sales", "units", -1, "{:,.0f}"),
    Kpi("stockout_sku_days", "Stock-out SKU-days", "days", -1, "{:,.0f}"),
    Kpi("on_time_rate", "On-time delivery vs promise", "%", 1, "{:.1%}", headline=True),
    Kpi("mean_delivery_days", "Mean delivery time", "days", -1, "{:.1f}", headline=True),
    Kpi("p95_delivery_days", "95th pct delivery time", "days", -1, "{:.1f}"),
    Kpi("logistics_cost_per_unit_cny", "Logistics cost per unit sold", "CNY", -1, "{:,.2f}"),
    Kpi("return_rate", "Return rate", "% of delivered", -1, "{:.1%}", headline=True),
    Kpi("refund_cost_cny", "Refunds", "CNY", -1, "{:,.0f}"),
    Kpi("lost_parcels", "Lost parcels", "orders", -1, "{:,.0f}"),
    Kpi("listings_below_landed_cost", "Listings sold under their landed cost (market x SKU)",
        "", -1, "{:,.0f}"),
    Kpi("conversion_rate", "Conversion rate (orders / sessions)", "%", 1, "{:.2%}"),
    Kpi("average_order_value_cny", "Average order value (incl. VAT)", "CNY", 1, "{:,.2f}"),
    Kpi("repurchase_rate", "Repurchase rate (returning buyers' share of orders)", "%", 1,
        "{:.1%}"),
    Kpi("new_customers", "New customers (first orders)", "", 1, "{:,.0f}"),
    Kpi("customer_lifetime_value_cny", "Customer lifetime value (contribution per new "
        "customer over the run)", "CNY", 1, "{:,.2f}"),
    Kpi("acquisition_cost_cny", "Acquisition cost (ad spend per new customer)", "CNY", -1,
        "{:,.2f}"),
    Kpi("dispatched_within_24h", "Orders handed to the carrier within 24 h", "%", 1,
        "{:.1%}"),
    Kpi("peak_pick_queue_units", "Largest pick/pack backlog", "units", -1, "{:,.0f}"),
    Kpi("reshipped_parcels", "Lost parcels reshipped", "orders", 0, "{:,.0f}"),
    Kpi("undeliverable_parcels", "Undeliverable parcels", "orders", -1, "{:,.0f}"),
    Kpi("order_defect_rate", "Order defect rate", "%", -1, "{:.2%}"),
    Kpi("account_health_cut_days", "Market-days with account health breached", "days", -1,
        "{:,.0f}"),
    Kpi("cs_tickets", "Service tickets", "", -1, "{:,.0f}"),
    Kpi("cs_first_response_sla", "First response within SLA", "%", 1, "{:.1%}"),
    Kpi("cs_resolution_sla", "Resolved within SLA", "%", 1, "{:.1%}"),
    Kpi("cs_mean_first_response_hours", "Mean first response", "hours", -1, "{:.1f}"),
    Kpi("cs_satisfaction", "Satisfaction (answered and resolved within SLA, no dispute; "
        "target 85 %)", "% of tickets", 1, "{:.1%}"),
    Kpi("disputes", "Disputes (late answers escalated)", "", -1, "{:,.0f}"),
    Kpi("dispute_rate", "Dispute rate", "% of orders", -1, "{:.2%}"),
    Kpi("dispute_cost_cny", "Dispute fees and refunds", "CNY", -1, "{:,.0f}"),
    Kpi("ad_spend_cny", "Ad spend", "CNY", 0, "{:,.0f}"),
    Kpi("roas", "ROAS (paid-attributed revenue / spend)", "x", 1, "{:.2f}"),
    Kpi("inventory_turnover", "Inventory turnover", "per year", 1, "{:.1f}"),
    Kpi("inventory_turnover_vs_target", "Inventory turnover / target", "x", 1, "{:.2f}"),
    Kpi("mean_stock_age_days", "Mean age of overseas stock", "days", -1, "{:.0f}"),
    Kpi("aged_stock_units", "Overseas stock over 180 days old (average day)", "units", -1,
        "{:,.0f}"),
    Kpi("cleared_units", "Aged units cleared", "units", 0, "{:,.0f}"),
    Kpi("days_of_cover", "Days of cover", "days", 0, "{:.0f}"),
    Kpi("cash_conversion_cycle_days", "Cash conversion cycle", "days", -1, "{:.0f}"),
    Kpi("peak_working_capital_cny", "Peak working capital", "CNY", -1, "{:,.0f}"),
    Kpi("capital_cost_cny", "Capital cost of inventory", "CNY", -1, "{:,.0f}"),
    Kpi("final_cash_cny", "Cash at end", "CNY", 1, "{:,.0f}", headline=True),
    Kpi("min_cash_cny", "Lowest cash", "CNY", 1, "{:,.0f}"),
    Kpi("import_vat_paid_cny", "Import VAT paid at clearance (recovered later)", "CNY", 0,
        "{:,.0f}"),
    Kpi("peak_tax_receivable_cny", "Peak tax refunds due (import VAT, export rebates)", "CNY",
        -1, "{:,.0f}"),
)}
"""Scalar KPIs in table order."""

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("landed_cost_per_unit_cny", "Landed cost per unit: {}", "CNY", -1, "{:,.2f}"),
    # P&L lines are signed cash flows (costs negative), so more is better, except cost of
    # goods sold and write-offs, which the summary reports as positive costs.
    Family("profit_and_loss_cny", "P&L: {}", "CNY", 1, "{:,.0f}",
           frozenset({"cogs", "write_off"})),
)}
"""Nested summaries by name: ``summary[name]`` maps each member to its value."""

HEADLINE_KPIS = tuple(k.name for k in KPIS.values() if k.headline)
"""Shown by a comparison and watched by a precision target unless ``--kpi`` says otherwise."""


def lookup(name: str) -> Kpi | None:
    """The KPI ``name`` (scalar or ``family.member``), or None if no run reports it."""
    if name in KPIS:
        return KPIS[name]
    outer, dot, inner = name.partition(".")
    return FAMILIES[outer].member(inner) if dot and outer in FAMILIES else None


def describe(name: str) -> Kpi:
    """The KPI ``name``; a model's own output is its own label, unitless, unranked."""
    return lookup(name) or Kpi(name, name, "", 0, "{:,.4g}")


def direction(name: str) -> int:
    """+1 if more is better, -1 if less is better, 0 if the KPI is not ranked."""
    return describe(name).direction


def kpi_order(names: Iterable[str]) -> list[str]:
    """A fixed column order: the scalar KPIs in table order, then the rest sorted.

    Results assembled from parts finished in any order must come out column for column the
    same, so the order cannot follow the order in which the parts arrived.
    """
    names = set(names)
    known = [k for k in KPIS if k in names]
    return known + sorted(names - set(known))


def check_scenario_kpis(names: Iterable[str]) -> None:
    """Refuse a KPI name no scenario run reports, suggesting the closest names and listing
    the valid ones (a family by its pattern)."""
    for name in names:
        if lookup(name) is None:
            close = suggestions(name)
            hint = f" (did you mean {_either(close)}?)" if close else ""
            known = [*KPIS, *(f"{f}.*" for f in FAMILIES)]
            raise ExperimentError(f"unknown KPI '{name}'{hint}; KPIs: {', '.join(known)}")


def suggestions(name: str, most: int = 3) -> list[str]:
    """The closest KPI by spelling; failing that, those containing ``name`` (headline KPIs
    first), so that ``margin`` finds ``contribution_margin_cny``."""
    close = difflib.get_close_matches(name, KPIS, n=1)
    if close:
        return close
    within = [k for k in KPIS if name.lower() in k]
    ratio = {k: difflib.SequenceMatcher(None, name, k).ratio() for k in within}
    ranked = sorted(within, key=lambda k: (not KPIS[k].headline, -ratio[k]))
    return ranked[:most] or difflib.get_close_matches(name, KPIS, n=most, cutoff=0.4)


def _either(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def name_and_unit(kpi: str) -> tuple[str, str]:
    """(``Fill rate (units from stock)``, ``%``); unknown KPIs are their own name, no unit."""
    described = describe(kpi)
    return described.label, described.unit


def label(kpi: str) -> str:
    """``Fill rate (units from stock) [%]``; unknown KPIs print as their names."""
    name, unit = name_and_unit(kpi)
    return f"{name} [{unit}]" if unit else name


FINER = {"{:.1%}": "{:.2%}", "{:.1f}": "{:.2f}", "{:.0f}": "{:.1f}", "{:.2f}": "{:.3f}"}
"""One more digit for differences, which are often much smaller than the values."""


def fmt(kpi: str, value: float, finer: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    spec = describe(kpi).format
    if finer:
        spec = FINER.get(spec, spec)
    if spec == "{:,.0f}" and abs(value) < 100:
        spec = "{:,.2f}"
    return spec.format(value)
