"""What a re-planning policy sees and must do: the simulation's side of model predictive
control.

Every ``review_days`` the simulation hands an ``OperationState`` (stock, pipeline, backlog,
the demand observed so far) to the policy object it was given and executes the first
period of the ``Plan`` it gets back. The policy may call a solver; ``sim`` never imports
one, so the simulation stays free of ``optimize``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.inventory import Stock
from sim.network import Network
from sim.pipeline import Pipeline
from sim.plan import Plan
from sim.sales import Sales


@dataclass(frozen=True)
class OperationState:
    """The operation at the start of ``day`` (the first day of plan week ``week``).

    Names give the index order of every array; units are item units.
    """

    day: int
    week: int
    skus: list[str]
    markets: list[str]
    warehouses: list[str]
    modes: list[str]
    on_hand: np.ndarray
    """Units on hand [warehouse, sku]."""
    backlog: np.ndarray
    """Backordered units waiting for stock [market, sku]."""
    transit_destination: np.ndarray
    """One element per SKU line of each bulk shipment still on its way: warehouse index."""
    transit_mode: np.ndarray
    """... its mode index."""
    transit_sku: np.ndarray
    """... its SKU index."""
    transit_units: np.ndarray
    """... its units."""
    transit_created_day: np.ndarray
    """... the day it left (or was booked to leave) its origin."""
    demand: np.ndarray
    """Units demanded [market, sku, day] on days 0 .. day - 1 (lost sales included)."""

    def in_transit(self) -> np.ndarray:
        """Units on their way [warehouse, sku]."""
        out = np.zeros_like(self.on_hand)
        np.add.at(out, (self.transit_destination, self.transit_sku), self.transit_units)
        return out


def snapshot(t: int, net: Network, stock: Stock, pipeline: Pipeline,
             sales: Sales) -> OperationState:
    """What a re-planning policy sees at the start of day ``t``."""
    lines = [(s.destination, s.mode, s.skus, s.units, s.created)
             for s in pipeline.open.values()]
    sizes = [len(line[2]) for line in lines]
    return OperationState(
        day=t, week=t // 7 + 1, skus=net.skus, markets=net.markets,
        warehouses=net.warehouses, modes=net.modes, on_hand=stock.on_hand.copy(),
        backlog=sales.backlog_by_market(),
        transit_destination=np.repeat([line[0] for line in lines], sizes).astype(int),
        transit_mode=np.repeat([line[1] for line in lines], sizes).astype(int),
        transit_sku=np.concatenate([line[2] for line in lines] or [np.zeros(0, int)]),
        transit_units=np.concatenate([line[3] for line in lines]
                                     or [np.zeros(0, np.int64)]),
        transit_created_day=np.repeat([line[4] for line in lines], sizes).astype(float),
        demand=sales.demand_units[:, :, :t].copy())


class ReplanPolicy(Protocol):
    """A policy object the simulation consults every ``review_days`` days."""

    review_days: int

    def replan(self, state: OperationState) -> Plan:
        """A plan from ``state.week`` on; the simulation executes the lines of the weeks
        that start before the next review (routing quotas and bulk shipments)."""
        ...
