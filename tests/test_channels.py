"""The channel MILP against brute force, and its answers in business words.

The brute force enumerates every integer decision of a tiny instance (containers per week,
whether the air contract is used) and solves each remaining LP with scipy's linprog from a
formulation written here independently of optimize/channels.py.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from optimize.channel_data import ChannelData, Route, channel_data
from optimize.channels import build_channels_model, optimize_channels, solve_built
from optimize.solve import Infeasible, SolveOptions
from sim import economics
from sim.model import simulate
from tests.conftest import load

WEEKS, SKUS = 3, 2
EXACT = SolveOptions(mip_gap=1e-9, time_limit_s=60)


def tiny_instance(seed: int) -> ChannelData:
    """2 SKUs, 1 market, 1 warehouse; modes: express (direct), sea FCL and air (bulk)."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(20, 80, (SKUS, 1, WEEKS)).astype(float)
    routes = [
        Route("direct", "SZ", "US", "express", "parcel", rng.uniform(40, 60, (SKUS, WEEKS)),
              5.0, 6.0),
        Route("bulk", "SZ", "WH", "sea_fcl", "sea", rng.uniform(1, 3, (SKUS, WEEKS)),
              30.0, 35.0, lead_weeks=1, container_cost=rng.uniform(300, 900, WEEKS),
              container_m3=10.0),
        Route("bulk", "SZ", "WH", "air", "air", rng.uniform(10, 20, (SKUS, WEEKS)),
              8.0, 9.0, lead_weeks=0),
        Route("last_mile", "WH", "US", "courier", "WH last mile",
              rng.uniform(3, 6, (SKUS, WEEKS)), 2.0, 3.0),
    ]
    return ChannelData(
        scenario="tiny", scenario_hash="-", skus=["A", "B"], markets=["US"],
        warehouses=["WH"], weeks=WEEKS, demand=demand,
        lost_penalty=rng.uniform(80, 120, (SKUS, 1)), holding=rng.uniform(0.5, 2, (SKUS, 1)),
        volume=rng.uniform(0.02, 0.08, SKUS), opening=rng.integers(0, 30, (SKUS, 1)) * 1.0,
        routes=routes, parcel_capacity={"express": np.full(WEEKS, 60.0)},
        bulk_capacity_m3={}, warehouse_m3={},
        contracts={("air", "air"): (float(rng.uniform(200, 800)), 30.0)},
        promise_days={"US": 7.0}, keep_closing_stock=False)


def brute_force(data: ChannelData) -> float:
    """Enumerate containers per week and the air contract; solve each LP with linprog."""
    express, sea, air, courier = data.routes
    names = [(kind, s, w) for kind in ("direct", "sea", "air", "deliver", "inv", "lost")
             for s in range(SKUS) for w in range(WEEKS)]
    col = {name: i for i, name in enumerate(names)}
    cost = np.zeros(len(names))
    for s, w in itertools.product(range(SKUS), range(WEEKS)):
        cost[col["direct", s, w]] = express.unit_cost[s, w]
        cost[col["sea", s, w]] = sea.unit_cost[s, w]
        cost[col["air", s, w]] = air.unit_cost[s, w]
        cost[col["deliver", s, w]] = courier.unit_cost[s, w]
        cost[col["inv", s, w]] = data.holding[s, 0]
        cost[col["lost", s, w]] = data.lost_penalty[s, 0]
    eq_rows, eq_rhs = [], []
    for s, w in itertools.product(range(SKUS), range(WEEKS)):
        row = np.zeros(len(names))
        row[[col["direct", s, w], col["deliver", s, w], col["lost", s, w]]] = 1
        eq_rows.append(row)
        eq_rhs.append(data.demand[s, 0, w])
        row = np.zeros(len(names))  # inv_w - inv_{w-1} - arrivals + deliveries = 0
        row[col["inv", s, w]] = 1
        if w > 0:
            row[col["inv", s, w - 1]] = -1
        if w - sea.lead_weeks >= 0:
            row[col["sea", s, w - sea.lead_weeks]] -= 1
        row[col["air", s, w]] -= 1
        row[col["deliver", s, w]] = 1
        eq_rows.append(row)
        eq_rhs.append(data.opening[s, 0] if w == 0 else 0.0)
    fixed_air, min_air = data.contracts[("air", "air")]
    big = data.demand.sum() + data.opening.sum()
    best = np.inf
    for containers in itertools.product(range(4), repeat=WEEKS):
        for use_air in (0, 1):
            le_rows, le_rhs = [], []
            for w in range(WEEKS):
                row = np.zeros(len(names))
                row[[col["direct", s, w] for s in range(SKUS)]] = 1
                le_rows.append(row)
                le_rhs.append(data.parcel_capacity["express"][w])
                row = np.zeros(len(names))
                row[[col["sea", s, w] for s in range(SKUS)]] = data.volume
                le_rows.append(row)
                le_rhs.append(sea.container_m3 * containers[w])
            air_cols = [col["air", s, w] for s in range(SKUS) for w in range(WEEKS)]
            row = np.zeros(len(names))
            row[air_cols] = 1
            le_rows.append(row)
            le_rhs.append(big * use_air)
            le_rows.append(-row)
            le_rhs.append(-min_air * use_air)
            lp = linprog(cost, A_ub=np.array(le_rows), b_ub=le_rhs, A_eq=np.array(eq_rows),
                         b_eq=eq_rhs, bounds=(0, None), method="highs")
            if lp.status == 0:
                total = lp.fun + np.dot(containers, sea.container_cost) + fixed_air * use_air
                best = min(best, total)
    return best


