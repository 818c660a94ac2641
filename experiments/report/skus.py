"""A run by SKU: which SKUs ran out where and when, what it cost, and how each warehouse's
stock of each SKU stood against that SKU's own reorder point.

A run records stock per warehouse, not per SKU, so the page rebuilds each (warehouse, SKU)
day by day from the tables: the opening stock (its days of cover, as the simulation opens),
plus shipments received, less bulk loads sent and units sold, plus restocked returns (placed
at their expected decision day: the run does not record the day itself). The rebuild is
checked against the stock-outs the run counted each day, and the page says how well it
matched. Lost units are not recorded by SKU either: each day's lost sales are shared among
the SKUs out that day by how much each usually sells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.report.numbers import number
from experiments.report.text import Part
from sim.loader import ScenarioError, validate
from sim.network import compile_network


@dataclass(frozen=True)
class StockBySku:
    """Units on hand at day end [warehouse, sku, day], with names and reorder points."""

    warehouses: list[str]
    skus: list[str]
    on_hand: np.ndarray
    reorder_point: np.ndarray
    selling: list[str]
    dates: pd.DatetimeIndex

    def out(self) -> np.ndarray:
        """True where a selling warehouse had none of a SKU at day end [warehouse, sku, day]."""
        sells = np.array([w in self.selling for w in self.warehouses])
        return (self.on_hand <= 0) & sells[:, None, None]

    def matched_days(self, recorded: np.ndarray) -> int:
        """Days on which the rebuilt stock-outs equal the run's own count."""
        return int((self.out().sum(axis=(0, 1)) == recorded).sum())


def rebuild(scenario: Mapping[str, Any], daily: pd.DataFrame, orders: pd.DataFrame,
            shipments: pd.DataFrame) -> StockBySku | None:
    """The stock per (warehouse, SKU) and day; None when the stored scenario no longer
    validates (the opening stock and reorder points come from it)."""
    try:
        sc = validate(dict(scenario), "manifest.json")
    except ScenarioError:
        return None
    net = compile_network(sc)
    warehouses, skus, days = list(net.warehouses), list(net.skus), len(daily)
    flow = np.zeros((len(warehouses), len(skus), days + 1))

    def add(where: pd.Series, sku: pd.Series, day: pd.Series | np.ndarray,
            units: pd.Series, sign: int) -> None:
        w, s = codes(where, warehouses), codes(sku, skus)
        when = np.asarray(day, dtype=float)
        ok = (w >= 0) & (s >= 0) & np.isfinite(when) & (when < days)
        np.add.at(flow, (w[ok], s[ok], np.floor(when[ok]).astype(int)),
                  sign * np.asarray(units, dtype=float)[ok])

    arrived = shipments[shipments["arrived_day"].notna()]
    add(arrived["destination"], arrived["sku"], arrived["arrived_day"],
        arrived["units"] - arrived["damaged_units"], 1)
    bulk = shipments[shipments["kind"] == "bulk"]
    add(bulk["origin"], bulk["sku"], bulk["created_day"], bulk["ordered_units"], -1)
    add(orders["warehouse"], orders["sku"], orders["order_day"], orders["units"], -1)
    restocked = orders[orders["disposition"] == "restock"]
    returns = sc.returns
    lag = returns.return_transit_days.mean() + returns.inspection_days.mean()
    if "restock" in returns.disposition:
        lag += returns.disposition["restock"].delay_days.mean()
    add(restocked["warehouse"], restocked["sku"], restocked["return_day"] + lag,
        restocked["units"], 1)
    opening = np.round(np.array([sc.warehouses[w].initial_stock_days for w in warehouses])
                       [:, None] * net.planning_units)
    on_hand = np.maximum(opening[:, :, None] + np.cumsum(flow[:, :, :days], axis=2), 0.0)
    return StockBySku(warehouses, skus, on_hand, net.policies.reorder_point,
                      sorted(str(w) for w in orders["warehouse"].dropna().unique()),
                      pd.DatetimeIndex(daily["date"]))


