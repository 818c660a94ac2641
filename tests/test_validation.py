"""The model against closed-form results it did not invent.

* Base stock with Poisson demand, constant lead time and backorders: with daily review the
  net inventory before a day's demand is S - X, X ~ Poisson(lambda L), so the fill rate is
  E[min(D, (S - X)^+)] / lambda with D ~ Poisson(lambda) (Zipkin, Foundations of Inventory
  Management, ch. 6, in its periodic-review form).
* Customer service with Poisson arrivals, exponential handling and agents round the clock is
  an M/M/c queue, whose mean wait is Erlang C: W_q = C(c, a) / (c mu - lambda).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.model import simulate
from tests.conftest import load


def t_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    values = np.asarray(values)
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) \
        / math.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def base_stock_fill_rate(rate: float, lead_days: int, level: int) -> float:
    lead_demand = np.arange(0, int(rate * lead_days * 3) + 50)
    p_lead = stats.poisson.pmf(lead_demand, rate * lead_days)
    today = np.arange(0, int(rate * 4) + 50)
    p_today = stats.poisson.pmf(today, rate)
    on_hand = np.maximum(level - lead_demand, 0)
    filled = np.minimum(today[None, :], on_hand[:, None])
    return float((p_lead[:, None] * p_today[None, :] * filled).sum() / rate)


def erlang_c_wait(arrivals_per_hour: float, mean_service_hours: float, agents: int) -> float:
    a = arrivals_per_hour * mean_service_hours
    rho = a / agents
    top = a**agents / math.factorial(agents) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(agents)) + top)
    return p_wait / (agents / mean_service_hours - arrivals_per_hour)


@pytest.mark.parametrize("level", [110, 125])
def test_base_stock_fill_rate_matches_closed_form(level):
    scenario = load("single_sku", "horizon.days=300",
                    f"policies.replenishment.0.policy.level={level}",
                    f"warehouses.SZ.initial_stock_days={level / 20}")
    fills = [simulate(scenario, seed=seed).summary["fill_rate"] for seed in range(30)]
    expected = base_stock_fill_rate(rate=20.0, lead_days=5, level=level)
    low, high = t_interval(fills)
    assert low <= expected <= high, (expected, low, high)


def test_service_desk_mean_wait_matches_erlang_c():
    scenario = load("single_sku", "horizon.days=300", "horizon.warmup_days=20")
    waits = [simulate(scenario, seed=seed).summary["cs_mean_first_response_hours"]
             for seed in range(12)]
    expected = erlang_c_wait(arrivals_per_hour=57.6 / 24, mean_service_hours=1.0, agents=3)
    low, high = t_interval(waits)
    assert low <= expected <= high, (expected, low, high)
    assert abs(np.mean(waits) / expected - 1) < 0.08


def test_shift_work_makes_night_tickets_wait_for_the_morning():
    """With an 8 h day shift, a ticket never gets its first response outside the shift."""
    scenario = load("single_sku", "horizon.days=60", "service.shift.start_hour=9",
                    "service.shift.hours=8", "service.agents=4")
    tickets = simulate(scenario, seed=3).tickets
    answered_hour = (tickets["arrival_hour"] + tickets["first_response_hours"]) % 24
    assert answered_hour.between(9 - 1e-9, 17 + 1e-9).all()
    night = tickets["arrival_hour"] % 24 < 9
    waited = tickets.loc[night, "first_response_hours"]
    to_nine = 9 - tickets.loc[night, "arrival_hour"] % 24
    assert (waited >= to_nine - 1e-9).all()
