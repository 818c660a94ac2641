"""The figures of one simulated run: traffic, stock, delivery, cash and customer service.

Each function draws one PNG from a run's tables and returns its path. Calendar windows are
shaded where they explain what the curves do: peak events on the traffic, factory shutdowns
and port congestion on the stock pipeline. Time runs in calendar dates, money in million
CNY, stock in units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator

from experiments.report.plots import panel_grid, save_figure

SHADE = {"peak": "#ff7f0e", "supply": "#9467bd"}


@dataclass(frozen=True)
class Span:
    """A named calendar window; ``kind`` is 'peak' (demand) or 'supply' (shutdown,
    congestion) and picks its shade."""

    name: str
    start: np.datetime64
    end: np.datetime64
    kind: str


def traffic(daily: pd.DataFrame, spans: list[Span], path: Path) -> Path:
    """Sessions by source, stacked, and orders per day; peak events shaded and named."""
    fig = Figure(figsize=(11, 6.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    dates = daily["date"].to_numpy()
    sources = [c for c in daily.columns if c.startswith("sessions_")]
    top.stackplot(dates, *(daily[c].to_numpy() for c in sources), alpha=0.85,
                  labels=[c.removeprefix("sessions_").replace("_", " ") for c in sources])
    top.set_ylabel("sessions per day")
    top.set_title("Sessions by source and orders per day (peak events shaded)")
    top.legend(loc="upper left", fontsize=9, ncols=min(len(sources), 5))
    bottom.plot(dates, daily["orders"], color="#1f77b4", linewidth=1.2, label="orders")
    lost = daily["lost_sales_units"].to_numpy()
    if lost.any():
        _daily_bars(bottom, dates, lost, "#d62728", "lost sales [units]")
    bottom.set_ylabel("orders per day")
    bottom.legend(loc="upper left", fontsize=9)
    peaks = [s for s in spans if s.kind == "peak"]
    for ax in (top, bottom):
        _shade(ax, peaks)
    _name(top, peaks)
    _date_axis(bottom)
    return save_figure(fig, path)


def stock(daily: pd.DataFrame, below: dict[str, np.ndarray], spans: list[Span],
          path: Path) -> Path:
    """Stock on hand per warehouse, how many of its SKUs are below their own reorder point,
    the pipeline (factory shutdowns and congestion shaded) and the selling (warehouse, SKU)
    pairs out of stock."""
    fig = Figure(figsize=(11, 10), layout="constrained")
    on_hand, under, pipeline, out = fig.subplots(4, 1, sharex=True,
                                                 height_ratios=[3, 1.6, 2.2, 1.3])
    dates = daily["date"].to_numpy()
    warehouses = [c.removeprefix("stock_") for c in daily.columns if c.startswith("stock_")]
    for i, name in enumerate(warehouses):
        on_hand.plot(dates, daily[f"stock_{name}"], color=f"C{i}", label=f"{name} on hand")
        if name in below:
            under.plot(dates, below[name], color=f"C{i}", linewidth=1.2, label=name)
    on_hand.set_ylabel("units")
    on_hand.set_title("Stock on hand by warehouse")
    on_hand.legend(loc="upper left", ncols=3)
    under.set_ylabel("SKUs")
    under.set_title("SKUs below their own reorder point, on hand (the point applies to on "
                    "hand + pipeline)")
    if below:
        under.legend(loc="upper left", ncols=3)
    pipeline.stackplot(dates, daily["on_order_units"], daily["in_transit_units"], alpha=0.85,
                       labels=["on order at suppliers", "in transit to overseas warehouses"],
                       colors=["#8c564b", "#17becf"])
    pipeline.set_ylabel("units")
    pipeline.set_title("Pipeline at day end (factory shutdowns and congestion shaded)")
    pipeline.legend(loc="upper left", ncols=2)
    supply = [s for s in spans if s.kind == "supply"]
    _shade(pipeline, supply)
    _name(pipeline, supply)
    short = daily["skus_out_of_stock"].to_numpy()
    _daily_bars(out, dates, short, "#d62728")
    out.set_ylabel("pairs")
    out.set_title(f"Selling (warehouse, SKU) pairs out of stock: {int((short > 0).sum())} "
                  f"stock-out days, {int(short.sum()):,} SKU-days")
    _date_axis(out)
    return save_figure(fig, path)


def delivery(orders: pd.DataFrame, path: Path) -> Path:
    """Delivery-time histogram per mode with each promise it is held to and its on-time share."""
    delivered = orders[~orders["lost"].to_numpy()]
    mode_of = delivered["mode"].astype("category")  # compared by category, not row text
    counts = mode_of.value_counts()
    modes = sorted((str(m) for m in counts.index[counts > 0]),
                   key=lambda m: -int(counts[m]))
    fig, axes = panel_grid(len(modes), 3, 4.4, 3.4)
    top = float(np.quantile(delivered["delivery_days"], 0.995))
    bins = np.arange(0.0, math.ceil(top) + 1.0, 0.5 if top <= 20 else 1.0)
    for ax, mode in zip(axes, modes, strict=False):
        rows_ = delivered[(mode_of == mode).to_numpy()]
        ax.hist(rows_["delivery_days"].clip(upper=bins[-1]), bins=bins, color="#1f77b4")
        for promise in sorted(rows_["promise_days"].unique()):
            ax.axvline(promise, color="#d62728", linestyle="--",
                       label=f"promise {promise:g} days")
        markets = ", ".join(sorted(str(m) for m in rows_["market"].unique()))
        ax.set_title(f"{mode} ({markets}): {rows_['on_time'].mean():.1%} on time",
                     fontsize=10)
        ax.set_xlabel("days from order to delivery")
        ax.set_ylabel("orders")
        ax.legend(fontsize=9)
    fig.suptitle("Delivery time by mode against the promise (delivered orders; the last bin "
                 "holds the slowest 0.5 %)")
    return save_figure(fig, path)


def cash(daily: pd.DataFrame, path: Path) -> Path:
    """Cash position, working capital and the inventory it is tied up in."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax = fig.subplots()
    dates = daily["date"].to_numpy()
    stock_value = (daily["inventory_value_cny"] + daily["in_transit_value_cny"]) / 1e6
    ax.fill_between(dates, 0, stock_value, color="#9467bd", alpha=0.25,
                    label="inventory on hand and in transit")
    ax.plot(dates, daily["working_capital_cny"] / 1e6, color="#ff7f0e",
            label="working capital (inventory + receivables - payables)")
    ax.plot(dates, daily["cash_cny"] / 1e6, color="#1f77b4", linewidth=1.6, label="cash")
    low = int(daily["cash_cny"].to_numpy().argmin())
    lowest = daily["cash_cny"].iloc[low] / 1e6
    ax.plot(dates[low], lowest, "v", color="#1f77b4")
    ax.annotate(f"lowest cash {lowest:,.2f} M", (dates[low], lowest), xytext=(0, -16),
                textcoords="offset points", ha="center", fontsize=9)
    ax.set_ylabel("million CNY")
    ax.set_title("Cash position and working capital")
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)
    _date_axis(ax)
    return save_figure(fig, path)


