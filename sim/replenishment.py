"""Replenishment: the reviews that buy from suppliers and move stock overseas.

On its review days a warehouse compares each SKU's inventory position (on hand + on its way
- backorders) with its rule (``sim.inventory.Policies``): an overseas warehouse pulls what
it needs from an origin by its rule's bulk mode, an origin buys from the SKU's supplier
(at least the supplier's MOQ). A plan's bulk shipments of the week leave on the week's
first day (or on the day a re-plan sets the week anew). Overseas reviews run before origin
reviews, so an origin reorders what its warehouses just took.

``Logistics`` starts the SimPy processes that carry the goods: a purchase order
(``sim.suppliers``) or a bulk shipment (``sim.shipping``), and takes over the goods an
opening state (``sim.state``) has on order or on their way on day 0.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.charges import charge_inbound_fee
from sim.execution import PlanBook
from sim.integrity import whole_units
from sim.inventory import NO_POLICY, Policies, Stock
from sim.ledger import Ledger
from sim.network import Network
from sim.pipeline import BulkShipment, Pipeline
from sim.records import Records
from sim.rng import Streams
from sim.scenario import BulkMode
from sim.shipping import bulk_shipment
from sim.suppliers import open_order, purchase_order


@dataclass
class Logistics:
    """Starts the processes that move goods, with the state they change."""

    env: simpy.Environment
    net: Network
    streams: Streams
    stock: Stock
    pipeline: Pipeline
    ledger: Ledger
    records: Records

    def buy(self, supplier: int, skus: np.ndarray, units: np.ndarray) -> None:
        self.env.process(purchase_order(self.env, self.net, self.streams.supply, supplier,
                                        skus, units, self.stock, self.pipeline, self.ledger,
                                        self.records))

    def take_over_order(self, supplier: int, skus: np.ndarray, units: np.ndarray,
                        ready_day: int) -> None:
        """A purchase order placed before day 0, received whole on ``ready_day``; recorded
        as placed its supplier's mean lead time earlier."""
        spec = self.net.scenario.suppliers[self.net.suppliers[supplier].name]
        placed = ready_day - float(spec.lead_time_days.mean())
        self.env.process(open_order(self.env, self.net, supplier, skus, units, ready_day,
                                    placed, self.stock, self.pipeline, self.ledger,
                                    self.records))

    def take_over_shipment(self, lane: str, origin: int, w: int, k: int, skus: np.ndarray,
                           units: np.ndarray, arrival_day: int) -> None:
        """A bulk shipment on its way on day 0, landing whole on ``arrival_day``, valued at
        product cost. It is recorded as having left the lane's mean journey before its
        arrival, so whoever reads the pipeline (a re-planner) expects it when it lands."""
        left = arrival_day - mean_journey_days(self.net, lane, k)
        value = np.zeros((len(skus), 3))
        value[:, 0] = self.net.catalog.unit_cost[skus] * units
        shipment = BulkShipment(self.pipeline.next_id(), origin, w, k, lane, skus, units,
                                value, created=left, departed=left)
        self.pipeline.open[shipment.id] = shipment
        self.stock.inbound[w, skus] += units
        self.stock.counts.opening_in_transit += int(units.sum())
        self.stock.counts.opening_value_cny += float(value.sum())
        self.env.process(landing(self.env, self.net, shipment, arrival_day, self.stock,
                                 self.pipeline, self.ledger, self.records))

    def send(self, origin: int, w: int, k: int, want: np.ndarray,
             planned: bool = False) -> None:
        """Ship ``want`` [sku] from origin to warehouse ``w`` by mode ``k`` as far as origin
        stock and the warehouse's space allow; ``planned``: a plan's shipment, on top of the
        rules."""
        stock = self.stock
        lane = self.net.warehouse.lane_of[(w, k)]
        take = fit_capacity(self.net, stock, w, np.minimum(want, stock.on_hand[origin]))
        skus = np.flatnonzero(take > 0)
        if not len(skus):
            return
        value = stock.issue(origin, skus, take[skus])
        stock.inbound[w, skus] += take[skus]
        if planned:
            self.pipeline.planned_inbound[w, skus] += take[skus]
        shipment = BulkShipment(self.pipeline.next_id(), origin, w, k, lane, skus,
                                take[skus], value, created=self.env.now, planned=planned)
        self.env.process(bulk_shipment(self.env, self.net, self.streams.bulk, shipment,
                                       stock, self.pipeline, self.ledger, self.records))


