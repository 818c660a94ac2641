"""Warehouse work: how many units a warehouse can pick and pack a day, and the line of
orders waiting for it.

A warehouse picks and packs ``units_per_day`` on a normal day, more on sales-event days when
it staffs up (``peak_flex``). Orders reach the packing line in the order they were filled,
behind what is still waiting from earlier days, and each leaves on the first day whose
cumulative capacity covers its place in the line: ``sim.fulfilment.dispatch`` runs the
carriers' day-capacity queue (``sim.shipping.carrier_queue_wait``) with warehouses in the
place of modes. With capacity C
a day and a burst of N units on top of the line, the backlog after d days is max(0, N - C d)
and clears after N / C days.

The order then takes its ``order_processing_days`` (the market's handling, from the moment
its turn comes) and the carrier's queue, so at a peak the two waits add up: the carrier's
queue is still counted from the day the order was filled, an approximation on the side of
caution.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import Timeline
from sim.scenario import Scenario


def daily_capacity(sc: Scenario, warehouses: list[str], markets: list[str],
                   timeline: Timeline) -> np.ndarray:
    """Units each warehouse can pick and pack a day [warehouse, day]; inf without a limit."""
    capacity = np.full((len(warehouses), timeline.n_days), np.inf)
    for w, name in enumerate(warehouses):
        spec = sc.warehouses[name]
        if spec.picking is None:
            continue
        served = [markets.index(spec.market)] if spec.market is not None else slice(None)
        peak = timeline.peak[served].max(axis=0)
        capacity[w] = spec.picking.units_per_day * (1.0 + spec.picking.peak_flex * (peak - 1.0))
    return capacity


def labour_per_unit(sc: Scenario, warehouses: list[str]) -> np.ndarray:
    """Handling labour per unit picked [warehouse], in the warehouse's currency."""
    specs = [sc.warehouses[w].picking for w in warehouses]
    return np.array([0.0 if p is None else p.labour_cost_per_unit for p in specs])