def service(tickets: pd.DataFrame, daily: pd.DataFrame, first_response_sla_hours: float,
            resolution_sla_hours: float, path: Path) -> Path:
    """The customer-service backlog per day and the slowest tickets against the SLA."""
    fig = Figure(figsize=(11, 6), layout="constrained")
    backlog, hours = fig.subplots(2, 1, sharex=True)
    dates = daily["date"].to_numpy()
    day = np.minimum((tickets["arrival_hour"].to_numpy() // 24).astype(int), len(daily) - 1)
    arrivals = np.bincount(day, minlength=len(daily))
    _daily_bars(backlog, dates, daily["cs_queue"].to_numpy(), "#ff7f0e",
                "waiting for a first response at day end")
    backlog.plot(dates, arrivals, color="#3d444d", linewidth=1, label="tickets arrived")
    backlog.set_ylabel("tickets")
    backlog.set_title("Customer-service backlog and the slowest tickets against the SLA")
    backlog.legend(loc="upper left", fontsize=9)
    p95 = tickets.assign(day=day).groupby("day")[["first_response_hours",
                                                  "resolution_hours"]].quantile(0.95)
    when = dates[p95.index.to_numpy()]
    for column, sla, colour, what in (
            ("first_response_hours", first_response_sla_hours, "#1f77b4", "first response"),
            ("resolution_hours", resolution_sla_hours, "#2ca02c", "resolution")):
        hours.plot(when, p95[column], color=colour, linewidth=1,
                   label=f"95th percentile {what} (by arrival day)")
        hours.axhline(sla, color=colour, linestyle="--", label=f"{what} SLA {sla:g} h")
    hours.set_ylabel("hours")
    top = max(first_response_sla_hours, resolution_sla_hours, float(p95.max().max()))
    hours.set_ylim(0, 1.4 * top)
    hours.legend(loc="upper left", fontsize=9, ncols=2)
    _date_axis(hours)
    return save_figure(fig, path)


def _daily_bars(ax: Axes, dates: np.ndarray, values: np.ndarray, colour: str,
                label: str | None = None) -> None:
    """One bar per day drawn as a single filled step (365 bar patches draw ~10x slower)."""
    ax.fill_between(dates, 0, values, step="mid", color=colour, linewidth=0, label=label)


def _shade(ax: Axes, spans: list[Span]) -> None:
    for span in spans:
        ax.axvspan(date2num(span.start), date2num(span.end), color=SHADE[span.kind],
                   alpha=0.15, linewidth=0)


def _name(ax: Axes, spans: list[Span]) -> None:
    for span in spans:
        ax.annotate(span.name.replace("_", " "), (span.start, 0.02),
                    xycoords=("data", "axes fraction"), rotation=90, va="bottom", ha="right",
                    fontsize=9)


def _date_axis(ax: Axes) -> None:
    """Concise date ticks, placed once for the finished axes' limits: the automatic date
    locator recomputes its calendar rules on each of the dozens of tick updates a layout
    makes (half of a figure's drawing time), for the same ticks. Call it last."""
    locator = AutoDateLocator()
    locator.axis = ax.xaxis  # for the view limits (``set_major_locator`` would also set it)
    ticks = locator()
    concise = ConciseDateFormatter(locator)
    labels = FixedFormatter(concise.format_ticks(ticks))
    labels.set_offset_string(concise.get_offset())
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(labels)
    ax.set_xlabel("date")
