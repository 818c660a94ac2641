"""Cost per unit by fulfilment route, from the product to the marketplace's cut, as a waterfall.

Finance reads a route's economics as a chain of costs per unit shipped: product, inbound
freight (bulk first mile, main leg and final delivery to the warehouse), outbound freight
(parcel or last mile), duties and VAT, warehouse fees, returns, ads, commission and payment
fees, set against the price customers paid net of refunds. The orders table carries each
unit's product, inbound freight and import duty (its landed value); the other steps come from
the ledger, whose entries name a market. A market's entries are shared among its routes by
revenue; entries without a market are shared among all routes: ads among the markets their
paid traffic reaches (by their share of paid sessions, then by revenue within the market, so
a market no ad channel reaches carries none), warehouse storage and inbound fees by units.

A comparison keeps no ledger, only each replication's profit and loss, so its version
(``per_scenario``) starts from the cost of goods sold, which already holds product, inbound
freight and import duty.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.report.plots import panel_grid, save_figure

LEDGER_STEPS: dict[str, tuple[str, ...]] = {
    "outbound freight": ("parcel_freight", "last_mile"),
    "duties & VAT": ("parcel_duty", "vat", "import_vat", "export_rebate"),
    "warehouse fees": ("pick_pack", "storage", "inbound_fee", "aged_surcharge", "clearance_fee",
                       "clearance_proceeds"),
    "returns": ("return_shipping", "disposition", "liquidation"),
    "exceptions": ("insurance", "undeliverable"),
    "ads": ("ads",),
    "commission & fees": ("commission", "payment_fee"),
}
"""Ledger categories (``sim.ledger.CATEGORIES``) summed into each step; costs are negative."""

ROUTE_STEPS = ("product", "inbound freight", *LEDGER_STEPS)
SCENARIO_STEPS = ("landed product (COGS)", *LEDGER_STEPS)
COLOURS = {step: f"C{i}" for i, step in enumerate(ROUTE_STEPS)} | {SCENARIO_STEPS[0]: "C0"}
"""One colour per step in both figures."""
PRICE = "price paid net of refunds"
BY_UNITS = ("storage", "inbound_fee", "aged_surcharge", "clearance_fee", "clearance_proceeds")
"""Market-less categories shared among routes by units; the others (ads) by revenue."""


def per_route(orders: pd.DataFrame, ledger: pd.DataFrame,
              ad_shares: Mapping[str, float] | None = None) -> pd.DataFrame:
    """CNY per unit shipped by route (``US warehouse us_last_mile``) and step, with the
    price paid net of refunds (VAT included) and the units shipped. ``ad_shares`` (market:
    share of paid sessions) sends ads only to the markets paid traffic reaches; without it
    ads are shared by revenue."""
    sums = orders.groupby(["market", "route", "mode"], observed=True)[
        ["units", "revenue_cny", "product_cost_cny", "inbound_freight_cny",
         "import_duty_cny"]].sum()
    sums = sums[sums["units"] > 0]
    market = sums.index.get_level_values("market").astype(str)
    revenue = sums["revenue_cny"].to_numpy(float)
    units = sums["units"].to_numpy(float)
    market_revenue = pd.Series(revenue).groupby(market.to_numpy()).transform("sum").to_numpy()
    in_market = np.divide(revenue, market_revenue, out=np.zeros_like(revenue),
                          where=market_revenue > 0)
    shares = {"revenue": revenue / revenue.sum(), "units": units / units.sum(),
              "ads": revenue / revenue.sum()}
    reached = np.array([(ad_shares or {}).get(m, 0.0) for m in market]) * in_market
    if reached.sum() > 0:
        shares["ads"] = reached / reached.sum()
    flows = ledger.pivot_table(index="market", columns="category", values="amount_cny",
                               aggfunc="sum", observed=False, fill_value=0.0)

    def booked(category: str) -> np.ndarray:
        """The category's ledger total allocated to the routes (signed as booked)."""
        if category not in flows.columns:
            return np.zeros(len(units))
        column = flows[category]
        own = column.reindex(market).fillna(0.0).to_numpy() * in_market
        shared = shares["units" if category in BY_UNITS else
                        "ads" if category == "ads" else "revenue"]
        return own + float(column.get("", 0.0)) * shared

    cost = pd.DataFrame({"product": sums["product_cost_cny"].to_numpy(),
                         "inbound freight": sums["inbound_freight_cny"].to_numpy()})
    for step, categories in LEDGER_STEPS.items():
        cost[step] = -sum(booked(c) for c in categories)
    cost["duties & VAT"] += sums["import_duty_cny"].to_numpy()
    table = cost.div(units, axis=0)
    table["total"] = table[list(ROUTE_STEPS)].sum(axis=1)
    table[PRICE] = (booked("sales") + booked("refund")) / units
    table["units"] = units
    table.index = pd.Index([" ".join(map(str, key)) for key in sums.index], name="route")
    return table


