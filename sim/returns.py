"""Returns: which delivered orders come back, when, and what happens to the goods.

A delivered order returns with its SKU's base probability, multiplied by ``late_multiplier``
when it arrived after the promise, and with at least ``damaged_return_probability`` when it
arrived damaged; lost parcels are refunded, not returned. A return is dispatched after the
return window, travels back, is inspected and then restocked, liquidated, disposed of or sent
back to origin, each with its cost, recovery and delay. A direct parcel has no overseas
shelf to go back on: a "restock" decision for it takes the scenario's first of liquidate,
dispose and return to origin instead (``local_disposition``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np

from sim.scenario import DispositionName, Returns

DISPOSITIONS: tuple[DispositionName, ...] = get_args(DispositionName)
INSTEAD_OF_RESTOCK: tuple[DispositionName, ...] = ("liquidate", "dispose", "return_to_origin")
"""What a return that cannot be restocked becomes: the first of these the scenario has."""


def local_disposition(spec: Returns) -> DispositionName:
    """The disposition of a 'restock' return with no overseas shelf to go back on; the
    schema guarantees one exists (``Returns``)."""
    return next(name for name in INSTEAD_OF_RESTOCK if name in spec.disposition)


@dataclass
class ReturnDraws:
    """Per shipped order; times are NaN and disposition -1 where nothing is returned."""

    returned: np.ndarray
    dispatch_time: np.ndarray
    receipt_time: np.ndarray
    decision_time: np.ndarray
    disposition: np.ndarray


def draw_returns(rng: np.random.Generator, spec: Returns, base_probability: np.ndarray,
                 late: np.ndarray, damaged: np.ndarray, lost: np.ndarray,
                 delivery_time: np.ndarray, can_restock: np.ndarray) -> ReturnDraws:
    n = len(base_probability)
    probability = base_probability * np.where(late, spec.late_multiplier, 1.0)
    probability = np.where(damaged, np.maximum(probability, spec.damaged_return_probability),
                           probability)
    returned = (rng.random(n) < np.minimum(probability, 1.0)) & ~lost
    dispatch = np.full(n, np.nan)
    receipt = np.full(n, np.nan)
    decision = np.full(n, np.nan)
    disposition = np.full(n, -1, dtype=np.int8)
    which = np.flatnonzero(returned)
    k = len(which)
    if k == 0:
        return ReturnDraws(returned, dispatch, receipt, decision, disposition)
    sent_back = delivery_time[which] + spec.return_window_days.sample(rng, k)
    received = sent_back + spec.return_transit_days.sample(rng, k)
    names = [d for d in DISPOSITIONS if d in spec.disposition]
    shares = np.array([spec.disposition[d].share for d in names])
    chosen = np.array([DISPOSITIONS.index(d) for d in names])[
        rng.choice(len(names), size=k, p=shares / shares.sum())]
    if "restock" in spec.disposition:
        instead = DISPOSITIONS.index(local_disposition(spec))
        chosen = np.where((chosen == 0) & ~can_restock[which], instead, chosen)
    delay = np.zeros(k)
    for i, name in enumerate(DISPOSITIONS):
        pick = np.flatnonzero(chosen == i)
        if len(pick):
            delay[pick] = spec.disposition[name].delay_days.sample(rng, len(pick))
    inspection = spec.inspection_days.sample(rng, k)
    dispatch[which] = sent_back
    receipt[which] = received
    decision[which] = received + inspection + delay
    disposition[which] = chosen
    return ReturnDraws(returned, dispatch, receipt, decision, disposition)
