"""A run by market: each market's profit and loss, and on-time delivery by market and mode.

Most ledger entries name their market. The rest are shared out so that the markets add up to
the whole: advertising only among the markets its paid traffic reaches (each channel's
sessions times its market shares), warehouse storage and receiving fees by units sold, cost
of goods sold and write-offs by the landed value of each market's order lines. A market no
ad channel reaches carries no advertising.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from experiments.report.numbers import number, percent
from experiments.report.text import Part

BY_UNITS = ("storage", "inbound_fee")
BY_LANDED_VALUE = ("cogs", "write_off")
LANDED = ("product_cost_cny", "inbound_freight_cny", "import_duty_cny")


def ad_shares(daily: pd.DataFrame, scenario: Mapping[str, Any]) -> dict[str, float]:
    """Each market's share of the paid sessions over the run (sums to 1, or empty when no
    paid session was bought)."""
    reached: dict[str, float] = {}
    for channel, spec in scenario.get("ad_channels", {}).items():
        sessions = float(daily.get(f"sessions_{channel}", pd.Series(dtype=float)).sum())
        for market, share in spec.get("market_shares", {}).items():
            reached[market] = reached.get(market, 0.0) + sessions * float(share)
    total = sum(reached.values())
    return {m: v / total for m, v in reached.items()} if total > 0 else {}


def market_flows(orders: pd.DataFrame, ledger: pd.DataFrame, daily: pd.DataFrame,
                 scenario: Mapping[str, Any], pnl: Mapping[str, float]
                 ) -> dict[str, dict[str, float]]:
    """Each market's P&L lines (summary convention: cogs and write-offs positive), shared
    entries allocated as the module says; the markets' lines sum to the run's."""
    markets = [str(m) for m in scenario["markets"]]
    booked = ledger.assign(market=ledger["market"].astype(str)).pivot_table(
        index="market", columns="category", values="amount_cny", aggfunc="sum",
        observed=True, fill_value=0.0)
    sums = orders.groupby(orders["market"].astype(str))[
        ["units", "revenue_cny", *LANDED]].sum()
    units, revenue = sums["units"], sums["revenue_cny"]
    landed = sums[list(LANDED)].sum(axis=1)
    shares = {"units": _shares(units, markets), "landed": _shares(landed, markets),
              "ads": ad_shares(daily, scenario) or _shares(revenue, markets)}
    flows: dict[str, dict[str, float]] = {m: {} for m in markets}
    for category in booked.columns:
        column = booked[category]
        shared = float(column.drop(markets, errors="ignore").sum())
        key = "ads" if category == "ads" else "units"
        for m in markets:
            flows[m][str(category)] = float(column.get(m, 0.0)) + shared * shares[key].get(m, 0.0)
    for line in BY_LANDED_VALUE:
        for m in markets:
            flows[m][line] = float(pnl.get(line, 0.0)) * shares["landed"].get(m, 0.0)
    return flows


def _shares(values: pd.Series, markets: list[str]) -> dict[str, float]:
    total = float(values.reindex(markets).fillna(0.0).sum())
    if total <= 0:
        return {m: 1.0 / len(markets) for m in markets}
    return {m: float(values.get(m, 0.0)) / total for m in markets}


def on_time(orders: pd.DataFrame, warmup_days: int) -> pd.DataFrame:
    """Delivered orders after the warm-up by market and mode: count, on-time share, mean and
    95th-percentile days, the promise."""
    rows = orders[(orders["order_day"] >= warmup_days) & ~orders["lost"]]
    grouped = rows.groupby(["market", "mode"], observed=True)  # categories: no row to text
    table = grouped.agg(orders=("on_time", "size"), on_time=("on_time", "mean"),
                        mean_days=("delivery_days", "mean"),
                        promise=("promise_days", "median"))
    table["p95_days"] = grouped["delivery_days"].quantile(0.95)
    table = table.reset_index().astype({"market": str, "mode": str})
    return table.sort_values(["market", "mode"], kind="stable", ignore_index=True)


def on_time_part(table: pd.DataFrame) -> Part:
    rows = [[r.market, r.mode, number(r.orders), percent(r.on_time), number(r.mean_days, 1),
             number(r.p95_days, 1), number(r.promise, 1)] for r in table.itertuples()]
    return Part("On-time delivery by market and mode (delivered orders after the warm-up)",
                ["market", "mode", "orders delivered", "on time", "mean days",
                 "95th pct days", "promise days"], rows,
                [False, False, True, True, True, True, True])


def worst_on_time(table: pd.DataFrame) -> str:
    """``UK dedicated_line 93.1 %``: the market and mode most often late."""
    if table.empty:
        return ""
    row = table.loc[int(np.argmin(table["on_time"].to_numpy()))]
    return f"{row['market']} {row['mode']} {percent(row['on_time'])}"