def per_scenario(samples: pd.DataFrame) -> pd.DataFrame | None:
    """Mean CNY per unit sold by scenario and step from a comparison's samples; ``None``
    when the samples carry no profit and loss (models other than scenarios)."""
    def line(category: str) -> pd.Series:
        return samples[f"profit_and_loss_cny.{category}"]

    needed = {f"profit_and_loss_cny.{c}" for cats in LEDGER_STEPS.values() for c in cats}
    needed |= {"profit_and_loss_cny.cogs", "profit_and_loss_cny.write_off",
               "profit_and_loss_cny.sales", "profit_and_loss_cny.refund", "units_sold"}
    if not needed <= set(samples.columns):
        return None
    units = samples["units_sold"].where(samples["units_sold"] > 0)
    per_unit = pd.DataFrame({"scenario": samples["scenario"]})
    per_unit[SCENARIO_STEPS[0]] = (line("cogs") + line("write_off")) / units
    for step, categories in LEDGER_STEPS.items():
        per_unit[step] = -sum(line(c) for c in categories) / units
    per_unit[PRICE] = (line("sales") + line("refund")) / units
    order = list(dict.fromkeys(samples["scenario"]))
    table = per_unit.groupby("scenario", sort=False).mean().reindex(order)
    table.insert(len(SCENARIO_STEPS), "total", table[list(SCENARIO_STEPS)].sum(axis=1))
    return table


def waterfall_figure(table: pd.DataFrame, path: Path) -> Path:
    """One waterfall per route: each step's cost stacked on the last, the total, the price."""
    routes = list(table.index)
    cols = min(len(routes), 3)
    fig, axes = panel_grid(len(routes), cols, 4.8, 4.2, sharey=True)
    labels = [*ROUTE_STEPS, "total"]
    colours = [COLOURS[step] for step in ROUTE_STEPS]
    for ax, route in zip(axes, routes, strict=False):
        values = table.loc[route, list(ROUTE_STEPS)].to_numpy(float)
        bottoms = np.concatenate([[0.0], np.cumsum(values)[:-1]])
        total, price = float(values.sum()), float(table.at[route, PRICE])
        bars = ax.bar(range(len(values)), values, bottom=bottoms, color=colours)
        ax.bar_label(bars, labels=[f"{v:.1f}" for v in values], fontsize=9)
        ax.bar(len(values), total, color="#3d444d")
        ax.axhline(price, color="#2ca02c", linestyle="--", linewidth=1.2,
                   label=f"{PRICE}: {price:,.1f}")
        ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=9)
        ax.set_title(f"{route}\ntotal {total:,.1f}, margin {price - total:,.1f} CNY/unit",
                     fontsize=10)
        ax.legend(fontsize=9, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[::cols]:
        ax.set_ylabel("CNY per unit shipped")
    fig.suptitle("Landed cost per unit by fulfilment route (VAT included, as in the price)")
    return save_figure(fig, path)


def scenario_cost_figure(table: pd.DataFrame, path: Path) -> Path:
    """Stacked cost per unit sold for each scenario, with the price paid net of refunds."""
    fig = Figure(figsize=(10, 1.6 + 0.7 * len(table)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(table))
    left = np.zeros(len(table))
    for step in SCENARIO_STEPS:
        values = table[step].to_numpy(float)
        ax.barh(y, values, left=left, color=COLOURS[step], label=step, height=0.6)
        left += values
    ax.scatter(table[PRICE], y, marker="D", color="black", zorder=3, label=PRICE)
    for yi, total in zip(y, left, strict=True):
        ax.text(total, float(yi), f" {total:,.1f}", va="center", fontsize=9)
    ax.set_yticks(y, table.index)
    ax.invert_yaxis()
    ax.set_xlabel("CNY per unit sold (mean over replications)")
    ax.set_title("Cost per unit sold by scenario, from landed product to commission")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", fontsize=9,
               ncols=4)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)
