"""Stock-aware ads: spend that sells, against closed forms on hand-built instances, and the
weekly stock trace the model reads against the run's own conservation.

Hand-built instances: one concave channel (n = 1, no carry-over), one SKU, one market sold
from one warehouse, margin M per unit and u units per paid session, so a paid session is
worth g = u M exactly as in the plain model. With stock for Q paid units in all and none
organic, the best plan buys exactly Q units at the least cost: on a concave curve with the
same calendar every week that is the same sessions r = Q / (7 u W) every week (inventory
carries the stock forward), i.e. spend x = K r / (S - r).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, load

from optimize.ads import AdData, ad_data, optimize_ads, solve_ads
from optimize.ads_stock import StockLimits
from sim.loader import ScenarioError
from sim.model import simulate
from sim.plan import Plan, ShipmentLine, save_plan

K, S, MARGIN, UNITS = 1000.0, 500.0, 60.0, 0.1   # CNY/day, sessions/day, CNY, units/session
WEEKS = 3


def one_channel(supply: list[float], organic: float = 0.0) -> AdData:
    """Three weeks of one channel selling one SKU; ``supply`` units arrive per week."""
    limits = StockLimits(
        locations=("WH",), primary=np.array([0]), fallback=np.array([-1]),
        organic=np.full((1, 1, 1, WEEKS), organic),
        supply=np.array(supply, dtype=float).reshape(1, 1, 1, WEEKS),
        paid_units=np.array([[[UNITS]]]), margin=np.array([[MARGIN]]),
        rescue_margin=np.zeros((1, 1)))
    return AdData(
        channels=("ppc",), weeks=WEEKS, half_saturation_cny=np.array([K]),
        max_sessions=np.array([S]), exponent=np.array([1.0]), carryover=np.zeros(1),
        orders_per_session=np.array([UNITS]), revenue_per_session_cny=np.array([2 * UNITS
                                                                                * MARGIN]),
        margin_per_session_cny=np.array([UNITS * MARGIN]), breakpoints=60, stock=limits)


def spend(data: AdData) -> np.ndarray:
    return solve_ads(data).tables["allocation"]["ppc"].to_numpy()


def test_ample_stock_gives_the_plain_plan():
    stocked = one_channel([1e9, 0.0, 0.0])
    plain = dataclasses.replace(stocked, stock=None)
    # closed form of the plain problem: g S K / (x + K)^2 = 1
    best = np.sqrt(K * S * UNITS * MARGIN) - K
    assert spend(plain) == pytest.approx(best, rel=5e-3)
    assert spend(stocked) == pytest.approx(spend(plain), rel=5e-3)


def test_no_spend_drives_demand_past_the_stock_it_has():
    quantity = 60.0                          # units of stock, all in week 1
    data = one_channel([quantity, 0.0, 0.0])
    sessions = quantity / (7 * UNITS * WEEKS)
    expected = K * sessions / (S - sessions)
    assert expected < np.sqrt(K * S * UNITS * MARGIN) - K     # stock binds
    outcome = solve_ads(data)
    assert spend(data) == pytest.approx(np.full(WEEKS, expected), rel=0.01)
    assert outcome.summary["stock_units_sold"] == pytest.approx(quantity, rel=1e-6)
    assert outcome.summary["stock_lost_units"] == pytest.approx(0.0, abs=0.5)


def test_ad_timing_follows_what_can_be_delivered():
    data = one_channel([0.0, 0.0, 1e9])      # nothing to sell until week 3
    x = spend(data)
    assert x[:2] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert x[2] == pytest.approx(np.sqrt(K * S * UNITS * MARGIN) - K, rel=5e-3)


def test_organic_demand_takes_its_share_of_the_stock_first():
    # 21 organic units a week and 63 units of stock: nothing left to advertise
    data = one_channel([63.0, 0.0, 0.0], organic=21.0)
    assert spend(data) == pytest.approx(np.zeros(WEEKS), abs=1e-6)


def test_weekly_trace_conserves_units(tiny):
    run = simulate(tiny, 3)
    trace = run.weekly
    assert trace is not None
    assert int(trace.issued.sum()) == int(run.orders["units"].sum())
    backlog = int(run.daily["backlog_units"].iloc[-1])
    assert int(trace.demand.sum()) == int(trace.issued.sum()) + \
        int(run.summary["lost_sales_units"]) + backlog
    overseas = [w for w, name in enumerate(tiny.warehouses)
                if tiny.warehouses[name].kind == "overseas"]
    assert (trace.supply()[:, overseas] >= 0).all()     # only arrivals and restocks
    assert np.array_equal(trace.stock[-1], run.closing_stock)


def test_stock_aware_plan_carries_the_logistics_it_was_planned_with(tmp_path):
    logistics = Plan(kind="peak", takes_over=[], scenario="tiny", scenario_hash="x", weeks=4,
                     objective_cny=0.0, shipments=[ShipmentLine(
                         week=1, sku=sku, origin="SZ", destination="US_WH", mode="sea_fcl",
                         units=50.0) for sku in load("tiny").skus])
    path = save_plan(logistics, tmp_path / "peak.yaml")
    scenario = load("tiny", f"plan={path}", "planning.ads.stock_aware=true",
                    "planning.ads.stock_scenarios=2")
    data = ad_data(scenario)
    assert data.stock is not None and data.stock.scenarios == 2
    plan = optimize_ads(scenario).plan
    assert plan.shipments == logistics.shipments
    assert plan.ad_spend and plan.takes_over == ["ad_spend"]
    assert "lost_sales_units" in plan.metrics


def test_stock_aware_needs_the_contribution_objective():
    with pytest.raises(ScenarioError, match="planning.ads.stock_aware"):
        load("tiny", "planning.ads.stock_aware=true", "planning.ads.objective=orders")


def test_cli_stock_aware_flag_plans_against_the_stock(tmp_path):
    import contextlib
    import io

    from experiments.cli.main import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["optimize", "ads", str(DATA / "tiny.yaml"), "--stock-aware", "--no-report",
                     "--set", "planning.ads.stock_scenarios=1", "--out", str(tmp_path)])
    assert code == 0
    assert "stock_units_sold" in out.getvalue()


def test_joint_study_compares_four_arms_on_common_random_numbers(tmp_path):
    from experiments.engine.backends import open_backend
    from experiments.studies import joint_ads
    with open_backend("serial", None, None) as backend:
        text = joint_ads.run(DATA / "tiny.yaml", tmp_path, 2, 0, backend)
    assert "joint - separate" in text
    for arm in ("peak", "separate", "joint"):
        assert (tmp_path / f"{arm}_plan.yaml").exists()
    samples = pd.read_parquet(tmp_path / "comparison" / "samples.parquet")
    assert sorted(samples["scenario"].unique()) == ["joint", "peak", "rules", "separate"]
    seeds = samples.pivot(index="replication", columns="scenario", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()       # every arm on the same seeds
