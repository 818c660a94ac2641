"""Suppliers: purchase orders, production, shutdowns, late and partial deliveries.

A purchase order is a SimPy process. Its goods are ready after the supplier's stochastic
lead time, or later when the production line is still busy with earlier orders
(``capacity_units_per_day``); shutdown windows (Chinese New Year, holidays) do not count as
production days, so lead times stretch across them. An order is late with probability
1 - ``on_time_probability``; a partial delivery ships a fraction and cancels the rest;
defective units are found at the origin warehouse and disposed of. The invoice is paid
``payment_terms_days`` after delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.calendar import push_past_shutdowns

if TYPE_CHECKING:
    import simpy

    from sim.operation import Operation


@dataclass
class SupplierLine:
    """The state of one supplier's production line between purchase orders."""

    name: str
    warehouse: int
    shutdowns: list[tuple[float, float]]
    busy_until: float = 0.0


def purchase_order(env: simpy.Environment, op: Operation, line: SupplierLine,
                   skus: np.ndarray, ordered: np.ndarray):
    spec = op.scenario.suppliers[line.name]
    rng = op.streams.supply
    placed = env.now
    shipment = op.next_shipment_id()
    w = line.warehouse
    op.stock.inbound[w, skus] += ordered
    start = max(placed, line.busy_until)
    line.busy_until = push_past_shutdowns(start, ordered.sum() / spec.capacity_units_per_day,
                                          line.shutdowns)
    lead_time = float(spec.lead_time_days.sample(rng, 1)[0])
    ready = max(push_past_shutdowns(placed, lead_time, line.shutdowns), line.busy_until)
    if rng.random() >= spec.on_time_probability:
        ready += float(spec.late_delay_days.sample(rng, 1)[0])
    yield env.timeout(ready - placed)

    delivered = ordered.copy()
    if rng.random() < spec.partial_delivery_probability:
        fraction = rng.uniform(spec.partial_fill_min, 1.0)
        delivered = np.floor(ordered * fraction).astype(np.int64)
    defects = rng.binomial(delivered, spec.defect_rate)
    good = delivered - defects
    day = int(env.now)
    cost = op.unit_cost[skus] * delivered
    op.ledger.book("purchase", 0, -cost, day, day + spec.payment_terms_days)
    value = np.zeros((len(skus), 3))
    value[:, 0] = op.unit_cost[skus] * good
    op.stock.receive(w, skus, good, value)
    op.stock.inbound[w, skus] -= ordered
    op.charge_inbound_fee(w, int(good.sum()), day)
    op.money.write_off_cny += float((op.unit_cost[skus] * defects).sum())
    op.units.purchased += int(delivered.sum())
    op.units.defective += int(defects.sum())
    op.record_shipment(shipment=shipment, kind="purchase_order", mode=-1, origin=-1,
                       destination=w, skus=skus, ordered=ordered, delivered=delivered,
                       created=placed, departed=placed, arrived=env.now, containers=0,
                       freight_cny=np.zeros(len(skus)), duty_cny=np.zeros(len(skus)),
                       lost=np.zeros(len(skus), dtype=np.int64), damaged=defects)
