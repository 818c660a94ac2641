"""What a backtest compares: the same measures, per market and month and per SKU class and
month, computed alike from the actuals and from each simulated history.

    orders        distinct orders placed (by order date)
    units         units ordered
    revenue_cny   units x price paid, in CNY at the scenario's FX (fixed, so that exchange
                  rate noise is not counted as a modelling error)
    returns       units returned (by return date), by the market and class of their order
    po_lead_days  purchase order placed to received at origin (by order date; SKU class
                  breakdown per class, market breakdown over all markets)
    transit_days  bulk shipment departure to arrival (by ship date; the market it serves)

Counts are zero in a month without events; the two lead times are means, and a month with
no purchase order or shipment has none. SKU classes are A/B/C by the actuals' revenue:
A the SKUs that make the first 80 %, B the next 15 %, C the rest (and SKUs never sold).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.data.tables import read_tables
from experiments.errors import ExperimentError

COUNTS = ("orders", "units", "revenue_cny", "returns")
MEANS = ("po_lead_days", "transit_days")
MEASURES = (*COUNTS, *MEANS)
LABELS = {"orders": "orders", "units": "units", "revenue_cny": "revenue [CNY]",
          "returns": "returned units", "po_lead_days": "PO order to receipt [days]",
          "transit_days": "shipment transit [days]"}
CLASS_SHARES = (0.80, 0.95)
ALL_MARKETS = "all markets"
CELL = ["breakdown", "group", "month", "measure"]


@dataclass(frozen=True)
class Frame:
    """What aggregation needs to know besides the tables; small, so every worker gets it."""

    first: dt.date
    last: dt.date
    fx: Mapping[str, float]
    """CNY per unit of each currency."""
    classes: Mapping[str, str]
    """SKU -> A, B or C."""
    market_of: Mapping[str, str]
    """Warehouse or market name -> the market it serves (lane destinations)."""
    lanes: Mapping[str, str]
    """Scenario lane name -> ``ORIGIN>DESTINATION``."""


def read_actuals(data_dir: Path) -> dict[str, pd.DataFrame]:
    """The canonical tables of a seller's data directory; it must hold dated orders."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ExperimentError(f"{data_dir}: no such data directory")
    try:
        tables = read_tables(data_dir)
    except (OSError, ValueError, TypeError) as exc:
        raise ExperimentError(f"{data_dir}: cannot read its tables: {exc}") from None
    orders = tables.get("orders")
    if orders is None:
        raise ExperimentError(f"{data_dir}: no orders table (orders.parquet); calibration and "
                              "backtests need the order history")
    if orders["order_date"].dropna().empty:
        raise ExperimentError(f"{data_dir}: the orders table has no dated orders")
    return tables


def order_period(orders: pd.DataFrame) -> tuple[dt.date, dt.date]:
    """First and last order date."""
    dates = orders["order_date"].dropna()
    return dates.min().date(), dates.max().date()


def sku_classes(orders: pd.DataFrame, fx: Mapping[str, float]) -> dict[str, str]:
    """A/B/C by each SKU's share of revenue (in CNY), largest first."""
    lines = _valid(orders)
    revenue = (lines["quantity"].astype(float) * lines["unit_price"].astype(float)
               * lines["currency"].astype(str).map(fx)).groupby(lines["sku"].astype(str)).sum()
    revenue = revenue.sort_values(ascending=False, kind="stable")
    before = (revenue.cumsum() - revenue) / max(float(revenue.sum()), 1e-12)
    return {str(sku): "A" if share < CLASS_SHARES[0] else "B" if share < CLASS_SHARES[1]
            else "C" for sku, share in before.items()}


def _valid(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[orders["status"].fillna("shipped").astype(str) != "cancelled"]


def measure_cells(tables: Mapping[str, pd.DataFrame], frame: Frame) -> pd.DataFrame:
    """Long table of every measure: breakdown (market or class), group, month, measure,
    value."""
    parts = [_order_measures(tables["orders"], frame)]
    if "returns" in tables:
        parts.append(_returns(tables["returns"], tables["orders"], frame))
    if "purchase_orders" in tables:
        parts.append(_po_lead(tables["purchase_orders"], frame))
    if "shipments" in tables:
        parts.append(_transit(tables["shipments"], frame))
    return pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(columns=[*CELL,
                                                                                 "value"])],
                     ignore_index=True)


def _month(dates: pd.Series) -> np.ndarray:
    """``YYYY-MM`` of each date (numpy's month unit: far faster than strftime)."""
    return dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(str)


def _in_period(dates: pd.Series, frame: Frame) -> pd.Series:
    return (dates >= pd.Timestamp(frame.first)) & (dates <= pd.Timestamp(frame.last))


