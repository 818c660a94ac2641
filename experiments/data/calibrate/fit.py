"""What every fitter returns: scenario values by dotted path, their evidence and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Fit:
    """One group of fitted scenario values (e.g. demand, ads, lead times, returns).

    ``values`` maps dotted scenario paths to the values to write (``markets.US.
    organic_sessions_per_day``: 2400.0; ``skus.X.popularity``: 0.8; a whole mapping or list
    where a field is replaced whole, e.g. ``suppliers.acme.lead_time_days``: {"dist":
    "lognormal", "mean": 21.0, "cv": 0.3}). ``comment`` is the one line written above the
    group in the scenario file (what was fitted, from how much data, how well).
    ``tables`` hold the estimates with intervals for the fit report (columns at least
    ``parameter``, ``estimate``, ``low``, ``high``; plus observed-vs-fitted tables);
    ``warnings`` what the data could not tell, in words.
    """

    group: str
    values: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
