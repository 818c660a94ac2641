"""Fit order processing and parcel / last-mile transit times to the orders' dates.

A customer order in the simulation (``sim.fulfilment.dispatch``) is

    ship - order     = policies.fulfilment.<m>.order_processing_days (+ a carrier queue)
    delivery - ship  = modes.<k>.transit_days of the route's parcel or last-mile mode
                       (+ an inspection delay with its probability, direct parcels only)

and it is late when the two together exceed the market's promise. The late share moves the
rating and, through it, conversion: a scenario that delivers faster than the history would
lift its own rating and sell more than the history did. So both parts are fitted from the
orders' dates (``lead_durations``, day rounding and the inspection delay taken off by their
moments): processing per market, transit per mode, the markets (and fallback parcels) a mode
carries pooled. The mode of a line follows the base's routing (``returns_rates.line_modes``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.calibrate.fit import Fit
from experiments.data.calibrate.lead_durations import DurationFit, chance, fit_duration, settled
from experiments.data.calibrate.returns_rates import line_modes
from sim.scenario import Scenario

MIN_LINES = 30
"""Fewer dated lines than this keep the base's distribution."""


def fit_deliveries(tables: dict[str, pd.DataFrame], base: Scenario) -> Fit:
    """Order processing per market and transit per parcel / last-mile mode from ``orders``."""
    fit = Fit("delivery")
    orders = tables["orders"]
    if not {"ship_date", "delivery_date", "fulfilment"} <= set(orders):
        fit.warnings.append("orders carry no ship date, delivery date or fulfilment: order "
                            "processing and parcel transit times are the base's")
        fit.comment = "delivery times as in the base scenario (no dated shipments)"
        return fit
    lines = orders[orders["market"].astype(str).isin(list(base.policies.fulfilment))]
    subjects = _processing(lines, base, fit) | _transit(lines, base, fit)
    fit.values = {path: f.dist for path, f in subjects.items()}
    fit.tables["delivery_times"] = pd.DataFrame(
        [row for path, f in subjects.items() for row in f.rows(path)],
        columns=["parameter", "estimate", "low", "high", "n"])
    markets = sum(p.startswith("policies.") for p in subjects)
    modes = sum(p.startswith("modes.") for p in subjects)
    fit.comment = (f"order processing of {markets} markets and transit times of {modes} parcel "
                   f"and last-mile modes from {len(lines):,} dated order lines")
    return fit


def _processing(lines: pd.DataFrame, base: Scenario, fit: Fit) -> dict[str, DurationFit]:
    out = {}
    keep = lines[settled(lines["order_date"], lines["ship_date"])]
    for market, group in keep.groupby(keep["market"].astype(str)):
        rule = base.policies.fulfilment[str(market)]
        days = (group["ship_date"] - group["order_date"]).dt.days.to_numpy(dtype=float)
        if len(days) < MIN_LINES:
            fit.warnings.append(f"market {market}: {len(days)} shipped lines, too few to fit "
                                "its order processing time; kept the base's")
            continue
        out[f"policies.fulfilment.{market}.order_processing_days"] = fit_duration(
            days, 0.0, 0.0, rule.order_processing_days.dist)
    return out


def _transit(lines: pd.DataFrame, base: Scenario, fit: Fit) -> dict[str, DurationFit]:
    out = {}
    mode = line_modes(lines, base)
    keep = settled(lines["ship_date"], lines["delivery_date"]) & (mode != "")
    direct = lines["fulfilment"].astype(str) == "direct"
    extras = {m: chance(spec.customs.inspection_probability, spec.customs.inspection_delay_days)
              for m, spec in base.markets.items()}
    for name, group in lines[keep].groupby(mode[keep]):
        days = (group["delivery_date"] - group["ship_date"]).dt.days.to_numpy(dtype=float)
        if len(days) < MIN_LINES:
            fit.warnings.append(f"mode {name}: {len(days)} delivered lines, too few to fit its "
                                "transit time; kept the base's")
            continue
        extra = np.array([extras[str(m)] if d else (0.0, 0.0)
                          for m, d in zip(group["market"], direct[group.index], strict=True)])
        out[f"modes.{name}.transit_days"] = fit_duration(
            days, extra[:, 0], extra[:, 1], base.modes[str(name)].transit_days.dist)
    return out
