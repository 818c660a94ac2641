"""First come, first served: which orders a stock (or a quota) can fill, in numpy.

An order's place in line is its ``priority`` (lowest first) within its ``key`` (a
warehouse x SKU pair, or a market x SKU pair for routing quotas).
"""

from __future__ import annotations

import numpy as np


def units_up_to(key: np.ndarray, units: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """For each order, the units of its own key's orders ahead of it (by ``priority``,
    lowest first) plus its own, in the input order."""
    if len(key) == 0:
        return np.zeros(0, dtype=units.dtype)
    order = np.lexsort((priority, key))
    k, u = key[order], units[order]
    cumulative = np.cumsum(u)
    first = np.empty(len(k), dtype=bool)
    first[0] = True
    np.not_equal(k[1:], k[:-1], out=first[1:])
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(k)), 0))
    within_group = np.empty_like(cumulative)
    within_group[order] = cumulative - (cumulative - u)[group_start]
    return within_group


def allocate(key: np.ndarray, units: np.ndarray, priority: np.ndarray,
             available: np.ndarray) -> np.ndarray:
    """Which orders stock can fill: first come, first served within each stock key.

    An order is filled whole when the units of all orders ahead of it plus its own fit in
    ``available[key]``. Returns a boolean mask in the input order.
    """
    return np.asarray(units_up_to(key, units, priority) <= available[key])
