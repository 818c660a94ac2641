"""Fit suppliers' lead times and bulk modes' transit times to purchase orders and shipments.

The scenario's ``suppliers.<s>.lead_time_days`` is the on-time production time in working
days (``lead_suppliers``); ``modes.<k>.transit_days`` the main leg of a bulk journey
(``lead_transit``). Each is written as the registry family that fits best, in the
scenario's own parameters, with bootstrap intervals for its mean and CV.
"""

from __future__ import annotations

import pandas as pd

from experiments.data.calibrate.fit import Fit
from experiments.data.calibrate.lead_durations import DurationFit
from experiments.data.calibrate.lead_suppliers import supplier_lead_times
from experiments.data.calibrate.lead_transit import mode_transit_times
from sim.scenario import Scenario


def fit_lead_times(tables: dict[str, pd.DataFrame], base: Scenario) -> Fit:
    """Lead and transit time distributions from ``purchase_orders`` and ``shipments``."""
    fit = Fit("lead_times")
    subjects: dict[str, DurationFit] = {}
    if "purchase_orders" in tables:
        suppliers, warnings = supplier_lead_times(tables["purchase_orders"], base)
        subjects |= {f"suppliers.{s}.lead_time_days": f for s, f in suppliers.items()}
        fit.warnings += warnings
    else:
        fit.warnings.append("no purchase_orders table: suppliers' lead times are the base's")
    if "shipments" in tables:
        modes, warnings = mode_transit_times(tables["shipments"], base)
        subjects |= {f"modes.{k}.transit_days": f for k, f in modes.items()}
        fit.warnings += warnings
    else:
        fit.warnings.append("no shipments table: bulk transit times are the base's")
    fit.values = {path: f.dist for path, f in subjects.items()}
    rows = [row for path, f in subjects.items() for row in f.rows(path)]
    fit.tables["lead_times"] = pd.DataFrame(
        rows, columns=["parameter", "estimate", "low", "high", "n"])
    families = [f.families.assign(parameter=path) for path, f in subjects.items()
                if len(f.families)]
    if families:
        fit.tables["lead_time_families"] = pd.concat(families, ignore_index=True)
    n_orders = sum(f.n for p, f in subjects.items() if p.startswith("suppliers."))
    n_trips = sum(f.n for p, f in subjects.items() if p.startswith("modes."))
    fit.comment = (f"lead times of {sum(p.startswith('suppliers.') for p in subjects)} "
                   f"suppliers from {n_orders} purchase orders (on time, working days) and "
                   f"transit times of {sum(p.startswith('modes.') for p in subjects)} bulk "
                   f"modes from {n_trips} shipments (less customs and final leg)")
    return fit
