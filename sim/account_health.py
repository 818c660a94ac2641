"""Account health: the marketplace's report card of a seller in each market, and the traffic
it costs to fail it.

Marketplaces grade a seller on rolling windows of its own orders. Amazon, for one, asks for a
late-shipment rate under 4 % (orders shipped after their handling time, over 10 and 30 days)
and an order defect rate under 1 % (orders with an A-to-z claim, a chargeback or negative
feedback, over 60 days); a seller above either limit loses the Buy Box and search placement
until it recovers, or its account is suspended. Per market m and day t:

    late-shipment rate  = late shipments / shipments,  ship days in [t - W_late, t)
    order defect rate   = defects / shipments,         defects dated in [t - W_defect, t),
                                                       shipments in the same window
    conversion factor   = breach_factor if either rate is above its limit, else 1

Only days before t count: a day's grade is what the marketplace knew that morning. The
defects are this model's own exceptions (``sim.exceptions``): a lost, undeliverable or late
parcel becomes a defect with its probability (``Defects``), dated on the day the customer
learns of it. Claims raised by unanswered service tickets are the service desk's, not these.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import AccountHealth as Spec


def draw_defects(rng: np.random.Generator, spec: Spec, lost: np.ndarray,
                 undeliverable: np.ndarray, late: np.ndarray) -> np.ndarray:
    """Which orders become defects: each exception with its own chance, the worst one first
    (a lost parcel that was also late is judged as lost)."""
    d = spec.defects
    chance = np.where(lost, d.lost, np.where(undeliverable, d.undeliverable,
                                             np.where(late, d.late, 0.0)))
    return rng.random(len(chance)) < chance


class AccountHealth:
    """Shipments, late shipments and defects per market and day, and the conversion factor
    they earn; without a spec every factor is 1."""

    def __init__(self, spec: Spec | None, n_markets: int, n_days: int) -> None:
        self.spec = spec
        self.counts = np.zeros((3, n_markets, n_days))
        """Shipments, late shipments (by ship day) and defects (by the defect's day)."""
        self._neutral = np.ones(n_markets)

    def observe(self, rng: np.random.Generator, market: np.ndarray, ship_day: np.ndarray,
                dispatch_days: np.ndarray, delivery_day: np.ndarray, lost: np.ndarray,
                undeliverable: np.ndarray, late: np.ndarray) -> np.ndarray:
        """Count today's shipped orders on the days they leave and their defects are known
        (``dispatch_days``: placed to handed over; ``late``: delivered after the promise);
        returns which orders are defects (none, and no draw, without a spec)."""
        if self.spec is None:
            return np.zeros(len(market), dtype=bool)
        defect = draw_defects(rng, self.spec, lost, undeliverable, late)
        late_shipment = dispatch_days > self.spec.handling_days
        shipped, late_count, defects = self.counts
        np.add.at(shipped, (market, ship_day), 1.0)
        np.add.at(late_count, (market[late_shipment], ship_day[late_shipment]), 1.0)
        np.add.at(defects, (market[defect], delivery_day[defect]), 1.0)
        return defect

    def rates(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Late-shipment and order defect rates [market] on the morning of day ``t``."""
        assert self.spec is not None
        shipped, late, defects = self.counts
        w_late = slice(max(t - self.spec.late_shipment_window_days, 0), t)
        w_defect = slice(max(t - self.spec.defect_window_days, 0), t)
        late_rate = late[:, w_late].sum(1) / np.maximum(shipped[:, w_late].sum(1), 1.0)
        defect_rate = defects[:, w_defect].sum(1) / np.maximum(shipped[:, w_defect].sum(1), 1.0)
        return late_rate, defect_rate

    def factor(self, t: int) -> np.ndarray:
        """The factor on each market's conversion on day ``t``."""
        spec = self.spec
        if spec is None:
            return self._neutral
        late_rate, defect_rate = self.rates(t)
        breached = (late_rate > spec.late_shipment_limit) | (defect_rate > spec.defect_rate_limit)
        return np.where(breached, spec.breach_factor, 1.0)
