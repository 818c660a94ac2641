"""Finite and exact by construction, and no cliffs at scale: a run either ends with finite,
balanced results or stops with ``RunIntegrityError`` naming what went wrong; counts never
wrap; ledger keys never collide; the ledger and the departure search stay linear.

Reproducers go around the scenario schema (``model_copy`` does not validate) where its
bounds would refuse the input first: the model must hold even behind a looser schema.
"""

from __future__ import annotations

import datetime as dt
import math
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.integrity import RunIntegrityError, check_run
from sim.ledger import Ledger
from sim.model import simulate
from sim.network import compile_network
from sim.pipeline import Pipeline
from sim.recorder import Recorder
from sim.scenario import CapacityCut, Scenario

ROOT = Path(__file__).parent.parent


def replaced(node: Any, path: str, value: Any) -> Any:
    """``node`` with the field at the dotted ``path`` set to ``value``, unvalidated."""
    head, _, rest = path.partition(".")
    if isinstance(node, dict):
        return {**node, head: replaced(node[head], rest, value) if rest else value}
    inner = replaced(getattr(node, head), rest, value) if rest else value
    return node.model_copy(update={head: inner})


BALANCED = {"units_residual": 0.0, "money_residual_cny": 0.0, "units_in": 10.0}


# Finite: no NaN or infinity reaches a table or a KPI.

def test_a_non_finite_money_column_stops_the_run(tiny):
    heavy = replaced(tiny, "skus.TEE.weight_kg", 1.7e308)
    with pytest.raises(RunIntegrityError, match=r"orders\.\w+_cny is not finite"), \
            np.errstate(over="ignore", invalid="ignore"):
        simulate(heavy, seed=1, days=20)


def test_check_run_names_the_column_the_kpi_and_the_residual():
    nan_table = {"ledger": pd.DataFrame({"amount_cny": [1.0, math.nan]})}
    with pytest.raises(RunIntegrityError, match=r"ledger\.amount_cny is not finite \(nan in "
                                                r"row 1"):
        check_run(nan_table, {}, BALANCED, 1.0)
    with pytest.raises(RunIntegrityError, match=r"KPI profit_and_loss_cny ads is not finite"):
        check_run({}, {"profit_and_loss_cny": {"ads": -math.inf}}, BALANCED, 1.0)
    with pytest.raises(RunIntegrityError, match="units_residual = 3 units"):
        check_run({}, {}, {**BALANCED, "units_residual": 3.0}, 1.0)
    with pytest.raises(RunIntegrityError, match="money_residual_cny = 5 CNY"):
        check_run({}, {}, {**BALANCED, "money_residual_cny": 5.0}, 1e6)
    with pytest.raises(RunIntegrityError, match="money_residual_cny = nan"):
        check_run({}, {}, {**BALANCED, "money_residual_cny": math.nan}, 1e6)
    with pytest.raises(RunIntegrityError, match=r"daily\.stock_SZ is negative"):
        check_run({"daily": pd.DataFrame({"stock_SZ": [5, -9]})}, {}, BALANCED, 1.0)


def test_shipments_not_yet_departed_or_arrived_may_be_nan_but_not_infinite():
    open_shipment = pd.DataFrame({"departed_day": [math.nan], "arrived_day": [math.nan]})
    check_run({"shipments": open_shipment}, {}, BALANCED, 1.0)
    with pytest.raises(RunIntegrityError, match=r"shipments\.arrived_day"):
        check_run({"shipments": open_shipment.assign(arrived_day=math.inf)}, {}, BALANCED,
                  1.0)


def test_rounding_within_tolerance_passes():
    check_run({}, {}, {**BALANCED, "money_residual_cny": 1e-3}, 1e9)


# Exact: counts are wide enough, or refused before they would wrap.

def test_order_units_beyond_int32_are_kept_exactly(tiny):
    """``extra_units_per_order_mean`` of 1e10 wrapped in an int32 column."""
    run = simulate(replaced(tiny, "conversion.extra_units_per_order_mean", 1e10), seed=1,
                   days=5)
    assert run.orders["units"].dtype == np.int64
    assert run.orders["units"].max() > 2**31
    assert run.conservation["units_residual"] == 0


