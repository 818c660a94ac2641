"""Marketplace ranking: how much organic traffic each listing gets, given its history.

Marketplaces rank a listing on its recent sales, whether it can be bought, its rating and
its reviews; the rank factor (``sim.scenario.Ranking``) multiplies the organic sessions a
listing would get at neutral rank. A stock-out therefore costs twice: the lost sales today,
and the sessions it does not get until its stock-out memory h has decayed,

    h(t+1) = 1 - (1 - h(t)) exp(-1 / onset)    on a day the listing could not sell,
    h(t+1) = h(t) exp(-1 / recovery)           on a day it could,

so the sessions a stock-out took come back as exp(-days / recovery) once stock is back.
Sales velocity is the listing's units sold over the units it would have sold at neutral
rank, both smoothed with the same time constant, so a peak that lifts every seller does not
lift the rank; a listing that sells less than it could (stock-outs, low rank) slides.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import Ranking


class Listings:
    """Rank state per listing [market, sku]: velocity, stock-out memory, reviews."""

    def __init__(self, spec: Ranking, n_markets: int, n_skus: int,
                 initial_rating: float) -> None:
        self.spec = spec
        self.initial_rating = initial_rating
        self.active = (spec.velocity_elasticity > 0 or spec.stockout_penalty > 0
                       or spec.rating_elasticity > 0 or spec.review_elasticity > 0)
        shape = (n_markets, n_skus)
        self.sold = np.zeros(shape)
        self.potential = np.zeros(shape)
        self.memory = np.zeros(shape)
        self.reviews = np.full(shape, float(spec.initial_reviews))
        self.factor = np.ones(shape)
        """Today's rank factor on organic sessions [market, sku]."""

    def rank(self, rating: np.ndarray) -> np.ndarray | None:
        """The rank factor for today's demand (None while the lever is off)."""
        if not self.active:
            return None
        spec = self.spec
        velocity = np.divide(self.sold, self.potential, out=np.ones_like(self.sold),
                             where=self.potential > 0)
        factor = (np.maximum(velocity, 1e-3) ** spec.velocity_elasticity
                  * (1.0 - spec.stockout_penalty * self.memory)
                  * ((rating / self.initial_rating) ** spec.rating_elasticity)[:, None]
                  * ((1.0 + self.reviews) / (1.0 + spec.initial_reviews))
                  ** spec.review_elasticity)
        self.factor = np.clip(factor, spec.min_factor, spec.max_factor)
        return self.factor

    def active_factor(self) -> np.ndarray | None:
        """Today's rank factor, None while the lever is off."""
        return self.factor if self.active else None

    def close_day(self, sold: np.ndarray, potential: np.ndarray, out: np.ndarray,
                  delivered: np.ndarray) -> None:
        """The day's units sold and units it could have sold at neutral rank [market, sku],
        listings that could not sell [market, sku] and orders delivered [market, sku]."""
        if not self.active:
            return
        spec = self.spec
        keep = np.exp(-1.0 / spec.velocity_memory_days)
        self.sold = keep * self.sold + (1.0 - keep) * sold
        self.potential = keep * self.potential + (1.0 - keep) * potential
        onset = np.exp(-1.0 / spec.stockout_onset_days)
        recovery = np.exp(-1.0 / spec.stockout_recovery_days)
        self.memory = np.where(out, 1.0 - (1.0 - self.memory) * onset, self.memory * recovery)
        self.reviews += spec.review_probability * delivered