def codes(column: pd.Series, names: list[str]) -> np.ndarray:
    """Each value's position in ``names`` (-1 if absent). A categorical column is recoded
    through its few categories: converting its rows to strings first costs ~50 ms per 100k
    rows, and the tables hold hundreds of thousands."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.set_categories(names).cat.codes.to_numpy()
    return pd.Categorical(column.astype(str), categories=names).codes


def _ranges(dates: pd.DatetimeIndex) -> str:
    """``2026-03-02 to 03-09, 2026-11-30``: consecutive days joined."""
    spans: list[list[pd.Timestamp]] = []
    for date in dates:
        if spans and (date - spans[-1][-1]).days == 1:
            spans[-1].append(date)
        else:
            spans.append([date])
    return ", ".join(f"{s[0]:%Y-%m-%d}" + (f" to {s[-1]:%m-%d}" if len(s) > 1 else "")
                     for s in spans)


def stockouts(stock: StockBySku, daily: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """One row per (SKU, warehouse) that ran out: days out, the dates, estimated lost units."""
    out = stock.out()
    rate = np.zeros(out.shape[:2])
    w, s = codes(orders["warehouse"], stock.warehouses), codes(orders["sku"], stock.skus)
    ok = (w >= 0) & (s >= 0)
    np.add.at(rate, (w[ok], s[ok]), orders["units"].to_numpy(float)[ok])
    rate /= len(daily)
    weight = out * np.maximum(rate, 1e-9)[:, :, None]
    share = np.divide(weight, weight.sum(axis=(0, 1)), out=np.zeros_like(weight),
                      where=weight.sum(axis=(0, 1)) > 0)
    lost = (share * daily["lost_sales_units"].to_numpy()[None, None, :]).sum(axis=2)
    rows = []
    for w, s in zip(*np.nonzero(out.any(axis=2)), strict=True):
        days = stock.dates[out[w, s]]
        rows.append({"sku": stock.skus[s], "warehouse": stock.warehouses[w],
                     "days_out": int(out[w, s].sum()), "first": days[0], "last": days[-1],
                     "dates": _ranges(days), "lost_units": float(lost[w, s])})
    table = pd.DataFrame(rows, columns=["sku", "warehouse", "days_out", "first", "last",
                                        "dates", "lost_units"])
    return table.sort_values(["lost_units", "days_out"], ascending=False, ignore_index=True)


def stockouts_part(table: pd.DataFrame, margin_per_unit: Mapping[str, float]) -> Part:
    rows = [[r.sku, r.warehouse, number(r.days_out), f"{r.first:%Y-%m-%d}",
             f"{r.last:%Y-%m-%d}", number(r.lost_units),
             number(r.lost_units * margin_per_unit.get(r.sku, 0.0)), r.dates]
            for r in table.itertuples()]
    return Part("SKUs that ran out, by estimated lost units",
                ["SKU", "warehouse", "days out", "first day out", "last day out",
                 "lost units (est.)", "margin lost (est.) [CNY]", "dates out"], rows,
                [False, False, True, True, True, True, True, False])


def against_reorder_point(stock: StockBySku) -> pd.DataFrame:
    """Per (warehouse, SKU) with a reorder point: it, the lowest and mean stock on hand, the
    days below it and the days out."""
    out = stock.out()
    rows = []
    for w, s in zip(*np.nonzero(stock.reorder_point > 0), strict=True):
        level = stock.on_hand[w, s]
        point = float(stock.reorder_point[w, s])
        rows.append({"warehouse": stock.warehouses[w], "sku": stock.skus[s],
                     "reorder_point": point, "lowest": float(level.min()),
                     "mean": float(level.mean()), "days_below": int((level < point).sum()),
                     "days_out": int(out[w, s].sum())})
    return pd.DataFrame(rows, columns=["warehouse", "sku", "reorder_point", "lowest", "mean",
                                       "days_below", "days_out"]).sort_values(
        ["days_out", "days_below"], ascending=False, ignore_index=True)


def reorder_part(table: pd.DataFrame, days: int) -> Part:
    rows = [[r.warehouse, r.sku, number(r.reorder_point), number(r.lowest), number(r.mean),
             number(r.days_below), number(r.days_out)] for r in table.itertuples()]
    return Part(f"Stock on hand against each SKU's own reorder point ({days} days)",
                ["warehouse", "SKU", "reorder point [units]", "lowest [units]",
                 "mean [units]", "days below reorder point", "days out"], rows,
                [False, False, True, True, True, True, True])


def below_reorder_point(stock: StockBySku) -> dict[str, np.ndarray]:
    """Per warehouse with reorder points: the SKUs below their own reorder point each day."""
    below = (stock.on_hand < stock.reorder_point[:, :, None]) & \
        (stock.reorder_point[:, :, None] > 0)
    return {w: below[i].sum(axis=0) for i, w in enumerate(stock.warehouses)
            if (stock.reorder_point[i] > 0).any()}


def margin_by_sku(orders: pd.DataFrame, vat_rate: Mapping[str, float]) -> pd.DataFrame:
    """Per SKU: units, net revenue (ex VAT), refunds, the order lines' landed cost and fees,
    and the direct margin they leave (before advertising and warehouse storage)."""
    markets = list(vat_rate)
    vat = np.append(np.array([vat_rate[m] for m in markets], float), 0.0)[
        codes(orders["market"], markets)]
    frame = pd.DataFrame({
        "sku": orders["sku"].astype(str), "units": orders["units"],
        "net_revenue": orders["revenue_cny"] / (1.0 + vat), "refunds": orders["refund_cny"],
        "landed": orders["landed_cost_cny"]})
    table = frame.groupby("sku").sum()
    table["margin"] = table["net_revenue"] - table["refunds"] - table["landed"]
    table["margin_per_unit"] = table["margin"] / table["units"].where(table["units"] > 0)
    table["margin_pct"] = 100 * table["margin"] / table["net_revenue"].where(
        table["net_revenue"] > 0)
    return table.sort_values("margin", ascending=False)


def margin_part(table: pd.DataFrame, lost: Mapping[str, float]) -> Part:
    rows = [[sku, number(r.units), number(r.net_revenue), number(-r.refunds),
             number(-r.landed), number(r.margin), number(r.margin_per_unit, 2),
             number(r.margin_pct, 1) + " %", number(lost.get(str(sku), 0.0))]
            for sku, r in table.iterrows()]
    return Part("Direct margin by SKU (before advertising and warehouse storage)",
                ["SKU", "units sold", "net revenue [CNY]", "refunds [CNY]",
                 "landed cost and fees [CNY]", "direct margin [CNY]",
                 "direct margin [CNY/unit]", "% of net revenue", "lost units (est.)"],
                rows, [False, *[True] * 8])