@pytest.mark.parametrize("backend", ["arrays", "pyomo"])
@pytest.mark.parametrize("seed", range(6))
def test_channel_milp_equals_brute_force_enumeration(seed, backend):
    data = tiny_instance(seed)
    _, report = solve_built(lambda elastic: build_channels_model(data, elastic, backend), EXACT)
    assert report.objective == pytest.approx(brute_force(data), rel=1e-6)


def test_promise_rules_out_routes_too_slow_at_the_percentile():
    data = tiny_instance(0)
    data.promise_days["US"] = 4.0  # express takes 6 days at the percentile, courier 3
    built, _ = solve_built(lambda elastic: build_channels_model(data, elastic), EXACT)
    routes_allowed = set(built.sets.used)
    assert 0 not in routes_allowed and 3 in routes_allowed
    data.promise_days["US"] = 2.5  # now nothing can keep the promise: every unit is lost
    built, _ = solve_built(lambda elastic: build_channels_model(data, elastic), EXACT)
    assert built.solution().lost.sum() == pytest.approx(data.demand.sum())


@pytest.mark.parametrize("backend", ["arrays", "pyomo"])
def test_capacity_below_demand_without_lost_sales_is_explained_in_words(backend):
    data = tiny_instance(1)
    data.allow_lost_sales = False
    data.routes = data.routes[:1]  # only express: 60 units a week against ~100 of demand
    with pytest.raises(Infeasible) as caught:
        solve_built(lambda elastic: build_channels_model(data, elastic, backend), EXACT)
    message = str(caught.value)
    assert "express week" in message and "carrier capacity short by" in message
    assert "units" in message and "Traceback" not in message
    shortfall = sum(data.demand[:, 0, w].sum() - 60.0 for w in range(WEEKS)
                    if data.demand[:, 0, w].sum() > 60.0)
    reported = sum(float(part.split("short by ")[1].split()[0].replace(",", ""))
                   for part in caught.value.shortfalls)
    assert reported == pytest.approx(shortfall, abs=1.0)


def test_scenario_plan_serves_demand_within_capacity():
    scenario = load("tiny")
    outcome = optimize_channels(scenario)
    flows = outcome.tables["flows"]
    demand = channel_data(scenario).demand.sum()
    served = flows.loc[flows["kind"] != "bulk", "units"].sum()
    assert served + outcome.summary["lost_units"] == pytest.approx(demand, rel=1e-6)
    postal = flows[flows["mode"] == "postal"].groupby("week")["units"].sum()
    assert (postal <= 7 * 400 + 1e-6).all()
    assert outcome.plan.kind == "channels" and outcome.plan.weeks == 60 // 7
    assert sum(line.units for line in outcome.plan.fulfilment) == pytest.approx(served)


def test_scenario_without_lost_sales_names_the_short_carrier_and_weeks():
    scenario = load("tiny", "planning.channels.allow_lost_sales=false",
                    "modes.postal.capacity_units_per_day=5",
                    "modes.express.capacity_units_per_day=5")
    with pytest.raises(Infeasible) as caught:
        optimize_channels(scenario)
    assert str(caught.value).startswith("no feasible plan: ")
    assert all(" week " in line and "capacity short by" in line
               for line in caught.value.shortfalls)


def test_a_thread_count_can_be_chosen_after_other_solves_in_the_process():
    tiny = load("tiny")
    default = optimize_channels(tiny).summary["total_cost_cny"]
    for threads in (1, 2):
        assert optimize_channels(tiny, SolveOptions(threads=threads)).summary[
            "total_cost_cny"] == pytest.approx(default, rel=1e-9)


def test_lost_sale_is_valued_at_the_net_revenue_the_simulator_books():
    # Commission and payment fee on the VAT-inclusive price (sim.economics), in CNY at the
    # day-0 rate, times the penalty factor; FX held still so the ledger's rate is that one.
    factor = 1.25
    scenario = load("tiny", "markets.US.fx_daily_volatility=0",
                    "markets.DE.fx_daily_volatility=0",
                    f"planning.channels.lost_sale_penalty_factor={factor}")
    data = channel_data(scenario)
    fin = scenario.finance
    for m, name in enumerate(data.markets):
        market = scenario.markets[name]
        assert market.vat_rate > 0 or name == "US"
        for s, sku in enumerate(data.skus):
            net = economics.net_revenue_per_unit(scenario.skus[sku].price[name],
                                                 market.vat_rate, fin.commission_rate,
                                                 fin.payment_fee_rate)
            assert data.lost_penalty[s, m] == pytest.approx(
                float(net) * market.fx_to_cny * factor, rel=1e-12)

    result = simulate(scenario, seed=1)
    ledger, orders = result.ledger, result.orders
    for name in data.markets:  # one market-day each: VAT-free US and 19 %-VAT DE
        day = int(orders.loc[orders["market"] == name, "order_day"].min())
        booked = ledger[(ledger["market"] == name) & (ledger["accrual_day"] == day)
                        & ledger["category"].isin(["sales", "vat", "commission",
                                                   "payment_fee"])]
        sold = orders[(orders["market"] == name) & (orders["order_day"] == day)]
        assert len(sold) > 0 and set(booked["category"]) == {"sales", "vat", "commission",
                                                              "payment_fee"}
        m = data.markets.index(name)
        expected = sum(units * data.lost_penalty[data.skus.index(sku), m] / factor
                       for sku, units in zip(sold["sku"], sold["units"], strict=True))
        assert booked["amount_cny"].sum() == pytest.approx(expected, rel=1e-9)
