"""Goods on their way: bulk shipments at sea or in the air, departures already booked,
parcels queued at their carriers, returns travelling back to a shelf, and each supplier's
production line.

The pipeline is the part of a run's state that the future is already committed to; stock
on hand is ``sim.inventory.Stock``. Both together conserve units: what left a shelf is in
the pipeline or delivered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.inventory import VALUE_PARTS, Stock
from sim.network import Network
from sim.scenario import BulkMode


@dataclass
class BulkShipment:
    id: int
    origin: int
    destination: int
    mode: int
    lane: str
    skus: np.ndarray
    units: np.ndarray
    value: np.ndarray  # [sku, part] CNY: product at dispatch plus freight and duty booked
    created: float
    departed: float = math.nan
    containers: int = 0
    planned: bool = False
    """Sent by a plan on top of the rules (see ``Pipeline.planned_inbound``)."""


def _first_departure(day: int, period: float) -> int:
    """The index of the first departure on or after ``day`` (whole days as the search
    counts them: the departure's time rounded down)."""
    index = int(np.ceil(day / period))
    while index > 0 and math.floor((index - 1) * period) >= day:
        index -= 1
    while math.floor(index * period) < day:
        index += 1
    return index


class Pipeline:
    """Bulk shipments on their way, departures' loads, carrier queues and restocks due."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.open: dict[int, BulkShipment] = {}
        self.departure_load: dict[tuple[int, int], float] = {}
        """m3 booked on departure ``index`` of a mode, (mode, index) -> m3."""
        self.carrier_queue = np.zeros(len(network.modes))
        """Parcel units waiting for each mode's carrier at the end of the day."""
        self.pick_queue = np.zeros(len(network.warehouses))
        """Units waiting to be picked and packed at each warehouse at the end of the day."""
        self._restocks: dict[int, list[tuple[np.ndarray, ...]]] = {}
        """Returned units due back on a shelf, by day: (warehouse, sku, units, value) as
        scheduled (sparse: a dense day x warehouse x SKU schedule of 10,000 SKUs is 0.7 GB)."""
        self.planned_inbound = np.zeros((len(network.warehouses), network.n_skus),
                                        dtype=np.int64)
        """Units a plan sent on top of the rules, on their way [warehouse, sku]: the rules'
        inventory position leaves them out, so a pre-build for a peak adds to what the rules
        order instead of replacing it; on the shelf they are stock like any other."""
        self.busy_until = [0.0] * len(network.suppliers)
        """When each supplier's line finishes the orders it already has (days)."""
        self._ids = 0
        self._changes: dict[int, np.ndarray] = {}

    def next_id(self) -> int:
        """A new shipment (or purchase order) number."""
        self._ids += 1
        return self._ids

    def next_departure(self, mode: int, now: float, volume_m3: float) -> float:
        """The first departure at or after ``now`` with room for ``volume_m3``.

        ``capacity_per_departure_m3`` is the seller's allocation on a sailing or flight, cut
        by congestion and capacity crunches, so a shipment waits for a departure whose
        (cut) allocation it fits. A shipment larger than a whole uncut allocation takes the
        first empty departure that is not cut, so it is not stranded.

        Departures are visited one by one only where some are booked; a stretch of days
        whose capacity the shipment cannot fit even on an empty departure is skipped whole,
        so the search costs the bookings and capacity changes it passes, not the departures.
        """
        spec = self.network.scenario.modes[self.network.modes[mode]]
        timeline = self.network.timeline
        assert isinstance(spec, BulkMode)  # only bulk loads wait for departures
        period = 7.0 / spec.departures_per_week
        full = spec.capacity_per_departure_m3 or np.inf
        changes = self._capacity_changes(mode)
        index = int(np.ceil(now / period - 1e-9))
        while True:
            day = int(timeline.day(index * period))
            limit = full * timeline.capacity[mode, day]
            load = self.departure_load.get((mode, index), 0.0)
            beyond_calendar = index * period >= timeline.n_days
            oversize = volume_m3 > full and load == 0.0 and limit >= full
            if load + volume_m3 <= limit or oversize or beyond_calendar:
                self.departure_load[(mode, index)] = load + volume_m3
                return index * period
            fits_empty = volume_m3 <= limit or (volume_m3 > full and limit >= full)
            if fits_empty:
                index += 1
                continue
            # Nothing in this stretch of equal capacity takes the load: jump to the first
            # departure of the next stretch (or past the calendar).
            after = changes[np.searchsorted(changes, day, side="right")]
            index = max(index + 1, _first_departure(int(after), period))

    def _capacity_changes(self, mode: int) -> np.ndarray:
        """Days on which the mode's capacity differs from the day before, then the
        calendar's end: the stretches a departure search can skip whole."""
        if mode not in self._changes:
            capacity = self.network.timeline.capacity[mode]
            self._changes[mode] = np.append(np.flatnonzero(np.diff(capacity)) + 1,
                                            len(capacity))
        return self._changes[mode]

    def in_transit(self) -> tuple[int, float]:
        """Units and value (CNY) of the bulk shipments on their way."""
        units = sum(int(s.units.sum()) for s in self.open.values())
        value = sum(float(s.value.sum()) for s in self.open.values())
        return units, value

    def schedule_restock(self, day: np.ndarray, warehouse: np.ndarray, sku: np.ndarray,
                         units: np.ndarray, value: np.ndarray) -> None:
        """Returned units (with their value [n, part]) go back on a shelf on ``day``."""
        day, warehouse, sku = (np.asarray(a, dtype=np.int64) for a in (day, warehouse, sku))
        units, value = np.asarray(units), np.asarray(value)
        for d in np.unique(day):
            on = day == d
            self._restocks.setdefault(int(d), []).append(
                (warehouse[on], sku[on], units[on], value[on]))

    def restock(self, t: int, stock: Stock) -> None:
        """Put the returns due on day ``t`` back on their shelves."""
        due = self._restocks.pop(t, [])
        if not due:
            return
        warehouse, sku, count, worth = (np.concatenate(column) for column in zip(*due,
                                                                                 strict=True))
        units = np.zeros(stock.on_hand.shape, dtype=np.int64)
        value = np.zeros((*stock.on_hand.shape, len(VALUE_PARTS)))
        np.add.at(units, (warehouse, sku), count)
        np.add.at(value, (warehouse, sku), worth)
        if units.any():
            for w in range(stock.on_hand.shape[0]):
                back = np.flatnonzero(units[w])
                stock.receive(w, back, units[w, back], value[w, back])
            stock.counts.cogs_cny -= float(value.sum())
            stock.counts.restocked += int(units.sum())
