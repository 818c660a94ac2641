"""Stock at origin and overseas warehouses, valued at weighted-average landed cost.

Each (warehouse, SKU) holds units on hand and their value in three components (product,
inbound freight, import duty) so that landed cost per unit can be shown as a waterfall.
Units leave at the current average value per unit, keeping money and units conserved.

Replenishment policies are compiled into arrays [warehouse, sku]; a review orders

    (s,S):       S - IP            if IP <= s
    (R,Q):       n Q, smallest n with IP + n Q > R, if IP <= R
    base stock:  level - IP        if IP < level

where IP, the inventory position, is on hand + on order/in transit - backorders. Levels in
days of cover are converted at the planning run-rate, or at each review's calendar for a
seasonal rule (``sim.cover``).

Units on hand may carry their ages (``sim.lots.Lots``): receipts join this week's lot and
issues take the oldest lots first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.cover import SeasonalCover
from sim.integrity import whole_units
from sim.scenario import BaseStockPolicy, RQPolicy, Scenario, SSPolicy

if TYPE_CHECKING:
    from sim.lots import Lots

VALUE_PARTS = ("product", "freight", "duty")
NO_POLICY, SS, RQ, BASE_STOCK = 0, 1, 2, 3


@dataclass
class Policies:
    """Compiled replenishment rules; ``kind == NO_POLICY`` means never reordered."""

    kind: np.ndarray          # [warehouse, sku] int
    reorder_point: np.ndarray # units
    target: np.ndarray        # S for (s,S), Q for (R,Q), level for base stock
    review_days: np.ndarray   # int
    mode: np.ndarray          # bulk mode index for overseas warehouses, -1 otherwise
    seasonal: SeasonalCover | None = None
    """The levels that follow the calendar; None: every level is fixed."""

    @staticmethod
    def compile(scenario: Scenario, warehouses: list[str], skus: list[str], modes: list[str],
                daily_units: np.ndarray) -> Policies:
        shape = (len(warehouses), len(skus))
        p = Policies(np.zeros(shape, int), np.zeros(shape), np.zeros(shape),
                     np.ones(shape, int), np.full(shape, -1))
        seasonal = np.zeros(shape, bool)
        low_days, high_days = np.zeros(shape), np.zeros(shape)
        for rule in scenario.policies.replenishment:
            w = warehouses.index(rule.warehouse)
            chosen = np.array([(rule.skus is None or s in rule.skus)
                               and (rule.categories is None
                                    or scenario.skus[s].category in rule.categories)
                               for s in skus])
            scale = daily_units[w] if rule.policy.unit == "days" else np.ones(len(skus))
            policy = rule.policy
            if isinstance(policy, SSPolicy):
                kind, low, high = SS, policy.reorder_point, policy.order_up_to
            elif isinstance(policy, RQPolicy):
                kind, low, high = RQ, policy.reorder_point, policy.order_quantity
            else:
                assert isinstance(policy, BaseStockPolicy)
                kind, low, high = BASE_STOCK, policy.level, policy.level
            p.kind[w, chosen] = kind
            p.reorder_point[w, chosen] = np.round(low * scale[chosen])
            target = np.round(high * scale[chosen])
            p.target[w, chosen] = np.maximum(target, 1) if kind == RQ else target
            p.review_days[w, chosen] = rule.review_days
            p.mode[w, chosen] = modes.index(rule.mode) if rule.mode else -1
            seasonal[w, chosen] = rule.seasonal
            low_days[w, chosen], high_days[w, chosen] = low, high
        if seasonal.any():
            p.seasonal = SeasonalCover.build(scenario, seasonal, low_days, high_days,
                                             daily_units)
        return p

    def without(self, warehouses: list[int]) -> Policies:
        """The same rules with the given warehouses never reordered (a plan or a
        re-planner replenishes them)."""
        kind = self.kind.copy()
        kind[warehouses] = NO_POLICY
        return Policies(kind, self.reorder_point, self.target, self.review_days, self.mode,
                        self.seasonal)

    def levels(self, w: int, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Warehouse ``w``'s reorder points and targets on day ``t`` [sku], units."""
        low, high = self.reorder_point[w], self.target[w]
        if self.seasonal is None:
            return low, high
        low, high = self.seasonal.levels(w, t, low, high)
        return low, np.where(self.kind[w] == RQ, np.maximum(high, 1), high)

    def order_quantity(self, w: int, position: np.ndarray, due: np.ndarray,
                       t: int = 0) -> np.ndarray:
        """Units to order on day ``t`` for warehouse ``w`` given inventory positions
        [sku]."""
        kind = self.kind[w]
        low, high = self.levels(w, t)
        qty = np.zeros(len(position))
        ss = due & (kind == SS) & (position <= low)
        qty[ss] = high[ss] - position[ss]
        rq = due & (kind == RQ) & (position <= low)
        qty[rq] = (np.floor((low[rq] - position[rq]) / high[rq]) + 1) * high[rq]
        bs = due & (kind == BASE_STOCK) & (position < high)
        qty[bs] = high[bs] - position[bs]
        return whole_units(np.maximum(np.round(qty), 0),
                           f"the replenishment rule of warehouse {w}")