@pytest.mark.parametrize(("path", "value", "named"), [
    ("warehouses.SZ.initial_stock_days", 1e200, "warehouses.SZ.initial_stock_days"),
    ("suppliers.ACME.moq_units", 2**62, "a purchase order of SZ"),
])
def test_counts_that_would_wrap_stop_the_run(tiny, path, value, named):
    with pytest.raises(RunIntegrityError, match=f"{named}.*cannot be counted"):
        simulate(replaced(tiny, path, value), seed=1, days=20)


def test_a_recorded_integer_that_does_not_fit_its_column_stops_the_run():
    recorder = Recorder({"units": "int32"})
    recorder.add(units=np.array([1, 2**40]))
    with pytest.raises(RunIntegrityError, match="column units: 1099511627776 does not fit "
                                                "int32"):
        recorder.frame()


# Ledger keys that cannot collide.

def test_ledger_keys_hold_many_currencies_and_markets():
    """With 64 currencies or 1,024 markets the packed keys used to spill into the next
    field: sales booked to the wrong currency and market while conservation held."""
    currencies = [f"C{i}" for i in range(70)]
    markets = [f"M{i}" for i in range(1100)]
    ledger = Ledger(currencies, np.ones((70, 30)), len(markets))
    ledger.book("sales", 65, np.array([5.0, 7.0]), np.array([2, 3]), np.array([9, 29]),
                np.array([1050, 3]))
    ledger.book("refund", 69, -1.0, 0, 0, 1099)
    table = ledger.frame(markets).sort_values("amount").reset_index(drop=True)
    assert table[["accrual_day", "cash_day"]].values.tolist() == [[0, 0], [2, 9], [3, 29]]
    assert table["market"].tolist() == ["M1099", "M1050", "M3"]
    assert table["currency"].tolist() == ["C69", "C65", "C65"]
    assert table["category"].tolist() == ["refund", "sales", "sales"]


class SmallBufferLedger(Ledger):
    BUFFER_ROWS = 7


@pytest.mark.parametrize("kind", [Ledger, SmallBufferLedger])
def test_ledger_totals_are_left_to_right_sums_in_booking_order(kind):
    """Each total adds its rows in the order booked, whether they wait in the buffer, pass
    through it in pieces or come as one large booking summed first: the same run gives the
    same bits however often the buffer is emptied."""
    rng = np.random.default_rng(5)
    fx = rng.uniform(0.5, 8.0, (2, 12))
    ledger = kind(["CNY", "USD"], fx, 2)
    expected: dict[tuple[int, int, str], float] = {}
    for _ in range(300):
        n = int(rng.integers(1, 6))
        currency = int(rng.integers(0, 2))
        market = rng.integers(0, 2, n)
        day = int(rng.integers(0, 12))
        amount = rng.normal(0.0, 1e3, n) * 10.0 ** rng.integers(-6, 7, n)
        ledger.book("sales", currency, amount, day, day, market)
        for m, a in zip(market.tolist(), (amount * fx[currency, day]).tolist(), strict=True):
            key = (day, m, "CNYUSD"[3 * currency: 3 * currency + 3])
            expected[key] = expected.get(key, 0.0) + a
    got = {(int(r.accrual_day), ["M0", "M1"].index(r.market), str(r.currency)): r.amount_cny
           for r in ledger.frame(["M0", "M1"]).itertuples()}
    assert got == expected


def test_a_ledger_too_large_to_key_is_refused_when_made():
    with pytest.raises(RunIntegrityError, match="cannot key 40000 days x 10000000 markets"):
        Ledger(["CNY"], np.ones((1, 40_000)), 10_000_000)


# Scale without cliffs.

def test_ledger_adds_each_row_once_past_many_distinct_keys(monkeypatch):
    """Compaction ran on every booking once distinct keys passed 250,000: quadratic. Rows
    are now added to running totals, each once, however many keys there are."""
    ledger = Ledger(["CNY"], np.ones((1, 2_000)), 1)
    added = []
    add = ledger._add
    monkeypatch.setattr(ledger, "_add", lambda key, *values: added.append(key.size)
                        or add(key, *values))
    days = np.arange(2_000)
    for accrual in range(400):  # 800,000 distinct keys, 2,000 at a time
        ledger.book("storage", 0, 1.0, accrual, days)
    ledger.book("storage", 0, np.ones(3), 0, np.array([0, 0, 1]))  # buffered, old keys
    table = ledger.frame([])
    assert sum(added) == 800_003
    assert len(table) == 800_000
    assert table["amount_cny"].sum() == 800_003.0
    assert table["amount"].iloc[:3].tolist() == [3.0, 2.0, 1.0]  # day 0 paid on days 0, 1, 2


