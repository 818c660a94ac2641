"""Suppliers' production lead times from purchase orders (order date to receipt).

A purchase order's time in the simulation, and in the scenario's terms, is

    receipt - order = lead_time_days (counted in working days: shutdowns stretch it)
                      + late_delay_days with probability 1 - on_time_probability
                      (+ a wait when the line is still busy with earlier orders)

so ``lead_time_days`` is the on-time production time only. The fit takes the shutdown days
each order spans (the supplier's own and, if it observes it, Chinese New Year, from the base
calendar) off its time, then removes the late deliveries' share of the mean and variance
with the base's on-time probability and delay distribution (the dates cannot tell an on-time
order from a late one). Waiting for capacity is not modelled here: it shows as a longer
lead time.
"""

from __future__ import annotations

import pandas as pd

from experiments.data.calibrate.lead_durations import DurationFit, chance, fit_duration, settled
from sim.scenario import Scenario, Supplier, Window

MIN_ORDERS = 5
"""Fewer purchase orders than this keep the base's lead time."""
FEW_ORDERS = 30


def supplier_lead_times(purchase_orders: pd.DataFrame, base: Scenario
                        ) -> tuple[dict[str, DurationFit], list[str]]:
    """Each known supplier's on-time lead time, and what the data could not tell."""
    fits: dict[str, DurationFit] = {}
    warnings: list[str] = []
    orders = purchase_orders.drop_duplicates(["supplier", "po_id", "order_date", "received_date"])
    for supplier, group in orders.groupby("supplier"):
        name = str(supplier)
        spec = base.suppliers.get(name)
        if spec is None:
            warnings.append(f"purchase orders of supplier '{name}', not in the base scenario, "
                            "were left out (add it to the scenario to fit it)")
            continue
        keep = settled(group["order_date"], group["received_date"])
        start, end = group.loc[keep, "order_date"], group.loc[keep, "received_date"]
        days = (end - start).dt.days.to_numpy(dtype=float)
        working = days - _shutdown_days(start, end, _shutdowns(base, spec)).to_numpy()
        if len(working) < MIN_ORDERS:
            warnings.append(f"supplier {name}: {len(working)} received purchase orders, too "
                            "few to fit; its lead time is the base scenario's")
            continue
        late_mean, late_variance = chance(1.0 - spec.on_time_probability, spec.late_delay_days)
        fit = fit_duration(working, late_mean, late_variance, spec.lead_time_days.dist)
        fits[name] = fit
        if len(working) < FEW_ORDERS:
            warnings.append(f"supplier {name}: only {len(working)} purchase orders; the lead "
                            f"time's CV ({fit.cv:.2f}, 95 % {fit.cv_interval[0]:.2f}-"
                            f"{fit.cv_interval[1]:.2f}) is uncertain")
        if fit.dist["dist"] == "constant":
            warnings.append(f"supplier {name}: late deliveries and day rounding explain all "
                            "the spread of its lead times, written as a constant")
    return fits, warnings


def _shutdowns(base: Scenario, spec: Supplier) -> list[Window]:
    windows = list(spec.shutdowns)
    if spec.observes_chinese_new_year and base.calendar.chinese_new_year is not None:
        windows.append(base.calendar.chinese_new_year)
    return windows


def _shutdown_days(start: pd.Series, end: pd.Series, windows: list[Window]) -> pd.Series:
    """Days of each [start, end) span that fall in a shutdown (overlaps counted once)."""
    total = pd.Series(0.0, index=start.index)
    covered = pd.DatetimeIndex([])
    for window in windows:
        days = pd.date_range(pd.Timestamp(window.start), periods=window.days, freq="D")
        covered = covered.union(days)
    for day in covered:
        total += ((start <= day) & (day < end)).astype(float)
    return total
