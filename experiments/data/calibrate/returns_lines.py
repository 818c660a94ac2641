"""Order lines with what became of them: on time or late, returned, damaged, lost.

The scenario's ``base_return_probability`` is the chance an on-time, undamaged delivery
comes back; late ones return ``late_multiplier`` times as often and damaged ones with at
least ``damaged_return_probability`` (``sim.returns``). So every line is classed by its
delivery against the market's promise (base scenario) in whole days: placed and delivered
at unknown times of day, a delivery ``days`` after the order is surely on time when
days <= promise - 1/2, surely late when days >= promise + 1/2, and left out in between.
A return whose reason mentions damage marks its line damaged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario import Scenario

ON_TIME, LATE, UNSURE, UNDELIVERED, UNDATED = "on_time", "late", "unsure", "undelivered", \
    "undated"


def order_lines(orders: pd.DataFrame, returns: pd.DataFrame, categories: pd.Series,
                base: Scenario) -> tuple[pd.DataFrame, int]:
    """Shipped lines with category, timing, returned units and damage; and the number of
    returned units that match no shipped line."""
    shipped = orders[orders["status"].astype(str).str.lower() != "cancelled"] \
        if "status" in orders else orders
    back = returns.assign(damaged=returns["reason"].astype(str).str.contains(
        "damag", case=False, na=False) if "reason" in returns else False)
    back = back.groupby(["order_id", "sku"], as_index=False).agg(
        returned=("quantity", "sum"), damaged=("damaged", "any"),
        return_date=("return_date", "min"))
    lines = shipped.groupby(["order_id", "sku"], as_index=False).agg(
        market=("market", "first"), units=("quantity", "sum"), order_date=("order_date", "min"),
        **({"delivery_date": ("delivery_date", "max")} if "delivery_date" in shipped else {}),
        **({"ship_date": ("ship_date", "min")} if "ship_date" in shipped else {}),
        **({"fulfilment": ("fulfilment", "first")} if "fulfilment" in shipped else {}))
    lines = lines.merge(back, on=["order_id", "sku"], how="left", indicator=True)
    unmatched = int(back["returned"].sum() - lines["returned"].sum())
    lines["returned"] = np.minimum(lines["returned"].fillna(0), lines["units"]).astype(float)
    lines["damaged"] = lines["damaged"].astype("boolean").fillna(False).astype(bool)
    lines["category"] = lines["sku"].astype(str).map(categories).fillna("(unknown)")
    lines["timing"] = _timing(lines, base)
    return lines.drop(columns="_merge"), unmatched


def _timing(lines: pd.DataFrame, base: Scenario) -> pd.Series:
    if "delivery_date" not in lines:
        return pd.Series(UNDATED, index=lines.index)
    promise = lines["market"].astype(str).map(
        {m: f.promise_days for m, f in base.policies.fulfilment.items()})
    days = (lines["delivery_date"] - lines["order_date"]).dt.days
    timing = np.select([days <= promise - 0.5, days >= promise + 0.5], [ON_TIME, LATE], UNSURE)
    timing = np.where(promise.isna(), UNDATED, timing)
    return pd.Series(np.where(lines["delivery_date"].isna(), UNDELIVERED, timing),
                     index=lines.index)


def categories_of(tables: dict[str, pd.DataFrame], base: Scenario) -> pd.Series:
    """SKU -> category: the ``skus`` table's where it has one, else the base scenario's."""
    known = pd.Series({s: spec.category for s, spec in base.skus.items()}, dtype=object)
    if "skus" in tables and "category" in tables["skus"]:
        given = tables["skus"].dropna(subset=["category"])
        known = pd.concat([known, pd.Series(given["category"].astype(str).to_numpy(),
                                            index=given["sku"].astype(str).to_numpy())])
        known = known[~known.index.duplicated(keep="last")]
    return known
