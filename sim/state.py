"""Where the seller stands on day 0: the opening state a run (and a plan) starts from.

A scenario opens on a rule of thumb: ``initial_stock_days`` of cover in each warehouse,
nothing on its way, no order waiting. A seller planning from today knows better, and an
``OpeningState`` says so in the simulation's own terms (names, units, days counted from
the scenario's start date, day 0):

    on hand      units per (warehouse, SKU) on the shelves. A warehouse the state names
                 opens with exactly these (a SKU not listed: none); the others keep their
                 days of cover. Valued at product cost, like the scenario's opening.
    in transit   bulk shipments on a lane (origin, overseas warehouse, mode) that land on
                 their arrival day, whole, and count as in transit until then, valued at
                 product cost (their freight and duty were paid before day 0).
    open orders  purchase orders received whole at the supplier's origin warehouse on their
                 ready day, invoiced then and paid on the supplier's terms; the supplier's
                 line is busy with them until that day.
    backlog      orders taken and not yet shipped, one unit each, placed on day 0 and served
                 before any new order as stock allows. A lost-sales market's rule applies
                 to new orders: the orders it already took wait in line like backorders.
    adstock      carried-over ad spend per channel, CNY per day, entering the carry-over
                 of day 0: a_0 = (1 - r) s_0 + r A (a channel not named carries day 0's
                 own spend, as without a state).

The state's goods arrive as it says: no lead time, lateness, partial delivery, defect or
loss is drawn for them. ``OpeningState.check`` rejects what the scenario cannot hold
(unknown names, a lane that does not exist, negative units, days before 0) with a
``StateError`` naming the item and the field.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

import numpy as np

from sim.scenario import OverseasWarehouse, Scenario


class StateError(ValueError):
    """An opening-state item the scenario cannot hold; ``field`` names the culprit."""

    def __init__(self, item: str, field: str, reason: str) -> None:
        self.item, self.field, self.reason = item, field, reason
        super().__init__(f"{item}: {reason}")


def _known(item: str, field: str, name: str, names: Container[str], what: str) -> None:
    if name not in names:
        raise StateError(item, field, f"unknown {what} '{name}'")


def _amount(item: str, value: float, field: str = "units") -> None:
    if not np.isfinite(value) or value < 0:
        raise StateError(item, field, f"{field} must be a non-negative number (got {value})")


def _day(item: str, field: str, day: int) -> None:
    if day < 0:
        raise StateError(item, field, f"{field} {day} is before the scenario's start (day 0)")


@dataclass(frozen=True)
class OnHand:
    warehouse: str
    sku: str
    units: int

    def __str__(self) -> str:
        return f"on_hand {self.warehouse} {self.sku}"

    def check(self, sc: Scenario) -> None:
        _known(str(self), "warehouse", self.warehouse, sc.warehouses, "warehouse")
        _known(str(self), "sku", self.sku, sc.skus, "SKU")
        _amount(str(self), self.units)


@dataclass(frozen=True)
class InTransit:
    origin: str
    warehouse: str
    mode: str
    sku: str
    units: int
    arrival_day: int

    def __str__(self) -> str:
        return f"in_transit {self.origin}->{self.warehouse} {self.mode} {self.sku}"

    def check(self, sc: Scenario) -> None:
        item = str(self)
        _known(item, "warehouse", self.warehouse, sc.warehouses, "warehouse")
        if not isinstance(sc.warehouses[self.warehouse], OverseasWarehouse):
            raise StateError(item, "warehouse", f"{self.warehouse} is an origin warehouse: "
                                                "bulk shipments go to overseas warehouses")
        _known(item, "origin", self.origin, sc.warehouses, "warehouse")
        _known(item, "mode", self.mode, sc.modes, "mode")
        _known(item, "sku", self.sku, sc.skus, "SKU")
        if not any(lane.origin == self.origin and lane.destination == self.warehouse
                   and self.mode in lane.modes for lane in sc.lanes.values()):
            raise StateError(item, "mode", f"no lane carries {self.mode} from {self.origin} "
                                           f"to {self.warehouse}")
        _amount(item, self.units)
        _day(item, "arrival_day", self.arrival_day)

    def lane(self, sc: Scenario) -> str:
        """The scenario's lane carrying it."""
        return next(name for name, lane in sc.lanes.items() if lane.origin == self.origin
                    and lane.destination == self.warehouse and self.mode in lane.modes)


@dataclass(frozen=True)
class OpenOrder:
    supplier: str
    sku: str
    units: int
    ready_day: int

    def __str__(self) -> str:
        return f"open_po {self.supplier} {self.sku}"

    def check(self, sc: Scenario) -> None:
        item = str(self)
        _known(item, "supplier", self.supplier, sc.suppliers, "supplier")
        _known(item, "sku", self.sku, sc.skus, "SKU")
        maker = sc.skus[self.sku].supplier
        if maker != self.supplier:
            raise StateError(item, "sku", f"{self.sku} is made by {maker}, not {self.supplier}")
        _amount(item, self.units)
        _day(item, "ready_day", self.ready_day)


@dataclass(frozen=True)
class Backorder:
    market: str
    sku: str
    units: int

    def __str__(self) -> str:
        return f"backlog {self.market} {self.sku}"

    def check(self, sc: Scenario) -> None:
        _known(str(self), "market", self.market, sc.markets, "market")
        _known(str(self), "sku", self.sku, sc.skus, "SKU")
        _amount(str(self), self.units)


@dataclass(frozen=True)
class Adstock:
    channel: str
    cny_per_day: float

    def __str__(self) -> str:
        return f"adstock {self.channel}"

    def check(self, sc: Scenario) -> None:
        _known(str(self), "channel", self.channel, sc.ad_channels, "ad channel")
        _amount(str(self), self.cny_per_day, "cny_per_day")


Item = OnHand | InTransit | OpenOrder | Backorder | Adstock


@dataclass(frozen=True)
class OpeningState:
    """The seller's position on day 0 (see the module docstring for what each part does)."""

    on_hand: tuple[OnHand, ...] = ()
    in_transit: tuple[InTransit, ...] = ()
    open_orders: tuple[OpenOrder, ...] = ()
    backlog: tuple[Backorder, ...] = ()
    adstock: tuple[Adstock, ...] = ()

    def items(self) -> tuple[Item, ...]:
        return (*self.on_hand, *self.in_transit, *self.open_orders, *self.backlog,
                *self.adstock)

    def check(self, scenario: Scenario) -> None:
        """``StateError`` for the first item the scenario cannot hold."""
        for item in self.items():
            item.check(scenario)
        channels = [a.channel for a in self.adstock]
        for channel in channels:
            if channels.count(channel) > 1:
                raise StateError(f"adstock {channel}", "channel", "given more than once")

    def shelves(self, scenario: Scenario) -> dict[str, np.ndarray]:
        """Units on hand [sku, in the scenario's order] of each warehouse the state names."""
        skus = list(scenario.skus)
        out: dict[str, np.ndarray] = {}
        for line in self.on_hand:
            units = out.setdefault(line.warehouse, np.zeros(len(skus), dtype=np.int64))
            units[skus.index(line.sku)] += line.units
        return out

    def carry_in(self, channels: list[str], day0_spend: np.ndarray,
                 cny_per_unit: np.ndarray) -> np.ndarray:
        """The adstock entering day 0 [channel] in each channel's currency: the state's
        figure where it names the channel, else day 0's own spend held."""
        level = day0_spend.astype(float)
        for line in self.adstock:
            c = channels.index(line.channel)
            level[c] = line.cny_per_day / cny_per_unit[c]
        return level
