"""The peak model (``optimize.peak``) built from numpy arrays and handed to HiGHS at once.

Column for column, row for row and coefficient for coefficient the Pyomo reference
``optimize.peak.build_peak_model`` (the tests read the LP back from APPSI and compare), but
each family of columns is one block numbered by a numpy array shaped like its index
(``commit[s, c, j]``, ``inv[s, h, t, k]``), and each family of terms one call that
broadcasts row ids against column ids: no Python loop over SKUs, weeks or scenarios, only
over the few routes. At 200 SKUs and 10 scenarios Pyomo spends two orders of magnitude
longer building and handing over the same matrix (``experiments/bench/scale_peak.py``).

Index positions here are positions in the data's lists (``c`` in ``data.commit``, ``b`` in
``data.boxes``, ``m`` in ``data.markets``); the Pyomo model indexes routes and markets by
their numbers in ``data.base``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimize.matrix import ArrayModel
from optimize.peak_data import PeakData


@dataclass
class PeakArrays:
    """A built array model and the ids of the columns and rows its readers need."""

    matrix: ArrayModel
    data: PeakData
    anticipative: bool
    commit: np.ndarray       # columns [sku, commit route, stage-one copy]
    containers: np.ndarray   # columns [box route, stage-one copy]
    lost: np.ndarray         # columns [sku, served market, week, scenario]
    demand_met: np.ndarray   # rows [sku, served market, week, scenario]
    balance: np.ndarray      # rows [sku, warehouse, week, scenario]


def build_peak_arrays(data: PeakData, anticipative: bool = False,
                      relaxed: bool = False) -> PeakArrays:
    """The two-stage SAA model of ``optimize.peak`` as arrays; ``anticipative`` lets each
    scenario choose its own stage one (the wait-and-see bound); ``relaxed`` counts
    containers in fractions, an LP that HiGHS re-solves from its last basis (the same
    model once stage one is fixed by bounds at whole containers)."""
    base, routes = data.base, data.base.routes
    K, S, T = data.demand.shape[0], len(base.skus), data.weeks
    H, M, J = len(base.warehouses), len(data.markets), data.demand.shape[0] if anticipative else 1
    boxes = data.boxes
    weight = 1.0 / K
    first_factor = weight if anticipative else 1.0
    served = {market: i for i, market in enumerate(data.markets)}

    def markets_of(route_list: list[int]) -> np.ndarray:
        return np.array([served[base.markets.index(routes[r].destination)]
                         for r in route_list], dtype=np.int64)

    def warehouses_of(route_list: list[int], end: str) -> np.ndarray:
        return np.array([base.warehouses.index(getattr(routes[r], end)) for r in route_list],
                        dtype=np.int64)

    mm = ArrayModel("peak")
    commit_cost = data.costs(data.commit, np.array([data.depart]))[:, :, 0]
    commit = mm.add_columns("commit", (S, len(data.commit), J),
                            cost=first_factor * commit_cost[:, :, None])
    box_week = max(data.first_week + data.depart - 2, 0)
    box_cost = np.array([routes[r].container_costs()[box_week] for r in boxes])
    containers = mm.add_columns("containers", (len(boxes), J),
                                cost=first_factor * box_cost.reshape(-1, 1),
                                integer=not relaxed)
    expedite = mm.add_columns("expedite", (S, len(data.expedite), T, K),
                              cost=weight * data.costs(data.expedite)[..., None])
    express = mm.add_columns("express", (S, len(data.express), T, K),
                             cost=weight * data.costs(data.express)[..., None])
    deliver = mm.add_columns("deliver", (S, len(data.deliver), T, K),
                             cost=weight * data.costs(data.deliver)[..., None])
    leftover = 1.0 + (np.arange(1, T + 1) == T) * data.leftover_weeks
    inv = mm.add_columns("inv", (S, H, T, K),
                         cost=weight * (base.holding[:, :, None] * leftover)[..., None])
    lost = mm.add_columns("lost", (S, M, T, K),
                          cost=weight * base.lost_penalty[:, data.markets][:, :, None, None])

    demand = data.demand_rows()
    demand_met = mm.add_rows("demand_met", (S, M, T, K), lower=demand, upper=demand)
    mm.add_terms(demand_met[:, markets_of(data.deliver)], deliver)
    mm.add_terms(demand_met[:, markets_of(data.express)], express)
    mm.add_terms(demand_met, lost)

    inflow = data.inflow_rows()
    balance = mm.add_rows("balance", (S, H, T, K), lower=inflow, upper=inflow)
    mm.add_terms(balance, inv)
    mm.add_terms(balance[:, :, 1:], inv[:, :, :-1], -1.0)
    for e, h in enumerate(warehouses_of(data.expedite, "destination")):
        lead = routes[data.expedite[e]].lead_weeks
        mm.add_terms(balance[:, h, lead:], expedite[:, e, :max(T - lead, 0)], -1.0)
    for c, h in enumerate(warehouses_of(data.commit, "destination")):
        mm.add_terms(balance[:, h, 0], commit[:, c], -1.0)  # [s, k] against [s, j]
    mm.add_terms(balance[:, warehouses_of(data.deliver, "origin")], deliver)

    fill = mm.add_rows("container_fill", (len(boxes), J), upper=0.0)
    for b, r in enumerate(boxes):
        mm.add_terms(fill[b], commit[:, data.commit.index(r)], base.volume[:, None])
        mm.add_terms(fill[b], containers[b], -float(routes[r].container_m3 or 0.0))

    modes = sorted({routes[r].mode for r in data.express} & set(data.parcel_capacity))
    if modes:
        cap = np.array([data.parcel_capacity[mode] for mode in modes], dtype=float)
        parcel = mm.add_rows("parcel_capacity", (len(modes), T, K), upper=cap[:, :, None])
        for x, r in enumerate(data.express):
            if routes[r].mode in modes:
                mm.add_terms(parcel[modes.index(routes[r].mode)], express[:, x])
    return PeakArrays(mm, data, anticipative, commit, containers, lost, demand_met, balance)
