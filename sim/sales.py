"""Orders and customers: the backlog of orders waiting for stock, the demand seen so far,
and each market's rating, which moves with the delivery experience customers report.

A rating is a rolling score: each day it moves toward that day's experience (5 stars
less the penalties of late, lost and returned deliveries, and of disputes, per delivery)
with time constant ``rating_memory_days``; conversion follows it (``sim.demand``).
"""

from __future__ import annotations

import numpy as np

from sim.scenario import Conversion

DELIVERED, LATE, LOST, RETURNED = range(4)
"""Rows of ``Sales.events``."""
BACKLOG_FIELDS = ("order_day", "market", "sku", "units", "sequence", "route")


class Sales:
    """Backordered orders, units demanded [market, sku, day], ratings [market] and the
    delivery events [event, market, day] that move them."""

    def __init__(self, n_markets: int, n_skus: int, n_days: int, initial_rating: float) -> None:
        self.backlog = {name: np.zeros(0, dtype=np.int64) for name in BACKLOG_FIELDS}
        """Orders waiting for stock, in line: one element per order and field."""
        self.demand_units = np.zeros((n_markets, n_skus, n_days), dtype=np.int64)
        self.lost_today = np.zeros((n_markets, n_skus), dtype=np.int64)
        """Units of today's orders lost for want of stock [market, sku]."""
        self.potential_today = np.zeros((n_markets, n_skus))
        """Units the listings would have been asked for today at neutral rank."""
        self.unfilled_today = np.zeros((n_markets, n_skus), dtype=bool)
        """Listings with an order today that nothing could fill."""
        self.rating = np.full(n_markets, initial_rating)
        self.events = np.zeros((4, n_markets, n_days))
        self.penalty_stars = np.zeros((n_markets, n_days))
        """Stars lost to other events [market, day]: disputes (``sim.disputes``)."""

    def carry_backlog(self, market: np.ndarray, sku: np.ndarray, route: np.ndarray) -> None:
        """Orders taken before day 0 (an opening state's backlog), one unit each: placed
        on day 0 and first in line, in the given order."""
        n = len(market)
        self.backlog = {"order_day": np.zeros(n, dtype=np.int64),
                        "market": np.asarray(market, dtype=np.int64),
                        "sku": np.asarray(sku, dtype=np.int64),
                        "units": np.ones(n, dtype=np.int64),
                        "sequence": np.arange(n, dtype=np.int64),
                        "route": np.asarray(route, dtype=np.int64)}

    def backlog_by(self, route_warehouse: np.ndarray, n_warehouses: int) -> np.ndarray:
        """Backordered units [warehouse, sku], by the warehouse each order's route uses."""
        b = self.backlog
        out = np.zeros((n_warehouses, self.demand_units.shape[1]), dtype=np.int64)
        np.add.at(out, (route_warehouse[b["route"]], b["sku"]), b["units"])
        return out

    def backlog_by_market(self) -> np.ndarray:
        """Backordered units [market, sku]."""
        b = self.backlog
        out = np.zeros(self.demand_units.shape[:2], dtype=np.int64)
        np.add.at(out, (b["market"], b["sku"]), b["units"])
        return out

    def count(self, event: int, market: np.ndarray, day: np.ndarray,
              selected: np.ndarray) -> None:
        """One more ``event`` in (market, day) for each selected order."""
        table = self.events[event]
        flat = market[selected].astype(np.int64) * table.shape[1] + day[selected]
        table += np.bincount(flat, minlength=table.size).reshape(table.shape)

    def update_rating(self, t: int, spec: Conversion) -> None:
        """Move each market's rating toward today's delivery experience score."""
        delivered, late, lost, returned = self.events[:, :, t]
        experienced = delivered + lost
        penalty = (late * spec.late_rating_penalty + lost * spec.lost_rating_penalty
                   + returned * spec.return_rating_penalty + self.penalty_stars[:, t])
        score = np.clip(5.0 - penalty / np.maximum(experienced, 1), 1.0, 5.0)
        weight = 1.0 - np.exp(-1.0 / spec.rating_memory_days)
        self.rating = np.where(experienced > 0, self.rating + weight * (score - self.rating),
                               self.rating)
