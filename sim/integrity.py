"""The last word on a run: its numbers are finite and its units and money balance.

A run that ends with a NaN margin, an infinite cost or a unit that came from nowhere has
gone wrong somewhere upstream (an input at the edge of what floats hold, a bug); its
results must not be written as if they were true. ``check_run`` is called once at the end
of every run and raises ``RunIntegrityError`` naming the first offending table column, KPI
or residual, so the run stops instead of exiting 0 with wrong numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

MONEY_TOLERANCE = 1e-8
"""Money residual allowed, relative to the run's gross flows: float rounding only."""
NOT_YET = {"shipments": ("departed_day", "arrived_day")}
"""Columns where NaN means "has not happened by the horizon's end" (never infinity)."""
COUNTS = ("daily",)
"""Tables whose integer columns count things: never negative."""


MAX_UNITS = 2**53
"""Units one step may move at once: exact as a float, and thousands of such moves still
sum far inside int64, so a count can never wrap around into a plausible number."""


class RunIntegrityError(Exception):
    """A run whose results cannot be trusted; the message names what and by how much."""


def whole_units(units: np.ndarray, what: str) -> np.ndarray:
    """``units`` (already rounded) as int64, or ``RunIntegrityError`` naming ``what`` when
    they are not finite or beyond ``MAX_UNITS`` (a cast would wrap silently)."""
    units = np.asarray(units)
    if units.size and not np.all(np.abs(units) <= MAX_UNITS):
        worst = units.flat[int(np.argmax(~(np.abs(units) <= MAX_UNITS)))]
        raise RunIntegrityError(f"{what}: {float(worst):.3g} units cannot be counted "
                                f"(more than {MAX_UNITS:.3g} at once)")
    return units.astype(np.int64)


def check_run(tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any],
              conservation: Mapping[str, float], gross_cny: float) -> None:
    """Raise ``RunIntegrityError`` for the first non-finite table column or KPI, or an
    unbalanced unit or money identity; ``gross_cny`` is the scale of the run's money (the
    sum of absolute flows and stock values) against which rounding is judged."""
    for name, table in tables.items():
        check_table(name, table)
    _check_values("KPI", summary)
    units = conservation["units_residual"]
    if units != 0:
        raise RunIntegrityError(f"units do not balance: units_residual = {units:g} units "
                                f"(of {conservation['units_in']:g} in)")
    money = conservation["money_residual_cny"]
    if not abs(money) <= MONEY_TOLERANCE * max(gross_cny, 1.0):
        raise RunIntegrityError(f"money does not balance: money_residual_cny = {money:.6g} "
                                f"CNY (gross flows {gross_cny:.6g} CNY)")


def check_table(name: str, table: pd.DataFrame) -> None:
    """``RunIntegrityError`` for a non-finite value (or a negative count) in ``table``; a
    streamed table is checked chunk by chunk (``sim.tables``)."""
    for column in table.columns:
        dtype = table[column].dtype
        if not (isinstance(dtype, np.dtype) and dtype.kind in "iuf"):
            continue  # names, dates, flags: nothing to overflow (and costly to convert)
        values = table[column].to_numpy()
        if values.dtype.kind in "iu" and name in COUNTS and values.size and values.min() < 0:
            raise RunIntegrityError(f"{name}.{column} is negative ({values.min()}): a count "
                                    "overflowed or went below zero")
        if values.dtype.kind != "f":
            continue
        bad = ~np.isfinite(values)
        if column in NOT_YET.get(name, ()):
            bad &= ~np.isnan(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise RunIntegrityError(f"{name}.{column} is not finite ({values[row]} in row "
                                    f"{row}, {int(bad.sum())} rows in all): an input is "
                                    "beyond what the model can compute")


def _check_values(path: str, values: Any) -> None:
    if isinstance(values, Mapping):
        for key, value in values.items():
            _check_values(f"{path} {key}", value)
    elif isinstance(values, float) and not math.isfinite(values):
        raise RunIntegrityError(f"{path} is not finite ({values}): an input is beyond what "
                                "the model can compute")