@dataclass
class StockCounts:
    """Running totals of what entered and left the stock, for the conservation identities
    (``sim.results``): units, and value in CNY that the cash ledger does not show."""

    opening: int = 0
    opening_in_transit: int = 0
    """Bulk units already on their way on day 0 (an opening state's)."""
    purchased: int = 0
    defective: int = 0
    bulk_lost: int = 0
    bulk_damaged: int = 0
    shipped: int = 0
    restocked: int = 0
    cleared: int = 0
    """Aged units liquidated or disposed of by a clearance (``sim.ageing``)."""
    opening_value_cny: float = 0.0
    """Value on hand and in transit on day 0."""
    cogs_cny: float = 0.0
    """Landed value of the units shipped, less what restocked returns put back."""
    write_off_cny: float = 0.0
    """Value of defective, lost, damaged and cleared units."""


class Stock:
    """Units and value on hand, plus what is on its way to each warehouse."""

    def __init__(self, n_warehouses: int, n_skus: int) -> None:
        self.on_hand = np.zeros((n_warehouses, n_skus), dtype=np.int64)
        self.value = np.zeros((n_warehouses, n_skus, len(VALUE_PARTS)))
        self.inbound = np.zeros((n_warehouses, n_skus), dtype=np.int64)
        """Units ordered for the warehouse and not yet received (POs or bulk shipments)."""
        self.counts = StockCounts()
        self.lots: Lots | None = None
        """The units' ages, when kept (``sim.ageing.open_lots``)."""

    def unit_value(self, w: np.ndarray | int, s: np.ndarray) -> np.ndarray:
        """Average value per unit [.., part]; zero where nothing is on hand."""
        return self._per_unit(self.on_hand[w, s], self.value[w, s])

    @staticmethod
    def _per_unit(held: np.ndarray, value: np.ndarray) -> np.ndarray:
        units = held.astype(float)
        safe = np.where(units > 0, units, 1.0)
        return value / safe[..., None] * (units > 0)[..., None]

    def receive(self, w: int, s: np.ndarray, units: np.ndarray, value: np.ndarray) -> None:
        """Add units with their total value [len(s), part]."""
        np.add.at(self.on_hand[w], s, units)
        np.add.at(self.value[w], s, value)
        if self.lots is not None:
            self.lots.receive(w, s, units)

    def issue(self, w: int | np.ndarray, s: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Remove units at average value; returns the value removed [len(s), part].

        The (w, s) pairs must be distinct; callers aggregate first.
        """
        held, value = self.on_hand[w, s], self.value[w, s]
        left = held - units
        taken = np.where((left == 0)[:, None], value,
                         self._per_unit(held, value) * units[:, None])
        self.on_hand[w, s] = left
        self.value[w, s] = value - taken
        if self.lots is not None:
            self.lots.issue(w, s, units)
        return taken

    def total_value(self) -> float:
        return float(self.value.sum())
