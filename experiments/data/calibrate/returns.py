"""Fit return probabilities per category, the late multiplier and carriers' loss and damage.

``base_return_probability`` of every SKU of a category = units returned / units shipped over
the category's on-time, undamaged lines (``returns_lines``), with a Wilson interval; a
``return_probability`` given in the ``skus`` table wins over the fit. Late lines give
``returns.late_multiplier`` (their returns over what the base probabilities predict);
lost and damaged parcels give the modes' ``loss_probability`` and ``damage_probability``
(``returns_rates``). What the data cannot show keeps the base's values, with a note.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from experiments.data.calibrate.fit import Fit
from experiments.data.calibrate.returns_lines import (
    LATE,
    ON_TIME,
    UNDATED,
    categories_of,
    order_lines,
)
from experiments.data.calibrate.returns_rates import carrier_rates, rate_row
from sim.scenario import Scenario

FEW_UNITS = 300
"""Categories with fewer on-time units shipped are flagged."""
MIN_LATE_RETURNS = 30


def fit_returns(tables: dict[str, pd.DataFrame], base: Scenario) -> Fit:
    """Return, loss and damage probabilities from ``orders`` and ``returns``."""
    fit = Fit("returns")
    if "orders" not in tables or "returns" not in tables:
        fit.warnings.append("no orders or returns table: return probabilities are the base's")
        fit.comment = "returns as in the base scenario (no order history)"
        return fit
    categories = categories_of(tables, base)
    lines, unmatched = order_lines(tables["orders"], tables["returns"], categories, base)
    if unmatched:
        fit.warnings.append(f"{unmatched} returned units match no shipped order line and were "
                            "left out")
    clean = _settled(lines[~lines["damaged"]], tables["orders"], fit)
    timed = clean["timing"].isin([ON_TIME, UNDATED])
    if (clean["timing"] == UNDATED).any():
        fit.warnings.append("some orders have no delivery date (or no promise in the base): "
                            "their returns count as on time, so late returns raise the fit")
    per = clean[timed].groupby("category")[["units", "returned"]].sum()
    rows: list[dict[str, Any]] = []
    probability: dict[str, float] = {}
    for category, (units, returned) in per.iterrows():
        rows.append(rate_row(f"categories.{category}.base_return_probability", returned, units))
        probability[str(category)] = returned / units
        if units < FEW_UNITS:
            fit.warnings.append(f"category {category}: only {int(units)} units shipped on "
                                "time; its return probability is uncertain")
    fit.values |= _per_sku(tables, categories, probability, fit)
    rows += _late(clean, probability, base, fit)
    values, carrier_rows, notes = carrier_rates(lines, base)
    fit.values |= values
    fit.warnings += notes
    fit.tables["returns"] = pd.DataFrame(
        rows + carrier_rows, columns=["parameter", "estimate", "low", "high", "n", "events"])
    fit.tables["returns_by_category"] = _observed(lines)
    fit.comment = (f"return probability of {len(probability)} categories from "
                   f"{int(per['units'].sum())} on-time units shipped "
                   f"({int(per['returned'].sum())} returned); late multiplier and carriers' "
                   "loss and damage where the data show them")
    return fit


def _settled(lines: pd.DataFrame, orders: pd.DataFrame, fit: Fit) -> pd.DataFrame:
    """Lines whose returns the history shows in full: delivered at least the longest
    delivery-to-return delay seen before its last order date. A line delivered days before
    the export could still come back; counting it as kept ran the fit ~5 % low on a year."""
    if "delivery_date" not in lines or not lines["delivery_date"].notna().any():
        return lines
    back = lines[lines["returned"] > 0]
    if "return_date" not in back:
        return lines
    delay = (back["return_date"] - back["delivery_date"]).dt.days.max()
    end = orders["order_date"].max()
    if pd.isna(delay) or pd.isna(end):
        return lines
    recent = lines["delivery_date"] > end - pd.Timedelta(days=int(delay))
    if recent.any():
        fit.warnings.append(f"{int(recent.sum())} lines delivered in the last {int(delay)} days "
                            "(the longest delay to a return seen) were left out of the return "
                            "rates: their returns may come after the history ends")
    return lines[~recent]


def _per_sku(tables: dict[str, pd.DataFrame], categories: pd.Series,
             probability: dict[str, float], fit: Fit) -> dict[str, float]:
    """``skus.<sku>.base_return_probability`` for every SKU of a fitted category."""
    given = pd.Series(dtype=float)
    if "skus" in tables and "return_probability" in tables["skus"]:
        table = tables["skus"].dropna(subset=["return_probability"])
        given = pd.Series(table["return_probability"].astype(float).to_numpy(),
                          index=table["sku"].astype(str).to_numpy())
        if len(given):
            fit.warnings.append(f"{len(given)} SKUs keep the return probability the skus "
                                "table gives")
    out = {}
    for sku, category in categories.items():
        if sku in given.index:
            out[f"skus.{sku}.base_return_probability"] = round(float(given[sku]), 5)
        elif category in probability:
            out[f"skus.{sku}.base_return_probability"] = round(probability[category], 5)
    return out


def _late(clean: pd.DataFrame, probability: dict[str, float], base: Scenario,
          fit: Fit) -> list[dict[str, Any]]:
    """``returns.late_multiplier``: late lines' returns over the on-time probabilities'."""
    late = clean[clean["timing"] == LATE]
    expected = float((late["units"] * late["category"].map(probability).fillna(0.0)).sum())
    returned = float(late["returned"].sum())
    if returned < MIN_LATE_RETURNS or expected <= 0:
        fit.warnings.append(f"only {int(returned)} returns of late deliveries: the late "
                            f"multiplier is the base's ({base.returns.late_multiplier})")
        return []
    units = float(late["units"].sum())
    row = rate_row("returns.late_multiplier", returned, units, expected / units)
    fit.values["returns.late_multiplier"] = round(max(row["estimate"], 1.0), 4)
    if row["estimate"] < 1.0:
        fit.warnings.append(f"late deliveries return less often than on-time ones "
                            f"(x{row['estimate']:.2f}); the late multiplier is set to 1")
    return [row]


def _observed(lines: pd.DataFrame) -> pd.DataFrame:
    """Units shipped and returned per category and timing (damaged lines apart)."""
    group = lines.assign(timing=lines["timing"].where(~lines["damaged"], "damaged"))
    out = group.groupby(["category", "timing"], as_index=False)[["units", "returned"]].sum()
    out["return_rate"] = out["returned"] / out["units"]
    return out
