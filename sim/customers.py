"""Buyers who come back: the repurchase flow that good delivery earns.

Every order's buyer buys again with a probability q that its delivery experience moves
(``sim.scenario.Customers``), after an exponential delay of mean mu days. The expected
number of returning buyers due on day t in market m, R_m(t), then follows a first-order
recursion instead of a schedule per order: with a = exp(-1/mu),

    R_m(t) = a R_m(t-1) + (1 - a) Q_m(t-1),

where Q_m(d) is the sum of q over the orders whose outcome became known on day d. The run
starts with the customers it already has: R_m(0) is the steady level q / (1 - q) times the
market's planning rate of first orders (``steady_repeat_factor`` is the same identity on
the planning side: every first order brings q / (1 - q) more). An owned channel (email,
private groups) keeps past buyers reached for a fee per buyer and month and multiplies
their q.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import Customers


def planning_probability(spec: Customers) -> float:
    """q of a buyer served on time, owned channel included: the rate plans assume."""
    q = spec.repurchase_probability + spec.on_time_bonus
    if spec.owned_channel is not None:
        q *= spec.owned_channel.repurchase_uplift
    return min(q, 0.95)


def steady_repeat_factor(spec: Customers) -> float:
    """Orders per first order in the long run: 1 / (1 - q)."""
    return 1.0 / (1.0 - planning_probability(spec))


def repurchase_probability(spec: Customers, on_time: np.ndarray, late: np.ndarray,
                           lost: np.ndarray, returned: np.ndarray) -> np.ndarray:
    """q of each order from its delivery experience (boolean arrays, one per order)."""
    q = (spec.repurchase_probability + spec.on_time_bonus * on_time
         - spec.late_penalty * late - spec.lost_penalty * lost
         - spec.return_penalty * returned)
    if spec.owned_channel is not None:
        q = q * spec.owned_channel.repurchase_uplift
    return np.clip(q, 0.0, 1.0)


class CustomerBase:
    """Past buyers per market: who is due back, and how many are on the owned channel."""

    def __init__(self, spec: Customers, n_days: int, first_orders_per_day: np.ndarray,
                 delivery_days: np.ndarray) -> None:
        self.spec = spec
        self.active = spec.repurchase_probability > 0 or spec.on_time_bonus > 0
        self.decay = float(np.exp(-1.0 / spec.mean_days_to_repurchase))
        q = planning_probability(spec) if self.active else 0.0
        self.due = first_orders_per_day * q / (1.0 - q)
        """Returning buyers expected today [market]."""
        self.outcomes = np.zeros((len(first_orders_per_day), n_days))
        """Sum of q of the orders whose outcome is known on each day [market, day]."""
        # Orders placed before day 0 are still arriving for a delivery time: at the steady
        # level, they keep the flow of returning buyers where it was.
        for m, days in enumerate(np.rint(delivery_days).astype(int)):
            self.outcomes[m, : max(days, 0)] = self.due[m]
        self.buyers = np.zeros(len(first_orders_per_day))
        """Distinct buyers so far [market]: every first order is a new customer."""
        self.first_orders = np.zeros((len(first_orders_per_day), n_days), dtype=np.int64)
        self.returning_orders = np.zeros((len(first_orders_per_day), n_days), dtype=np.int64)

    def returning(self, t: int) -> np.ndarray | None:
        """Returning buyers expected on day t [market] (None while the lever is off)."""
        if not self.active:
            return None
        if t > 0:
            self.due = self.decay * self.due + (1.0 - self.decay) * self.outcomes[:, t - 1]
        return self.due

    def served(self, market: np.ndarray, day: np.ndarray, on_time: np.ndarray,
               late: np.ndarray, lost: np.ndarray, returned: np.ndarray) -> None:
        """Shipped orders, their outcomes known on ``day``: their buyers' chance to return."""
        if not self.active:
            return
        q = repurchase_probability(self.spec, on_time, late, lost, returned)
        n_days = self.outcomes.shape[1]
        cell = market * n_days + np.minimum(day, n_days - 1)
        self.outcomes += np.bincount(cell, q, minlength=self.outcomes.size).reshape(
            self.outcomes.shape)

    def complained(self, t: int, market: np.ndarray) -> None:
        """Buyers whose complaint became a dispute on day t [one market per dispute]: their
        chance to come back falls by the dispute penalty (the day's flow stays >= 0)."""
        penalty = self.spec.dispute_penalty
        if not self.active or not penalty or not len(market):
            return
        day = min(t, self.outcomes.shape[1] - 1)
        cut = penalty * np.bincount(market, minlength=len(self.buyers))
        self.outcomes[:, day] = np.maximum(self.outcomes[:, day] - cut, 0.0)

    def placed(self, t: int, market: np.ndarray, returning: np.ndarray) -> None:
        """Today's new orders, each flagged first purchase or returning buyer."""
        n = len(self.buyers)
        first = np.bincount(market[~returning], minlength=n)
        self.first_orders[:, t] = first
        self.returning_orders[:, t] = np.bincount(market[returning], minlength=n)
        self.buyers += first

    def owned_channel_cost(self) -> float:
        """A day of keeping every past buyer reached (CNY)."""
        channel = self.spec.owned_channel
        if channel is None or not self.active:
            return 0.0
        return float(self.buyers.sum()) * channel.cost_per_buyer_month_cny * 12.0 / 365.0
