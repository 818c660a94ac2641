"""Binomial rates with Wilson intervals, and carriers' loss and damage rates from orders.

A parcel's mode is not in the orders table but follows from the base scenario's routing:
a line shipped from an overseas warehouse went by its market's last-mile mode; a direct
line by the market's parcel mode, or by its fallback mode when the market ships from a
warehouse. Lost: shipped lines never delivered (among lines shipped long enough before the
last delivery seen that they would have arrived). Damaged: seen only through returns
whose reason is damage, which come back with ``damaged_return_probability`` (base), so
damage rate = damaged returns / (delivered lines x that probability).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.scenario import Scenario

Z95 = 1.959963984540054
MIN_EVENTS = 10
MIN_LINES = 5000
"""A carrier rate is written from this many events, or this many lines without them."""


def wilson(k: float, n: float) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial proportion k / n."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def rate_row(parameter: str, k: float, n: float, scale: float = 1.0) -> dict[str, Any]:
    """Parameter-table row of (k / n) / scale with its Wilson interval."""
    low, high = wilson(k, n)
    estimate = k / n / scale if n > 0 else float("nan")
    return {"parameter": parameter, "estimate": estimate, "low": low / scale,
            "high": high / scale, "n": n, "events": k}


def line_modes(lines: pd.DataFrame, base: Scenario) -> pd.Series:
    """The parcel or last-mile mode each line travelled by, under the base's routing."""
    mode = pd.Series("", index=lines.index, dtype=object)
    if "fulfilment" not in lines:
        return mode
    direct = lines["fulfilment"].astype(str) == "direct"
    for market, rule in base.policies.fulfilment.items():
        here = lines["market"].astype(str) == market
        parcel = rule.mode if rule.route == "direct" else (
            rule.fallback.mode if rule.fallback else "")
        last_mile = rule.mode if rule.route == "warehouse" else ""
        mode[here & direct] = parcel
        mode[here & ~direct] = last_mile
    return mode


def carrier_rates(lines: pd.DataFrame, base: Scenario
                  ) -> tuple[dict[str, float], list[dict[str, Any]], list[str]]:
    """Loss and damage probabilities per mode: values to write, table rows, notes."""
    if "ship_date" not in lines or "fulfilment" not in lines:
        return {}, [], ["orders carry no ship date or fulfilment: carriers' loss and damage "
                        "rates are the base's"]
    mode = line_modes(lines, base)
    sent = lines["ship_date"].notna() & (mode != "")
    delivered = lines["delivery_date"].notna()
    longest = (lines.loc[delivered, "delivery_date"] - lines.loc[delivered, "ship_date"]).max()
    settled = sent & (lines["ship_date"] <= lines["delivery_date"].max() - longest)
    share = base.returns.damaged_return_probability
    values: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in sorted(set(mode[sent])):
        on = mode == name
        lost_n, lost_k = float((on & settled).sum()), float((on & settled & ~delivered).sum())
        dmg_n = float((on & delivered).sum())
        dmg_k = float((on & delivered & lines["damaged"]).sum())
        for field, k, n, scale in (("loss_probability", lost_k, lost_n, 1.0),
                                   ("damage_probability", dmg_k, dmg_n, share)):
            path = f"modes.{name}.{field}"
            if scale <= 0:
                notes.append(f"{path}: damaged parcels are never returned in the base "
                             "scenario, so returns cannot show damage; kept the base's")
                continue
            rows.append(rate_row(path, k, n, scale))
            if k >= MIN_EVENTS or n >= MIN_LINES:
                values[path] = round(min(k / n / scale, 1.0), 5)
            else:
                notes.append(f"{path}: {int(k)} events in {int(n)} lines, too few; kept the "
                             "base's")
    notes.append("damage rates assume damaged parcels come back with the base's "
                 f"damaged_return_probability ({share})")
    return values, rows, notes