def rationed(scenario: Scenario, departures_per_week: float, cut_days: int) -> Scenario:
    """Sea freight with many departures a week of 30 m3 each, and no room at all in a long
    congestion."""
    start = scenario.horizon.start_date
    cut = CapacityCut.model_construct(start=start, days=cut_days, capacity_factor=0.0)
    sea = scenario.modes["sea_fcl"].model_copy(update={
        "departures_per_week": departures_per_week, "capacity_cuts": [cut],
        "capacity_per_departure_m3": 30.0})
    scenario = replaced(scenario, "modes.sea_fcl", sea)
    return replaced(scenario, "disruptions", [])


def test_the_departure_search_skips_a_congested_stretch_whole(tiny):
    """1e7 departures a week and 200 days without room: the search walked 285 million
    departures (this test took minutes); now it passes the stretch in one step."""
    net = compile_network(rationed(tiny, 1e7, 200))
    pipeline = Pipeline(net)
    k = net.modes.index("sea_fcl")
    departure = pipeline.next_departure(k, 0.3, 20.0)
    assert departure == pytest.approx(200.0, abs=1e-6)
    assert math.floor(departure) == 200
    assert pipeline.next_departure(k, 0.3, 20.0) > departure


def walked(pipeline: Pipeline, mode: int, now: float, volume: float) -> float:
    """The departure search as it was: every departure in turn."""
    spec = pipeline.network.scenario.modes[pipeline.network.modes[mode]]
    timeline = pipeline.network.timeline
    period = 7.0 / spec.departures_per_week
    full = spec.capacity_per_departure_m3 or np.inf
    index = int(np.ceil(now / period - 1e-9))
    while True:
        limit = full * timeline.capacity[mode, int(timeline.day(index * period))]
        load = pipeline.departure_load.get((mode, index), 0.0)
        if (load + volume <= limit or (volume > full and load == 0.0 and limit >= full)
                or index * period >= timeline.n_days):
            pipeline.departure_load[(mode, index)] = load + volume
            return index * period
        index += 1


@pytest.mark.parametrize("departures_per_week", [0.7, 2.0, 3.0, 7.0, 13.0])
def test_the_departure_search_finds_what_walking_every_departure_finds(
        tiny, departures_per_week):
    start = tiny.horizon.start_date
    cuts = [CapacityCut.model_construct(start=start + dt.timedelta(days=d), days=n,
                                        capacity_factor=f)
            for d, n, f in [(5, 9, 0.0), (20, 30, 0.4), (40, 4, 0.5), (90, 300, 0.0)]]
    sea = tiny.modes["sea_fcl"].model_copy(update={
        "departures_per_week": departures_per_week, "capacity_cuts": cuts,
        "capacity_per_departure_m3": 30.0})
    net = compile_network(replaced(tiny, "modes.sea_fcl", sea))
    k = net.modes.index("sea_fcl")
    fast, slow = Pipeline(net), Pipeline(net)
    rng = np.random.default_rng(5)
    for _ in range(300):
        now, volume = rng.uniform(0, 120), rng.choice([5.0, 14.0, 29.0, 45.0])
        assert fast.next_departure(k, now, volume) == walked(slow, k, now, volume)
    assert fast.departure_load == slow.departure_load


@pytest.mark.slow
def test_a_thirty_year_baseline_finishes_within_its_memory_budget(tmp_path):
    """10,950 days of the baseline: measured 44 s and 1.95 GB peak on the development
    machine; the budget is 256 KB of memory per day of horizon (2.8 GB). The subprocess's
    10-minute timeout only stops a hang (the ledger and departure search used to be
    quadratic)."""
    days = 10_950
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli.main", "run", str(ROOT / "scenarios" /
                                                                  "baseline.yaml"),
         "--set", f"horizon.days={days}", "--out", str(tmp_path / "out"), "--no-report"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kb <= 256 * days, f"{peak_kb / 1024:.0f} MB peak"
    daily = pd.read_parquet(tmp_path / "out" / "daily.parquet")
    assert len(daily) == days
