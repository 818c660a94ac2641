"""Suppliers: purchase orders, production, shutdowns, late and partial deliveries.

A purchase order is a SimPy process. Its goods are ready after the supplier's stochastic
lead time, or later when the production line is still busy with earlier orders
(``capacity_units_per_day``); shutdown windows (Chinese New Year, holidays) do not count as
production days, so lead times stretch across them. An order is late with probability
1 - ``on_time_probability``; a partial delivery ships a fraction and cancels the rest;
defective units are found at the origin warehouse and disposed of. The invoice is paid
``payment_terms_days`` after delivery. Orders placed before day 0 (an opening state's)
arrive as the state says (``open_order``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.calendar import push_past_shutdowns
from sim.charges import charge_inbound_fee
from sim.inventory import Stock
from sim.ledger import Ledger
from sim.network import Network
from sim.pipeline import Pipeline
from sim.records import Records


def purchase_order(env: simpy.Environment, net: Network, rng: np.random.Generator,
                   supplier: int, skus: np.ndarray, ordered: np.ndarray, stock: Stock,
                   pipeline: Pipeline, ledger: Ledger, records: Records
                   ) -> Generator[simpy.Event, Any, None]:
    """One purchase order from placement to the goods on the origin's shelves."""
    line = net.suppliers[supplier]
    spec = net.scenario.suppliers[line.name]
    placed = env.now
    shipment = pipeline.next_id()
    w = line.warehouse
    stock.inbound[w, skus] += ordered
    start = max(placed, pipeline.busy_until[supplier])
    pipeline.busy_until[supplier] = push_past_shutdowns(
        start, ordered.sum() / spec.capacity_units_per_day, line.shutdowns)
    lead_time = float(spec.lead_time_days.sample(rng, 1)[0])
    ready = max(push_past_shutdowns(placed, lead_time, line.shutdowns),
                pipeline.busy_until[supplier])
    if rng.random() >= spec.on_time_probability:
        ready += float(spec.late_delay_days.sample(rng, 1)[0])
    yield env.timeout(ready - placed)

    delivered = ordered.copy()
    if rng.random() < spec.partial_delivery_probability:
        fraction = rng.uniform(spec.partial_fill_min, 1.0)
        delivered = np.floor(ordered * fraction).astype(np.int64)
    defects = rng.binomial(delivered, spec.defect_rate)
    receive_order(env.now, net, supplier, shipment, placed, skus, ordered, delivered, defects,
                  stock, ledger, records)


def open_order(env: simpy.Environment, net: Network, supplier: int, skus: np.ndarray,
               ordered: np.ndarray, ready_day: int, placed: float, stock: Stock,
               pipeline: Pipeline, ledger: Ledger, records: Records
               ) -> Generator[simpy.Event, Any, None]:
    """A purchase order placed before day 0 (an opening state's): the line is busy with it
    until its ready day, when it is received whole. ``placed`` is the day recorded for it."""
    shipment = pipeline.next_id()
    stock.inbound[net.suppliers[supplier].warehouse, skus] += ordered
    pipeline.busy_until[supplier] = max(pipeline.busy_until[supplier], float(ready_day))
    yield env.timeout(ready_day - env.now)
    receive_order(env.now, net, supplier, shipment, placed, skus, ordered, ordered,
                  np.zeros(len(skus), dtype=np.int64), stock, ledger, records)


def receive_order(now: float, net: Network, supplier: int, shipment: int, placed: float,
                  skus: np.ndarray, ordered: np.ndarray, delivered: np.ndarray,
                  defects: np.ndarray, stock: Stock, ledger: Ledger, records: Records) -> None:
    """Goods in at the origin: the invoice (paid on the supplier's terms), the good units on
    the shelves at product cost, the defective ones written off, the receiving fee."""
    line = net.suppliers[supplier]
    spec = net.scenario.suppliers[line.name]
    w = line.warehouse
    good = delivered - defects
    day = int(now)
    unit_cost = net.catalog.unit_cost[skus]
    cost = unit_cost * delivered
    ledger.book("purchase", 0, -cost, day, day + spec.payment_terms_days)
    value = np.zeros((len(skus), 3))
    value[:, 0] = unit_cost * good
    stock.receive(w, skus, good, value)
    stock.inbound[w, skus] -= ordered
    charge_inbound_fee(net, ledger, w, int(good.sum()), day)
    stock.counts.write_off_cny += float((unit_cost * defects).sum())
    stock.counts.purchased += int(delivered.sum())
    stock.counts.defective += int(defects.sum())
    records.shipment(shipment=shipment, kind="purchase_order", mode=-1, origin=-1,
                     destination=w, skus=skus, ordered=ordered, delivered=delivered,
                     created=placed, departed=placed, arrived=now, containers=0,
                     freight_cny=np.zeros(len(skus)), duty_cny=np.zeros(len(skus)),
                     lost=np.zeros(len(skus), dtype=np.int64), damaged=defects)
