"""What every optimiser returns: the plan, its tables, its key figures and solver timings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from optimize.solve import SolveReport
from sim.plan import Plan


@dataclass
class Outcome:
    plan: Plan
    summary: dict[str, float]
    """Key figures for the printed table, e.g. cost per unit, orders, marginal ROAS."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Named tables written as CSV and parquet (e.g. 'costs', 'flows', 'frontier')."""
    report: SolveReport | None = None
    plans: list[Plan] = field(default_factory=list)
    """Every plan of a multi-plan result (the frontier's points); ``plan`` is the one
    recommended."""
