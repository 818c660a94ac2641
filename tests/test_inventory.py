"""Replenishment policies, stock allocation and warehouse capacity."""

from __future__ import annotations

import numpy as np

from sim.allocation import allocate
from sim.inventory import BASE_STOCK, RQ, SS, Policies, Stock
from sim.model import simulate
from tests.conftest import load


def one_warehouse_policies(kind: int, low: float, high: float, n: int) -> Policies:
    shape = (1, n)
    return Policies(np.full(shape, kind), np.full(shape, low), np.full(shape, high),
                    np.ones(shape, int), np.full(shape, -1))


def test_s_S_orders_up_to_S_only_at_or_below_s():
    p = one_warehouse_policies(SS, 20, 100, 4)
    qty = p.order_quantity(0, np.array([21, 20, 5, -10]), np.ones(4, bool))
    assert qty.tolist() == [0, 80, 95, 110]


def test_R_Q_orders_whole_batches_until_above_R():
    p = one_warehouse_policies(RQ, 30, 25, 4)
    qty = p.order_quantity(0, np.array([31, 30, 6, 5]), np.ones(4, bool))
    assert qty.tolist() == [0, 25, 25, 50]


def test_base_stock_replaces_what_was_used_and_respects_review_days():
    p = one_warehouse_policies(BASE_STOCK, 50, 50, 3)
    qty = p.order_quantity(0, np.array([50, 42, 42]), np.array([True, True, False]))
    assert qty.tolist() == [0, 8, 0]


def test_allocation_fills_whole_orders_first_come_first_served_per_stock_key():
    key = np.array([0, 0, 0, 1, 1])
    units = np.array([3, 2, 4, 1, 1])
    priority = np.array([0.1, 0.2, 0.3, 0.9, 0.1])
    filled = allocate(key, units, priority, available=np.array([5, 1]))
    # key 0: 3 + 2 fit in 5, the third does not; key 1: only the earlier (0.1) order fits.
    assert filled.tolist() == [True, True, False, False, True]


def test_stock_leaves_at_average_value_and_empties_exactly():
    stock = Stock(1, 1)
    stock.receive(0, np.array([0]), np.array([10]), np.array([[100.0, 20.0, 5.0]]))
    stock.receive(0, np.array([0]), np.array([10]), np.array([[300.0, 20.0, 5.0]]))
    taken = stock.issue(0, np.array([0]), np.array([5]))
    assert np.allclose(taken, [[100.0, 10.0, 2.5]])
    rest = stock.issue(0, np.array([0]), np.array([15]))
    assert stock.on_hand[0, 0] == 0 and np.all(stock.value == 0)
    assert np.isclose(taken.sum() + rest.sum(), 450.0)


def test_overseas_warehouse_capacity_caps_replenishment():
    free = simulate(load("tiny"), seed=2)
    tight = simulate(load("tiny", "warehouses.US_WH.capacity_m3=8"), seed=2)

    def shipped_to_us(result):
        s = result.shipments
        return s.loc[(s["kind"] == "bulk") & (s["destination"] == "US_WH"), "units"].sum()
    assert shipped_to_us(tight) < shipped_to_us(free)
