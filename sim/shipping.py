"""Multimodal shipping: bulk journeys to overseas warehouses and parcels to consumers.

A bulk shipment is a SimPy process travelling legs: first mile to the port, a wait for the
mode's next departure with room on it (departures per week, volume per departure, cut by
capacity crunches and congestion), the main leg (sea FCL in whole containers, sea LCL per m3,
rail, air by chargeable weight, plus peak surcharges and disruption delays), customs
clearance with random inspection, import duty and import VAT (at the rates in force on the
clearance day, ``sim.taxes``), and final delivery to the warehouse, where lost and damaged
units are written off. The load's export earns China's VAT rebate when its main leg departs.

Parcels (direct from origin, or last mile from an overseas warehouse) are the many: they are
dispatched as one daily numpy cohort per day with the carrier's daily capacity as a queue.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim import economics
from sim.charges import charge_inbound_fee
from sim.distributions import Distribution
from sim.inventory import Stock
from sim.ledger import Ledger
from sim.network import Network
from sim.pipeline import BulkShipment, Pipeline
from sim.records import Records
from sim.scenario import BulkMode
from sim.taxes import pay_import_vat, rebate_exports


def _allocate(shipment: BulkShipment, volume_per_unit: np.ndarray, part: int,
              cny: float) -> None:
    """Capitalise a shipment-level cost onto its SKUs by volume."""
    volume = volume_per_unit[shipment.skus] * shipment.units
    shipment.value[:, part] += cny * volume / volume.sum()


def extra_transit(rng: np.random.Generator, disruptions: list[tuple[int, np.ndarray,
                  Distribution]], mode: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Extra days from disruptions active on the day each journey starts its main leg."""
    extra = np.zeros(len(mode))
    for k, mask, dist in disruptions:
        hit = (mode == k) & mask[day]
        if hit.any():
            extra[hit] += dist.sample(rng, int(hit.sum()))
    return extra


def bulk_shipment(env: simpy.Environment, net: Network, rng: np.random.Generator,
                  shipment: BulkShipment, stock: Stock, pipeline: Pipeline, ledger: Ledger,
                  records: Records) -> Generator[simpy.Event, Any, None]:
    """One shipment's journey, from the origin's door to the overseas warehouse's shelf."""
    sc = net.scenario
    lane = sc.lanes[shipment.lane]
    mode = sc.modes[net.modes[shipment.mode]]
    assert isinstance(mode, BulkMode)  # lanes to warehouses carry bulk modes only
    warehouse = sc.warehouses[net.warehouses[shipment.destination]]
    assert warehouse.market is not None  # overseas warehouses sit in a market
    market = sc.markets[warehouse.market]
    volume_per_unit = net.catalog.volume
    k = shipment.mode
    volume = float(volume_per_unit[shipment.skus] @ shipment.units)
    weight = float(net.catalog.weight[shipment.skus] @ shipment.units)
    pipeline.open[shipment.id] = shipment
    day = int(env.now)

    cny = ledger.book("inbound_freight", 0, -lane.first_mile_cost_per_m3_cny * volume,
                      day, day)
    _allocate(shipment, volume_per_unit, 1, -float(cny))
    yield env.timeout(float(lane.first_mile_days.sample(rng, 1)[0]))

    departure = pipeline.next_departure(k, env.now, volume)
    yield env.timeout(departure - env.now)
    day = int(env.now)
    shipment.departed = env.now
    shipment.containers = (math.ceil(volume / mode.container_volume_m3 - 1e-9)
                           if mode.container_volume_m3 else 0)
    main_leg = economics.load_freight(
        shipment.containers, mode.cost_per_container, mode.cost_per_kg,
        float(economics.chargeable_kg(weight, volume, mode.chargeable_kg_per_m3)),
        mode.cost_per_m3, volume, int(shipment.units.sum()), mode.cost_per_unit)
    main_leg *= 1.0 + net.timeline.surcharge[k, day]
    cny = ledger.book("inbound_freight", net.mode.currency[k], -main_leg, day, day)
    _allocate(shipment, volume_per_unit, 1, -float(cny))
    rebate_exports(net.taxes, ledger, "bulk", shipment.skus, shipment.units, day,
                   net.markets.index(warehouse.market))
    transit = float(mode.transit_days.sample(rng, 1)[0])
    transit += float(extra_transit(rng, net.timeline.disruption, np.array([k]),
                                   np.array([day]))[0])
    yield env.timeout(transit)

    customs = float(market.customs.clearance_days.sample(rng, 1)[0])
    if rng.random() < market.customs.inspection_probability:
        customs += float(market.customs.inspection_delay_days.sample(rng, 1)[0])
    day = int(env.now)
    m = net.markets.index(warehouse.market)
    currency = net.market.currency[m]
    customs_value = shipment.value[:, 0] / ledger.fx[currency, day]
    duty = economics.import_duty(customs_value, net.taxes.duty_rate[m, day])
    cny = ledger.book("import_duty", currency, -duty, day, day, m)
    shipment.value[:, 2] -= cny
    pay_import_vat(net.taxes, ledger, m, currency, customs_value, duty, day)
    yield env.timeout(customs)

    day = int(env.now)
    cny = ledger.book("inbound_freight", 0, -lane.final_delivery_cost_per_m3_cny * volume,
                      day, day)
    _allocate(shipment, volume_per_unit, 1, -float(cny))
    yield env.timeout(float(lane.final_delivery_days.sample(rng, 1)[0]))

    lost = rng.binomial(shipment.units, mode.loss_probability)
    damaged = rng.binomial(shipment.units - lost, mode.damage_probability)
    good = shipment.units - lost - damaged
    share = good / shipment.units
    w = shipment.destination
    stock.receive(w, shipment.skus, good, shipment.value * share[:, None])
    stock.inbound[w, shipment.skus] -= shipment.units
    if shipment.planned:
        pipeline.planned_inbound[w, shipment.skus] -= shipment.units
    stock.counts.write_off_cny += float((shipment.value * (1.0 - share)[:, None]).sum())
    stock.counts.bulk_lost += int(lost.sum())
    stock.counts.bulk_damaged += int(damaged.sum())
    charge_inbound_fee(net, ledger, w, int(good.sum()), int(env.now))
    del pipeline.open[shipment.id]
    records.shipment(shipment=shipment.id, kind="bulk", mode=k, origin=shipment.origin,
                     destination=w, skus=shipment.skus, ordered=shipment.units,
                     delivered=shipment.units, created=shipment.created,
                     departed=shipment.departed, arrived=env.now,
                     containers=shipment.containers, freight_cny=shipment.value[:, 1],
                     duty_cny=shipment.value[:, 2], lost=lost, damaged=damaged)


def carrier_queue_wait(units: np.ndarray, mode: np.ndarray, queued: np.ndarray,
                       capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole days each parcel waits for carrier capacity, and the queue left for tomorrow.

    ``capacity`` is units per day [mode, day] from today on (capacity crunches included).
    Parcels, in their given order and behind the units already queued, take the earliest
    day whose cumulative capacity covers their place in the line.
    """
    wait = np.zeros(len(units))
    left = np.maximum(queued - capacity[:, 0], 0.0)
    for k in np.unique(mode):
        if np.isinf(capacity[k, 0]):
            continue
        pick = mode == k
        ahead = queued[k] + np.cumsum(units[pick]) - units[pick]
        cumulative = np.cumsum(capacity[k])
        wait[pick] = np.searchsorted(cumulative, ahead, side="right")
        left[k] = max(0.0, queued[k] + units[pick].sum() - capacity[k, 0])
    return wait, left
