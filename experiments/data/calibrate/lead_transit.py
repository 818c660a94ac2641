"""Bulk modes' main-leg transit times from shipments (ship date to arrival date).

A bulk shipment's ship date is its departure (after the first mile and the wait for a
sailing); its arrival is at the overseas warehouse, so in the scenario's terms

    arrival - ship = modes.<k>.transit_days (+ a disruption's extra days)
                     + the destination market's customs clearance (+ an inspection delay
                       with its probability) + lanes.<l>.final_delivery_days

The fit takes each shipment's customs and final leg off by their base-scenario moments
(``lead_durations``). Shipments that left during one of the base's disruptions of the mode
are left out. A mode used on several lanes has one transit time in the scenario, so its
lanes are pooled, each shipment less its own lane's extras, and a warning says when the
lanes' transit times differ by more than chance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.calibrate.lead_durations import (
    DurationFit,
    chance,
    fit_duration,
    moments,
    settled,
)
from sim.scenario import Scenario

MIN_SHIPMENTS = 5
FEW_SHIPMENTS = 30


def mode_transit_times(shipments: pd.DataFrame, base: Scenario
                       ) -> tuple[dict[str, DurationFit], list[str]]:
    """Each bulk mode's transit time, and what the data could not tell."""
    warnings: list[str] = []
    trips = shipments.groupby("shipment_id", sort=False).agg(
        lane=("lane", "first"), mode=("mode", "first"), ship_date=("ship_date", "min"),
        arrival_date=("arrival_date", "max"))
    trips["lane_name"] = [_lane(base, str(lane), str(mode))
                          for lane, mode in zip(trips["lane"], trips["mode"], strict=True)]
    unknown = trips[trips["lane_name"] == ""]
    for (lane, mode), group in unknown.groupby(["lane", "mode"]):
        warnings.append(f"{len(group)} shipments on lane '{lane}' by '{mode}' match no lane "
                        "and mode of the base scenario and were left out")
    trips = trips[(trips["lane_name"] != "") & settled(trips["ship_date"], trips["arrival_date"])]
    trips = trips[~_disrupted(base, trips)]
    fits: dict[str, DurationFit] = {}
    for mode, group in trips.groupby("mode"):
        name = str(mode)
        if len(group) < MIN_SHIPMENTS:
            warnings.append(f"mode {name}: {len(group)} arrived shipments, too few to fit; its "
                            "transit time is the base scenario's")
            continue
        days = (group["arrival_date"] - group["ship_date"]).dt.days.to_numpy(dtype=float)
        extras = [_extras(base, str(lane)) for lane in group["lane_name"]]
        extra_mean = np.array([e[0] for e in extras])
        fit = fit_duration(days, extra_mean, np.array([e[1] for e in extras]),
                           base.modes[name].transit_days.dist)
        fits[name] = fit
        lanes = sorted(set(group["lane_name"]))
        if len(lanes) > 1:
            warnings.extend(_lanes_differ(name, lanes, group["lane_name"].to_numpy(),
                                          days - extra_mean))
        if fit.dist["dist"] == "constant":
            warnings.append(f"mode {name}: customs, the final leg and day rounding explain all "
                            "the spread of its shipments' times; its transit is a constant")
        if len(group) < FEW_SHIPMENTS:
            warnings.append(f"mode {name}: only {len(group)} shipments; its transit time's "
                            f"CV ({fit.cv:.2f}, 95 % {fit.cv_interval[0]:.2f}-"
                            f"{fit.cv_interval[1]:.2f}) is uncertain")
    return fits, warnings


def _lane(base: Scenario, lane: str, mode: str) -> str:
    """The base lane a shipment's 'ORIGIN>DEST' (or lane name) and mode travel, or ''."""
    if lane in base.lanes:
        return lane if mode in base.lanes[lane].modes else ""
    origin, _, destination = lane.partition(">")
    for name, spec in base.lanes.items():
        if spec.origin == origin and spec.destination == destination and mode in spec.modes:
            return name
    return ""


def _extras(base: Scenario, lane: str) -> tuple[float, float]:
    """(mean, variance) of customs and the final leg after a lane's main leg."""
    spec = base.lanes[lane]
    mean, variance = moments(spec.final_delivery_days)
    warehouse = base.warehouses.get(spec.destination)
    if warehouse is not None and warehouse.market is not None:
        customs = base.markets[warehouse.market].customs
        clearance = moments(customs.clearance_days)
        inspection = chance(customs.inspection_probability, customs.inspection_delay_days)
        mean += clearance[0] + inspection[0]
        variance += clearance[1] + inspection[1]
    return mean, variance


def _disrupted(base: Scenario, trips: pd.DataFrame) -> pd.Series:
    """Shipments that left during a base-scenario disruption of their mode."""
    hit = pd.Series(False, index=trips.index)
    for disruption in base.disruptions:
        start = pd.Timestamp(disruption.start)
        end = start + pd.Timedelta(days=disruption.days)
        hit |= (trips["mode"].isin(disruption.modes) & (trips["ship_date"] >= start)
                & (trips["ship_date"] < end))
    return hit


def _lanes_differ(mode: str, lanes: list[str], lane_of: np.ndarray,
                  net_days: np.ndarray) -> list[str]:
    """A warning when two lanes' mean transit times differ by more than 2 standard errors."""
    stats = {}
    for lane in lanes:
        values = net_days[lane_of == lane]
        if len(values) > 1:
            stats[lane] = (values.mean(), values.var(ddof=1) / len(values))
    means = sorted(stats.items(), key=lambda item: item[1][0])
    if len(means) < 2:
        return []
    (low, (m0, v0)), (high, (m1, v1)) = means[0], means[-1]
    if m1 - m0 <= 2.0 * np.sqrt(v0 + v1):
        return [f"mode {mode}: lanes {', '.join(lanes)} pooled into one transit time "
                "(each shipment less its own lane's customs and final leg)"]
    return [f"mode {mode}: lanes {', '.join(lanes)} pooled, but {low} averages "
            f"{m0:.1f} days and {high} {m1:.1f}: the scenario gives a mode one transit time "
            "(a mode per lane would keep both)"]