def landing(env: simpy.Environment, net: Network, shipment: BulkShipment, arrival_day: int,
            stock: Stock, pipeline: Pipeline, ledger: Ledger, records: Records
            ) -> Generator[simpy.Event, Any, None]:
    """A shipment already on its way on day 0 lands whole at the start of its arrival day."""
    yield env.timeout(arrival_day - env.now)
    w, skus, units = shipment.destination, shipment.skus, shipment.units
    stock.receive(w, skus, units, shipment.value)
    stock.inbound[w, skus] -= units
    charge_inbound_fee(net, ledger, w, int(units.sum()), arrival_day)
    del pipeline.open[shipment.id]
    none = np.zeros(len(skus), dtype=np.int64)
    records.shipment(shipment=shipment.id, kind="bulk", mode=shipment.mode,
                     origin=shipment.origin, destination=w, skus=skus, ordered=units,
                     delivered=units, created=shipment.created, departed=shipment.departed,
                     arrived=env.now, containers=0, freight_cny=shipment.value[:, 1],
                     duty_cny=shipment.value[:, 2], lost=none, damaged=none)


def mean_journey_days(net: Network, lane: str, k: int) -> float:
    """Mean days from an origin's door to the warehouse's shelf on a lane by bulk mode ``k``:
    first mile, the wait for a departure, the main leg, customs and final delivery."""
    sc = net.scenario
    spec, mode = sc.lanes[lane], sc.modes[net.modes[k]]
    assert isinstance(mode, BulkMode)  # lanes to warehouses carry bulk modes only
    warehouse_market = sc.warehouses[spec.destination].market
    assert warehouse_market is not None  # overseas warehouses sit in a market
    customs = sc.markets[warehouse_market].customs
    return float(spec.first_mile_days.mean() + 3.5 / mode.departures_per_week
                 + mode.transit_days.mean() + customs.clearance_days.mean()
                 + customs.inspection_probability * customs.inspection_delay_days.mean()
                 + spec.final_delivery_days.mean())


def fit_capacity(net: Network, stock: Stock, w: int, take: np.ndarray) -> np.ndarray:
    """Scale a transfer down so stock on hand plus inbound fits the warehouse's m3."""
    capacity = net.scenario.warehouses[net.warehouses[w]].capacity_m3
    if capacity is None:
        return take
    volume = net.catalog.volume
    committed = (stock.on_hand[w] + stock.inbound[w]) @ volume
    wanted = take @ volume
    free = max(capacity - committed, 0.0)
    if wanted <= free:
        return take
    return np.floor(take * free / wanted).astype(np.int64)


def send_planned(t: int, net: Network, book: PlanBook, logistics: Logistics) -> None:
    """The plan's bulk shipments of day ``t``'s week, by lane."""
    by_lane: dict[tuple[int, int, int], np.ndarray] = {}
    for origin, destination, mode, sku, units in book.shipments.get(t // 7 + 1, []):
        qty = by_lane.setdefault((origin, destination, mode),
                                 np.zeros(net.n_skus, dtype=np.int64))
        qty[sku] += units
    for (origin, destination, mode), qty in by_lane.items():
        logistics.send(origin, destination, mode, qty, planned=True)


def review_stock(t: int, net: Network, policies: Policies, backlog: np.ndarray,
                 logistics: Logistics) -> None:
    """Day ``t``'s reviews; ``backlog`` is the backordered units [warehouse, sku]."""
    stock = logistics.stock
    due = (t % policies.review_days == 0) & (policies.kind != NO_POLICY)
    order = sorted(range(len(net.warehouses)), key=net.is_origin)
    for w in order:
        if not due[w].any():
            continue
        position = (stock.on_hand[w] + stock.inbound[w] - logistics.pipeline.planned_inbound[w]
                    - backlog[w])
        qty = policies.order_quantity(w, position, due[w], t)
        if net.is_origin(w):
            _buy(net, w, qty, logistics)
        else:
            _transfer(net, policies, w, qty, logistics)


def _buy(net: Network, w: int, qty: np.ndarray, logistics: Logistics) -> None:
    qty = whole_units(np.where(qty > 0, np.maximum(qty, net.catalog.moq), 0),
                      f"a purchase order of {net.warehouses[w]} (MOQ included)")
    for i, supplier in enumerate(net.suppliers):
        skus = np.flatnonzero((qty > 0) & (net.catalog.supplier == i))
        if len(skus) and supplier.warehouse == w:
            logistics.buy(i, skus, qty[skus])


def _transfer(net: Network, policies: Policies, w: int, qty: np.ndarray,
              logistics: Logistics) -> None:
    modes = policies.mode[w]
    for k in np.unique(modes[qty > 0]):
        lane = net.warehouse.lane_of[(w, int(k))]
        origin = net.warehouses.index(net.scenario.lanes[lane].origin)
        logistics.send(origin, w, int(k), np.where(modes == k, qty, 0))
