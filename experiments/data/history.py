"""A simulated run written as a seller's history: the canonical tables of ``tables``.

Two uses. Calibration is tested by round trips: simulate a scenario whose parameters are
known, write its history, fit a scenario to it, compare (a second generator, written
independently of the simulator, is ``experiments.data.synthetic``). And the backtest puts
each simulated replication in the same shape as the actuals, so one aggregation compares
them.

What the simulation knows but a seller's export would not show is left out: lost sales are
not orders (demand on stock-out days is censored, as in real history); paid sessions per
market are the channel's daily sessions split by market share x the market's calendar
(exactly how the simulator splits them); organic sessions per market are the day's total
split by each market's expected organic sessions on that day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments.data.tables import write_table
from sim.calendar import Timeline
from sim.demand import ad_spend_schedule, calendar_multiplier
from sim.results import RunResult
from sim.scenario import Scenario


def history_tables(run: RunResult) -> dict[str, pd.DataFrame]:
    """The run's orders, returns, purchase orders, bulk shipments, ad spend and traffic."""
    sc = run.scenario
    start = pd.Timestamp(sc.horizon.start_date)
    orders = _orders(run, start)
    return {
        "orders": orders,
        "returns": _returns(run, orders, start),
        "purchase_orders": _purchase_orders(run, start),
        "shipments": _shipments(run, start),
        **_ads_and_traffic(run, start),
    }


def write_history(run: RunResult, directory: Path) -> list[Path]:
    """The run's history tables as ``directory/<table>.parquet``."""
    return [write_table(directory, name, frame) for name, frame in history_tables(run).items()]


def _date(start: pd.Timestamp, days: pd.Series | np.ndarray) -> pd.Series:
    """Day numbers (floats allowed; negative or NaN: no date) to dates."""
    values = pd.Series(np.asarray(days, dtype=float))
    dates = start + pd.to_timedelta(np.floor(values), unit="D")
    return dates.where(values >= 0)


def _orders(run: RunResult, start: pd.Timestamp) -> pd.DataFrame:
    o = run.orders
    currency = {m: spec.currency for m, spec in run.scenario.markets.items()}
    direct = o["direct"].to_numpy()
    delivered = ~o["lost"].to_numpy()
    return pd.DataFrame({
        "order_id": [f"SIM{run.seed:04d}-{i:08d}" for i in range(len(o))],
        "order_date": _date(start, o["order_day"]),
        "market": o["market"].astype(str).to_numpy(),
        "sku": o["sku"].astype(str).to_numpy(),
        "quantity": o["units"].to_numpy(),
        "unit_price": o["price"].to_numpy(),
        "currency": o["market"].astype(str).map(currency).to_numpy(),
        "fulfilment": np.where(direct, "direct", o["warehouse"].astype(str).to_numpy()),
        "ship_date": _date(start, o["ship_day"]),
        "delivery_date": _date(start, np.where(delivered, o["delivery_day"], -1)),
        "promotion_discount": 0.0,
        "status": "shipped",
    })


def _returns(run: RunResult, orders: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    o = run.orders
    back = o["returned"].to_numpy()
    return pd.DataFrame({
        "order_id": orders["order_id"].to_numpy()[back],
        "sku": orders["sku"].to_numpy()[back],
        "quantity": orders["quantity"].to_numpy()[back],
        "return_date": _date(start, o["return_day"].to_numpy()[back]).to_numpy(),
        "reason": np.where(o["damaged"].to_numpy()[back], "damaged",
                           np.where(o["on_time"].to_numpy()[back], "changed mind", "late")),
    })


def _purchase_orders(run: RunResult, start: pd.Timestamp) -> pd.DataFrame:
    s = run.shipments
    po = s[s["kind"] == "purchase_order"].reset_index(drop=True)
    supplier = {sku: spec.supplier for sku, spec in run.scenario.skus.items()}
    received = _date(start, po["arrived_day"].fillna(-1))
    return pd.DataFrame({
        "po_id": [f"PO{run.seed:04d}-{int(i):06d}" for i in po["shipment"]],
        "supplier": po["sku"].astype(str).map(supplier).to_numpy(),
        "sku": po["sku"].astype(str).to_numpy(),
        "quantity": po["ordered_units"].to_numpy(),
        "order_date": _date(start, po["created_day"]),
        "ready_date": received,
        "received_date": received,
    })


def _shipments(run: RunResult, start: pd.Timestamp) -> pd.DataFrame:
    s = run.shipments
    bulk = s[s["kind"] == "bulk"].reset_index(drop=True)
    return pd.DataFrame({
        "shipment_id": [f"SH{run.seed:04d}-{int(i):06d}" for i in bulk["shipment"]],
        "lane": bulk["origin"].astype(str) + ">" + bulk["destination"].astype(str),
        "mode": bulk["mode"].astype(str).to_numpy(),
        "sku": bulk["sku"].astype(str).to_numpy(),
        "units": bulk["ordered_units"].to_numpy(),
        "ship_date": _date(start, bulk["departed_day"]),
        "arrival_date": _date(start, bulk["arrived_day"].fillna(-1)),
        "cost_cny": bulk["freight_cny"].to_numpy(),
    })


def _ads_and_traffic(run: RunResult, start: pd.Timestamp) -> dict[str, pd.DataFrame]:
    sc = run.scenario
    days = len(run.daily)
    markets, channels = list(sc.markets), list(sc.ad_channels)
    dates = start + pd.to_timedelta(np.arange(days), unit="D")
    season = _season(sc, markets)[:, :days]                       # [market, day]
    spend = ad_spend_schedule(sc, channels, days)                  # [channel, day]
    ads, traffic = [], []
    for c, name in enumerate(channels):
        spec = sc.ad_channels[name]
        shares = np.array([spec.market_shares.get(m, 0.0) for m in markets])
        weight = shares[:, None] * (season if spec.follows_calendar else 1.0)
        split = weight / np.where(weight.sum(axis=0) > 0, weight.sum(axis=0), 1.0)
        sessions = run.daily[f"sessions_{name}"].to_numpy()[None, :] * split
        for m, market in enumerate(markets):
            if shares[m] == 0:
                continue
            ads.append(pd.DataFrame({
                "date": dates, "channel": name, "market": market,
                "spend": spend[c] * shares[m], "currency": spec.currency,
                "sessions": sessions[m]}))
            traffic.append(pd.DataFrame({"date": dates, "market": market, "source": name,
                                         "sessions": sessions[m]}))
    organic = np.array([sc.markets[m].organic_sessions_per_day for m in markets])[:, None] \
        * season
    split = organic / np.where(organic.sum(axis=0) > 0, organic.sum(axis=0), 1.0)
    total = run.daily["sessions_organic"].to_numpy()
    for m, market in enumerate(markets):
        traffic.append(pd.DataFrame({"date": dates, "market": market, "source": "organic",
                                     "sessions": total * split[m]}))
    empty = pd.DataFrame(columns=["date", "channel", "market", "spend", "currency",
                                  "sessions"])
    return {"ad_spend": pd.concat(ads, ignore_index=True) if ads else empty,
            "traffic": pd.concat(traffic, ignore_index=True)}


def _season(scenario: Scenario, markets: list[str]) -> np.ndarray:
    """season_m(t) [market, day]: monthly seasonality x the market's peak multipliers."""
    timeline = Timeline.build(scenario, markets, list(scenario.modes))
    return calendar_multiplier(timeline)