def _by_both(lines: pd.DataFrame, values: Mapping[str, pd.Series], how: str) -> pd.DataFrame:
    """Aggregate ``values`` (name -> series on ``lines``) per market and per class, monthly."""
    data = pd.DataFrame({"market": lines["market"].to_numpy(),
                         "class": lines["class"].to_numpy(), "month": lines["month"].to_numpy(),
                         **{k: v.to_numpy() for k, v in values.items()}})
    out = []
    for breakdown in ("market", "class"):
        agg = data.groupby([breakdown, "month"], sort=True)[list(values)].agg(how)
        long = agg.rename_axis(columns="measure").stack().rename("value").reset_index()
        out.append(long.rename(columns={breakdown: "group"}).assign(breakdown=breakdown))
    return pd.concat(out, ignore_index=True)[[*CELL, "value"]]


def _order_measures(orders: pd.DataFrame, frame: Frame) -> pd.DataFrame:
    lines = _valid(orders)
    lines = lines[_in_period(lines["order_date"], frame)]
    lines = pd.DataFrame({"market": lines["market"].astype(str),
                          "class": lines["sku"].astype(str).map(frame.classes).fillna("C"),
                          "month": _month(lines["order_date"]),
                          "order_id": lines["order_id"].astype(str),
                          "units": lines["quantity"].astype(float),
                          "revenue_cny": lines["quantity"].astype(float)
                          * lines["unit_price"].astype(float)
                          * lines["currency"].astype(str).map(frame.fx)})
    counted = _by_both(lines, {"orders": lines["order_id"]}, "nunique")
    summed = _by_both(lines, {"units": lines["units"], "revenue_cny": lines["revenue_cny"]},
                      "sum")
    return pd.concat([counted, summed], ignore_index=True)


def _returns(returns: pd.DataFrame, orders: pd.DataFrame, frame: Frame) -> pd.DataFrame:
    keys = orders[["order_id", "sku", "market"]].astype(str).drop_duplicates(["order_id", "sku"])
    back = returns[_in_period(returns["return_date"], frame)]
    back = back.assign(order_id=back["order_id"].astype(str), sku=back["sku"].astype(str))
    back = back.merge(keys, on=["order_id", "sku"], how="inner")
    lines = pd.DataFrame({"market": back["market"],
                          "class": back["sku"].map(frame.classes).fillna("C"),
                          "month": _month(back["return_date"])})
    return _by_both(lines, {"returns": back["quantity"].astype(float)}, "sum")


def _po_lead(pos: pd.DataFrame, frame: Frame) -> pd.DataFrame:
    done = pos[pos["received_date"].notna() & _in_period(pos["order_date"], frame)]
    lines = pd.DataFrame({"market": ALL_MARKETS,
                          "class": done["sku"].astype(str).map(frame.classes).fillna("C"),
                          "month": _month(done["order_date"])})
    days = (done["received_date"] - done["order_date"]).dt.days.astype(float)
    return _by_both(lines, {"po_lead_days": days}, "mean")


def _transit(shipments: pd.DataFrame, frame: Frame) -> pd.DataFrame:
    done = shipments[shipments["arrival_date"].notna()
                     & _in_period(shipments["ship_date"], frame)]
    lane = done["lane"].astype(str).map(lambda name: frame.lanes.get(name, name))
    destination = lane.str.split(">").str[-1]
    lines = pd.DataFrame({"market": destination.map(frame.market_of).fillna(destination),
                          "class": done["sku"].astype(str).map(frame.classes).fillna("C"),
                          "month": _month(done["ship_date"])})
    days = (done["arrival_date"] - done["ship_date"]).dt.days.astype(float)
    return _by_both(lines, {"transit_days": days}, "mean")


def flatten(cells: pd.DataFrame) -> dict[str, float]:
    """Cells as ``breakdown|group|month|measure`` -> value (what a replication returns)."""
    keys = cells[CELL].astype(str).agg("|".join, axis=1)
    return dict(zip(keys, cells["value"].astype(float), strict=True))


def unflatten(values: Mapping[str, float]) -> pd.DataFrame:
    """The inverse of ``flatten``."""
    rows = [(*key.split("|"), value) for key, value in values.items()]
    return pd.DataFrame(rows, columns=[*CELL, "value"])


def fill_counts(matrix: np.ndarray, measures: np.ndarray) -> np.ndarray:
    """Missing counts are zero (no event that month); missing means stay missing."""
    out = matrix.copy()
    counts = np.isin(measures, COUNTS)
    out[counts] = np.nan_to_num(out[counts], nan=0.0)
    return out
