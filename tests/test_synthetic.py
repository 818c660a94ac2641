"""The independent history generator: it reproduces its own truth by plain statistics, is
deterministic for a seed, writes canonical tables, and the shipped example is what the
example script writes."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.data.example import csv_text, write_example
from experiments.data.synthetic import (
    Truth,
    TruthError,
    example_truth,
    generate,
    truth_from_json,
    truth_to_json,
    write_csv,
)
from experiments.data.tables import PANDAS_TYPES, TABLES, typed

ROOT = Path(__file__).parent.parent
START = date(2025, 1, 1)
DAYS = 365
Z = 4.0
"""Deviations allowed, in standard errors."""


@pytest.fixture(scope="module")
def truth() -> Truth:
    return example_truth(300, ("US", "DE", "UK"), years=1.0, seed=11)


@pytest.fixture(scope="module")
def history(truth: Truth) -> dict[str, pd.DataFrame]:
    return generate(truth, START, DAYS, seed=11)


def _season(truth: Truth, market: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """Seasonality x peaks, worked out from the truth here rather than by the module."""
    season = np.array([truth.seasonality_by_month[d.month - 1] for d in dates])
    for event in truth.peak_events:
        if market in event.markets:
            first = pd.Timestamp(event.start)
            season[(dates >= first) & (dates < first + pd.Timedelta(days=event.days))] *= \
                event.multiplier
    return season


def test_monthly_orders_follow_level_times_seasonality(truth: Truth) -> None:
    plain = dataclasses.replace(truth, ad_channels=(), stockout_share=0.0)
    orders = generate(plain, START, 2 * DAYS, seed=3)["orders"]
    dates = pd.date_range(pd.Timestamp(START), periods=2 * DAYS, freq="D")
    for market in plain.markets:
        daily = orders[orders["market"] == market.name].groupby("order_date").size()
        daily = daily.reindex(dates, fill_value=0).to_numpy()
        mean = market.organic_orders_per_day * _season(plain, market.name, dates)
        variance = mean + (mean * market.daily_noise_cv) ** 2   # negative binomial
        month = dates.month.to_numpy()
        for m in range(1, 13):
            on = month == m
            z = (daily[on].sum() - mean[on].sum()) / np.sqrt(variance[on].sum())
            assert abs(z) < Z, (market.name, m, z)


def test_popularity_shares(truth: Truth) -> None:
    plain = dataclasses.replace(truth, stockout_share=0.0)
    orders = generate(plain, START, 2 * DAYS, seed=5)["orders"]
    units = orders.groupby("sku")["quantity"].sum().reindex(
        [s.sku for s in plain.skus], fill_value=0).to_numpy(float)
    lines = len(orders)
    share, expected = units / units.sum(), plain.popularity
    # units of a SKU = sum of its lines' quantities: var = lines p (1 - p) E[q^2] / E[q]^2
    q = plain.extra_units_mean
    inflation = (1 + 3 * q + q**2) / (1 + q) ** 2
    se = np.sqrt(expected * (1 - expected) * inflation / lines)
    busy = units >= 500
    assert busy.sum() > 50
    assert (np.abs(share - expected)[busy] < Z * se[busy]).all()
    # 10 % is more than 4 standard errors from about 2,000 units up
    assert (np.abs(share / expected - 1)[units >= 2000] < 0.10).all()


def test_lead_times_and_transit(truth: Truth, history: dict[str, pd.DataFrame]) -> None:
    last = pd.Timestamp(START) + pd.Timedelta(days=DAYS - 90)
    pos = history["purchase_orders"].drop_duplicates("po_id")
    pos = pos[pos["order_date"] <= last]
    for s in truth.suppliers:
        mine = pos[pos["supplier"] == s.name]
        lead = (mine["received_date"] - mine["order_date"]).dt.days
        assert lead.notna().all()
        se = s.lead_time_mean_days * s.lead_time_cv / np.sqrt(len(lead))
        assert abs(lead.mean() - s.lead_time_mean_days) < Z * se, s.name
    ships = history["shipments"].drop_duplicates("shipment_id")
    ships = ships[ships["ship_date"] <= last]
    for lane in truth.lanes:
        mine = ships[ships["lane"] == lane.name]
        transit = (mine["arrival_date"] - mine["ship_date"]).dt.days
        assert (mine["mode"] == lane.mode).all()
        se = lane.transit_mean_days * lane.transit_cv / np.sqrt(len(transit))
        assert abs(transit.mean() - lane.transit_mean_days) < Z * se, lane.name


def test_return_rates_per_category(truth: Truth, history: dict[str, pd.DataFrame]) -> None:
    orders = history["orders"]
    last = pd.Timestamp(START) + pd.Timedelta(days=DAYS - 1 - truth.return_days[1])
    settled = orders[orders["delivery_date"] <= last]
    returned = settled["order_id"].isin(history["returns"]["order_id"])
    category = settled["sku"].map({s.sku: s.category for s in truth.skus})
    assert not orders.loc[orders["status"] == "cancelled", "order_id"].isin(
        history["returns"]["order_id"]).any()
    for name, p in truth.return_probability.items():
        got = returned[category == name]
        se = np.sqrt(p * (1 - p) / len(got))
        assert abs(got.mean() - p) < Z * se, name
    lag = history["returns"].merge(orders, on=["order_id", "sku"])
    days = (lag["return_date"] - lag["delivery_date"]).dt.days
    assert days.between(*truth.return_days).all()


def test_paid_sessions_follow_the_hill_curve(truth: Truth,
                                             history: dict[str, pd.DataFrame]) -> None:
    dates = pd.date_range(pd.Timestamp(START), periods=DAYS, freq="D")
    ads = history["ad_spend"]
    for c in truth.ad_channels:
        rows = ads[ads["channel"] == c.name]
        spend = rows.groupby("date")["spend"].sum().reindex(dates).to_numpy()
        assert spend.min() == 0 and spend.max() > c.half_saturation_per_day
        a, carried = np.empty(DAYS), spend[0]
        for t in range(DAYS):
            carried = (1 - c.carryover) * spend[t] + c.carryover * carried
            a[t] = carried
        curve = c.max_sessions_per_day * a**c.hill_exponent / (
            a**c.hill_exponent + c.half_saturation_per_day**c.hill_exponent)
        for market, share in c.market_shares.items():
            got = rows[rows["market"] == market].set_index("date")["sessions"].reindex(dates)
            expected = curve * share * _season(truth, market, dates)
            live = expected > 1
            ratio = got.to_numpy()[live].sum() / expected[live].sum()
            assert abs(ratio - 1) < 0.03, (c.name, market, ratio)


def test_orders_details(truth: Truth, history: dict[str, pd.DataFrame]) -> None:
    orders = history["orders"]
    assert abs((orders["status"] == "cancelled").mean() - truth.cancel_probability) < 0.003
    cancelled = orders["status"] == "cancelled"
    assert orders.loc[cancelled, "ship_date"].isna().all()
    shipped = orders[~cancelled & orders["delivery_date"].notna()]
    assert (shipped["order_date"] <= shipped["ship_date"]).all()
    assert (shipped["ship_date"] < shipped["delivery_date"]).all()
    skus = history["skus"].set_index("sku")
    for market in truth.markets:
        mine = orders[orders["market"] == market.name]
        assert (mine["currency"] == market.currency).all()
        list_price = mine["sku"].map(skus[f"price_{market.name}"]).to_numpy()
        paid = mine["unit_price"].to_numpy()
        discount = mine["promotion_discount"].to_numpy()
        assert np.allclose((list_price - paid) * mine["quantity"].to_numpy(float), discount,
                           atol=0.011 * mine["quantity"].to_numpy(float))
        promoted = (discount > 0).mean()
        assert 0.5 * truth.promotion_probability < promoted < 2 * truth.promotion_probability


def test_stockouts_censor_whole_weeks(truth: Truth) -> None:
    censored = dataclasses.replace(truth, stockout_share=0.3)
    orders = generate(censored, START, 140, seed=2)["orders"]
    week = (orders["order_date"] - pd.Timestamp(START)).dt.days // 7
    top = censored.skus[int(np.argmax(censored.popularity))].sku
    sold = orders[orders["sku"] == top].assign(week=week).groupby("market")["week"].nunique()
    assert (sold < 20).all() and (sold > 5).all()


def test_canonical_columns_and_types(history: dict[str, pd.DataFrame]) -> None:
    assert set(history) == {"skus", "suppliers", "markets", "orders", "returns",
                            "purchase_orders", "shipments", "ad_spend", "traffic"}
    for name, frame in history.items():
        table = TABLES[name]
        assert set(table.required) <= set(frame.columns), name
        for column in frame.columns:
            spec = table.column(str(column))
            assert spec is not None, (name, column)
            if spec.kind == "date":
                assert pd.api.types.is_datetime64_dtype(frame[column]), (name, column)
            else:
                assert str(frame[column].dtype) == PANDAS_TYPES[spec.kind], (name, column)
        pd.testing.assert_frame_equal(typed(frame, table), frame)
        if table.key:
            assert not frame.duplicated(list(table.key)).any(), name


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    small = example_truth(40, years=0.5, seed=1)
    runs = [write_csv(generate(small, START, 120, seed), tmp_path / str(i))
            for i, seed in enumerate((7, 7, 8))]
    same = [a.read_bytes() == b.read_bytes() for a, b in zip(runs[0], runs[1], strict=True)]
    other = [a.read_bytes() == b.read_bytes() for a, b in zip(runs[0], runs[2], strict=True)]
    assert all(same)
    assert not other[runs[0].index(tmp_path / "0" / "orders.csv")]


def test_truth_round_trips_through_json(truth: Truth) -> None:
    assert truth_from_json(truth_to_json(truth)) == truth


def test_bad_truths_are_refused(truth: Truth) -> None:
    with pytest.raises(TruthError, match="average 1"):
        dataclasses.replace(truth, seasonality_by_month=(1.1,) * 12)
    with pytest.raises(TruthError, match="unknown markets"):
        dataclasses.replace(truth, peak_events=(dataclasses.replace(
            truth.peak_events[0], markets=("FR",)),))
    with pytest.raises(TruthError, match="example markets"):
        example_truth(10, ("XX",))


def test_shipped_example_is_what_the_script_writes(tmp_path: Path) -> None:
    shipped = ROOT / "scenarios" / "example_seller"
    written = write_example(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in shipped.iterdir())
    for path in written:
        assert csv_text(path) == csv_text(shipped / path.name), path.name
    assert sum(p.stat().st_size for p in shipped.iterdir()) < 3_000_000
