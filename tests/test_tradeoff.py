"""The time-versus-cost frontier: non-dominated, monotone, and re-solved, not rebuilt."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimize.tradeoff import optimize_frontier, pareto_front
from tests.conftest import load


def test_pareto_front_drops_dominated_points():
    table = pd.DataFrame({"total_cost_cny": [10.0, 8.0, 9.0, 8.0, 12.0],
                          "mean_delivery_days": [3.0, 6.0, 7.0, 6.0, 2.0]})
    front = pareto_front(table, "mean_delivery_days", "lower")
    # (9, 7) is beaten by (8, 6) on both; the duplicate (8, 6) appears once.
    assert front[["total_cost_cny", "mean_delivery_days"]].values.tolist() == [
        [12.0, 2.0], [10.0, 3.0], [8.0, 6.0]]


def test_delivery_days_frontier_is_monotone_and_non_dominated():
    outcome = optimize_frontier(load("tiny"), points=6)
    front = outcome.tables["frontier"]
    days, cost = front["mean_delivery_days"].to_numpy(), front["total_cost_cny"].to_numpy()
    assert len(front) >= 4
    assert np.all(np.diff(days) > 0) and np.all(np.diff(cost) < 0)  # faster costs more
    for i in range(len(front)):
        beaten = (cost <= cost[i]) & (days <= days[i]) & ((cost < cost[i]) | (days < days[i]))
        assert not beaten.any()
    assert len(outcome.plans) == len(front)
    assert outcome.plan in outcome.plans
    assert outcome.summary["build_s"] < outcome.summary["total_s"]


def test_share_within_days_frontier_rises_with_cost():
    outcome = optimize_frontier(load("tiny"), points=5, metric="share_within", within_days=7)
    front = outcome.tables["frontier"]
    share = front["share_within_7d"].to_numpy()
    cost = front["total_cost_cny"].to_numpy()
    assert np.all(np.diff(share) < 0) and np.all(np.diff(cost) < 0)
    assert share.max() <= 1.0 + 1e-9
