"""The profit and loss as finance reads it: one sign convention (money in positive, costs
negative), from sales to net revenue, gross margin and contribution margin, with subtotals.

The ledger records signed flows, but purchases, inbound freight and import duty become
inventory and reach the margin only as cost of goods sold when the goods sell; the summary
reports that cost (``cogs``) and write-offs as positive numbers. Shown side by side, the two
conventions mix signs and the column adds up to nothing. Here every line carries the sign of
its effect on the margin, the stock bought is a memo below the statement, and the rounded
lines add up to each rounded subtotal exactly (rounding differences go to the block's
largest line, as printed accounts do).

Costs that follow no order (customer-service agents, monthly overheads: ``sim.ledger.FIXED``)
sit below the contribution margin and lead to operating profit, the last subtotal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from experiments.report.numbers import number
from experiments.report.text import Part

BLOCKS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Net revenue (ex VAT)", (("sales", "Sales to customers, VAT included"),
                              ("vat", "VAT passed on to the tax offices"))),
    ("Gross margin", (("refund", "Refunds to customers"),
                      ("cogs", "Cost of goods sold (product, inbound freight, import duty)"),
                      ("write_off", "Write-offs (defective, lost, damaged and cleared "
                                    "stock)"))),
    ("Contribution margin", (("commission", "Marketplace commission"),
                             ("payment_fee", "Payment fees"),
                             ("parcel_freight", "Parcel freight from China"),
                             ("last_mile", "Last mile from overseas warehouses"),
                             ("parcel_duty", "Duty on parcels"),
                             ("pick_pack", "Pick and pack"),
                             ("storage", "Warehouse storage"),
                             ("inbound_fee", "Warehouse receiving fees"),
                             ("ads", "Advertising"),
                             ("promotion", "Coupons and deal fees"),
                             ("owned_channel", "Email and private groups"),
                             ("return_shipping", "Return shipping"),
                             ("disposition", "Handling returned goods"),
                             ("liquidation", "Proceeds of liquidated returns"),
                             ("aged_surcharge", "Aged-stock surcharges"),
                             ("clearance_fee", "Clearance fees on aged stock"),
                             ("clearance_proceeds", "Proceeds of liquidated aged stock"),
                             ("dispute_fee", "Dispute and claim fees"),
                             ("import_vat", "Import VAT paid less recovered (exchange rate)"),
                             ("export_rebate", "Export VAT rebates (China)"),
                             ("insurance", "Shipping insurance (premiums less claims)"),
                             ("undeliverable", "Undeliverable parcels (return or disposal)"))),
    ("Operating profit", (("agent_wages", "Customer-service agents"),
                          ("overheads", "Overheads (staff, tools, rent)"))),
)
"""Each subtotal and the lines (summary category, label) that lead to it from the last."""
CONTRIBUTION = BLOCKS[2]
"""The block ending in the contribution margin (the figure the markets are compared by)."""

POSITIVE_COSTS = ("cogs", "write_off")
"""Summary lines reported as positive costs: their sign flips on the statement."""

STOCK = (("purchase", "Purchases from suppliers"), ("inbound_freight", "Inbound freight"),
         ("import_duty", "Import duty"))
"""Money spent on stock in the period: reaches the statement as cost of goods sold."""


@dataclass(frozen=True)
class Line:
    """One row of the statement; ``value`` in whole CNY, signed as it moves the margin."""

    label: str
    value: int
    total: bool = False


def signed_lines(pnl: Mapping[str, float]) -> dict[str, float]:
    """The summary's P&L lines with every cost negative."""
    return {k: (-v if k in POSITIVE_COSTS else v) for k, v in pnl.items()}


def statement(pnl: Mapping[str, float]) -> list[Line]:
    """Lines and subtotals in whole CNY; the rounded lines add up to each rounded subtotal."""
    flows = signed_lines(pnl)
    lines: list[Line] = []
    running, shown = 0.0, 0
    for subtotal, block in BLOCKS:
        present = [(c, label) for c, label in block if c in flows]
        rounded = [round(flows[c]) for c, _ in present]
        running += sum(flows[c] for c, _ in present)
        target = round(running)
        if rounded:
            largest = max(range(len(rounded)), key=lambda i: abs(rounded[i]))
            rounded[largest] += target - shown - sum(rounded)
        lines += [Line(label, v) for (_, label), v in zip(present, rounded, strict=True)]
        lines.append(Line(subtotal, target, total=True))
        shown = target
    return lines


def statement_part(pnl: Mapping[str, float], title: str = "Profit and loss") -> Part:
    """The statement as a table with each line's share of net revenue."""
    lines = statement(pnl)
    revenue = next(line.value for line in lines if line.total)
    rows = [[line.label, number(line.value),
             number(100 * line.value / revenue, 1) + " %" if revenue else "-"] for line in lines]
    return Part(title, ["line", "CNY", "% of net revenue"], rows, [False, True, True],
                totals=tuple(i for i, line in enumerate(lines) if line.total))


def stock_memo(pnl: Mapping[str, float]) -> Part:
    """What was spent on stock in the period, apart from the statement."""
    rows = [[label, number(pnl[c])] for c, label in STOCK if c in pnl]
    rows.append(["Spent on stock in total", number(sum(pnl.get(c, 0.0) for c, _ in STOCK))])
    return Part("Memo: stock bought in the period (reaches the statement as cost of goods sold "
                "when sold)", ["stock bought", "CNY"], rows, [False, True], totals=(len(rows) - 1,))


def by_columns(columns: Mapping[str, Mapping[str, float]], title: str) -> Part:
    """Statements side by side (one per market), each adding up as ``statement`` does."""
    names = list(columns)
    lines = {k for flows in columns.values() for k in flows}
    statements = [statement({k: columns[n].get(k, 0.0) for k in lines}) for n in names]
    first = statements[0]
    rows = [[line.label, *(number(s[i].value) for s in statements)]
            for i, line in enumerate(first)]
    totals = [i for i, line in enumerate(first) if line.total]
    revenue, contribution = totals[0], totals[BLOCKS.index(CONTRIBUTION)]
    margins = ["contribution / net revenue", *(
        f"{100 * s[contribution].value / s[revenue].value:.1f} %"
        if s[revenue].value else "-" for s in statements)]
    return Part(title, ["line", *names], [*rows, margins], [False, *[True] * len(names)],
                totals=tuple(i for i, line in enumerate(first) if line.total))
