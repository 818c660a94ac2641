"""Seller histories drawn from known parameters, by a generator that owes nothing to ``sim``.

Calibration is tested by round trips: draw a history from a known ``Truth``, fit a scenario
to it, compare. If the history came from the simulator, a fitter that shares the
simulator's assumptions would pass whether or not those assumptions are right; this module
draws the same canonical tables (``experiments.data.tables``) from its own, simpler story.

The story of a day ``t`` in market ``m``, with ``season_m(t)`` = the month's seasonality x
the multipliers of the peak events running in ``m`` that day:

- Organic demand is ``level_m x season_m(t) x G`` orders, ``G ~ Gamma(mean 1, cv)`` (so
  daily orders are negative-binomial); the traffic table shows it as sessions, orders /
  the market's conversion rate.
- Each ad channel ``c`` spends ``spend_c(t)`` a day (a weekly level drawn from its
  ``spend_levels``, so the spend sweeps the response curve, including dark weeks that show
  the carry-over), carried over as ``a_t = (1 - r) spend_t + r a_{t-1}`` from
  ``a_{-1} = spend_0``. It buys ``S a^n / (a^n + K^n)`` sessions, split by the channel's
  market shares and scaled by ``season_m(t)`` and a Gamma noise; each session converts with
  the channel's probability. Spend is reported per market as spend x share.
- The day's orders, ``Poisson(organic + paid)``, go to SKUs multinomially by popularity;
  an order is one line of ``1 + Poisson`` units at the market's list price, less a
  promotion in promoted SKU-market-weeks. A share of SKU-market-weeks is out of stock:
  their orders are lost, not recorded (censored demand). About 1 % of orders are cancelled.
- Shipped orders leave after the market's handling days and arrive after its delivery
  days; each line is returned whole with its category's probability, a few days after
  delivery. Nothing after the last day is shown: late receipts, arrivals and returns are
  left open, as in an export taken that day.
- Each supplier receives a purchase order every few days holding a share of its SKUs
  (quantities follow expected demand); each order arrives after one lognormal lead time.
  Each bulk lane departs every few days with a share of the SKUs its markets sell; each
  departure arrives after one gamma transit time.

One ``numpy.random.SeedSequence`` per history, one named stream per part, so a seed gives
the same tables byte for byte and changing one part leaves the others' draws alone.
"""

from __future__ import annotations

import calendar
import gzip
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.data.tables import TABLES, typed

STREAMS = ("ads", "organic", "orders", "returns", "supply", "transit")
"""Named random streams, spawned from the seed in this order."""

RETURN_REASONS = ("changed mind", "defective", "not as described", "arrived late")
RETURN_REASON_SHARES = (0.45, 0.25, 0.20, 0.10)


class TruthError(ValueError):
    """Parameters a history cannot be drawn from; the message names the field."""


@dataclass(frozen=True)
class Market:
    """A selling country; ``prices`` are list prices in its currency, one per SKU of the
    truth, in the order of ``Truth.skus``."""

    name: str
    currency: str
    fx_to_cny: float
    vat_rate: float
    duty_rate: float
    timezone: str
    organic_orders_per_day: float
    """Organic orders a day at seasonality 1."""
    conversion_rate: float
    """Orders per organic session (turns organic orders into the sessions reported)."""
    daily_noise_cv: float
    """Day-to-day variation of organic demand and paid sessions."""
    fulfilment: str
    """Warehouse that ships its orders, or ``direct`` (parcels from China)."""
    handling_days: tuple[int, int]
    """Order to ship, uniform over whole days (inclusive)."""
    delivery_days: tuple[int, int]
    """Ship to delivery, uniform over whole days (inclusive)."""
    prices: tuple[float, ...]


@dataclass(frozen=True)
class Sku:
    """A product; ``popularity`` is its share of units (shares are normalised to sum 1)."""

    sku: str
    category: str
    supplier: str
    unit_cost_cny: float
    weight_kg: float
    volume_m3: float
    popularity: float


@dataclass(frozen=True)
class PeakEvent:
    """Demand x ``multiplier`` in ``markets`` for ``days`` days from ``start``."""

    name: str
    start: date
    days: int
    multiplier: float
    markets: tuple[str, ...]


@dataclass(frozen=True)
class AdChannel:
    """Paid sessions a day = ``max_sessions x a^n / (a^n + half_saturation^n)`` with the
    adstock ``a`` in channel currency per day; ``spend_per_day`` x a weekly level drawn
    from ``spend_levels`` is what the seller spends."""

    name: str
    currency: str
    half_saturation_per_day: float
    max_sessions_per_day: float
    hill_exponent: float
    carryover: float
    conversion_rate: float
    market_shares: dict[str, float]
    spend_per_day: float
    spend_levels: tuple[float, ...]
    spend_jitter_cv: float
    """Day-to-day variation of spend within a week."""


@dataclass(frozen=True)
class Supplier:
    """A factory: each PO arrives ``lognormal(lead_time_mean_days, lead_time_cv)`` days
    after it is placed (rounded to whole days)."""

    name: str
    warehouse: str
    lead_time_mean_days: float
    lead_time_cv: float
    moq_units: int
    payment_terms_days: int
    po_every_days: int
    sku_share_per_po: float
    """Share of the supplier's SKUs on each PO (each SKU is reordered every
    ``po_every_days / sku_share_per_po`` days on average)."""


@dataclass(frozen=True)
class Lane:
    """A bulk leg: each departure arrives ``gamma(transit_mean_days, transit_cv)`` days
    after it leaves (rounded to whole days, at least one)."""

    origin: str
    destination: str
    mode: str
    transit_mean_days: float
    transit_cv: float
    departs_every_days: int
    sku_share_per_shipment: float
    cost_per_m3_cny: float

    @property
    def name(self) -> str:
        return f"{self.origin}>{self.destination}"


@dataclass(frozen=True)
class Truth:
    """Everything a history is drawn from, in the terms calibration fits."""

    markets: tuple[Market, ...]
    skus: tuple[Sku, ...]
    suppliers: tuple[Supplier, ...]
    seasonality_by_month: tuple[float, ...]
    peak_events: tuple[PeakEvent, ...]
    ad_channels: tuple[AdChannel, ...]
    lanes: tuple[Lane, ...]
    return_probability: dict[str, float]
    """Share of shipped lines returned (whole), per category."""
    return_days: tuple[int, int] = (2, 20)
    """Delivery to return, uniform over whole days (inclusive)."""
    extra_units_mean: float = 0.15
    """Units per line are 1 + Poisson(extra_units_mean)."""
    cancel_probability: float = 0.01
    promotion_probability: float = 0.03
    """Share of SKU-market-weeks on promotion."""
    promotion_discounts: tuple[float, ...] = (0.10, 0.15, 0.20, 0.30)
    """Discounts a promotion may take, as shares of the list price (drawn uniformly)."""
    stockout_share: float = 0.0
    """Share of SKU-market-weeks out of stock (their demand is lost, not recorded)."""

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def popularity(self) -> np.ndarray:
        """SKU shares of units, summing to 1."""
        weights = np.array([s.popularity for s in self.skus], dtype=float)
        return weights / weights.sum()


def _validate(truth: Truth) -> None:
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise TruthError(message)

    season = np.array(truth.seasonality_by_month, dtype=float)
    need(season.shape == (12,), f"seasonality_by_month needs 12 values, got {season.size}")
    need(bool((season > 0).all()), "seasonality_by_month must be > 0")
    need(abs(season.mean() - 1) < 1e-6,
         f"seasonality_by_month must average 1, got {season.mean():.6f}")
    names = [m.name for m in truth.markets]
    need(len(names) > 0, "a truth needs at least one market")
    need(len(set(names)) == len(names), f"market names repeat: {names}")
    skus = [s.sku for s in truth.skus]
    need(len(skus) > 0, "a truth needs at least one SKU")
    need(len(set(skus)) == len(skus), "SKU codes repeat")
    need(min(s.popularity for s in truth.skus) >= 0, "SKU popularity must be >= 0")
    need(sum(s.popularity for s in truth.skus) > 0, "SKU popularity must not all be 0")
    for m in truth.markets:
        need(len(m.prices) == len(skus), f"market {m.name}: {len(m.prices)} prices for "
             f"{len(skus)} SKUs")
        need(min(m.prices) > 0, f"market {m.name}: prices must be > 0")
        need(m.organic_orders_per_day >= 0, f"market {m.name}: orders per day must be >= 0")
        need(0 < m.conversion_rate <= 1, f"market {m.name}: conversion_rate must be in (0, 1]")
        for what, (low, high) in (("handling_days", m.handling_days),
                                  ("delivery_days", m.delivery_days)):
            need(0 <= low <= high, f"market {m.name}: {what} must be 0 <= low <= high")
    suppliers = {s.name for s in truth.suppliers}
    missing = sorted({s.supplier for s in truth.skus} - suppliers)
    need(not missing, f"SKUs name unknown suppliers: {missing}")
    missing = sorted({s.category for s in truth.skus} - set(truth.return_probability))
    need(not missing, f"return_probability lacks categories: {missing}")
    need(all(0 <= p <= 1 for p in truth.return_probability.values()),
         "return probabilities must be in [0, 1]")
    for event in truth.peak_events:
        unknown = sorted(set(event.markets) - set(names))
        need(not unknown, f"peak event {event.name}: unknown markets {unknown}")
        need(event.days > 0 and event.multiplier > 0,
             f"peak event {event.name}: days and multiplier must be > 0")
    for c in truth.ad_channels:
        unknown = sorted(set(c.market_shares) - set(names))
        need(not unknown, f"ad channel {c.name}: unknown markets {unknown}")
        need(c.half_saturation_per_day > 0 and c.hill_exponent > 0,
             f"ad channel {c.name}: half saturation and Hill exponent must be > 0")
        need(0 <= c.carryover < 1, f"ad channel {c.name}: carryover must be in [0, 1)")
        need(len(c.spend_levels) > 0 and min(c.spend_levels) >= 0,
             f"ad channel {c.name}: spend_levels must be non-empty and >= 0")
    for s in truth.suppliers:
        need(s.lead_time_mean_days > 0 and s.po_every_days > 0 and
             0 < s.sku_share_per_po <= 1, f"supplier {s.name}: lead time and PO cadence "
             "must be > 0, sku_share_per_po in (0, 1]")
    served = {m.fulfilment for m in truth.markets}
    for lane in truth.lanes:
        need(lane.destination in served, f"lane {lane.name}: no market is fulfilled from "
             f"{lane.destination}")
        need(lane.transit_mean_days > 0 and lane.departs_every_days > 0 and
             0 < lane.sku_share_per_shipment <= 1, f"lane {lane.name}: transit and cadence "
             "must be > 0, sku_share_per_shipment in (0, 1]")
    for what, p in (("cancel_probability", truth.cancel_probability),
                    ("promotion_probability", truth.promotion_probability),
                    ("stockout_share", truth.stockout_share)):
        need(0 <= p < 1, f"{what} must be in [0, 1)")
    need(len(truth.promotion_discounts) > 0 and
         all(0 < d < 1 for d in truth.promotion_discounts),
         "promotion_discounts must be non-empty shares in (0, 1)")


# ---------------------------------------------------------------- the history


def generate(truth: Truth, start: date, days: int, seed: int) -> dict[str, pd.DataFrame]:
    """Every canonical history table plus the ``skus``, ``suppliers`` and ``markets`` master
    tables, for ``days`` days from ``start``, in canonical types."""
    if days <= 0:
        raise TruthError(f"days must be > 0, got {days}")
    rng = dict(zip(STREAMS, (np.random.default_rng(s)
                             for s in np.random.SeedSequence(seed).spawn(len(STREAMS))),
                   strict=True))
    dates = pd.date_range(pd.Timestamp(start), periods=days, freq="D")
    season = season_multiplier(truth, dates)
    ad_spend, paid_traffic, paid_orders = _ads(truth, dates, season, rng["ads"])
    organic_traffic, organic_orders = _organic(truth, dates, season, rng["organic"])
    rate = organic_orders + paid_orders
    units_per_day = truth.popularity * rate.mean(axis=1).sum() * (1 + truth.extra_units_mean)
    orders = _orders(truth, dates, rate, rng["orders"])
    tables = {
        "skus": _skus_table(truth),
        "suppliers": _suppliers_table(truth),
        "markets": _markets_table(truth),
        "orders": orders,
        "returns": _returns(truth, orders, dates[-1], rng["returns"]),
        "purchase_orders": _purchase_orders(truth, dates, units_per_day, rng["supply"]),
        "shipments": _shipments(truth, dates, rate, rng["transit"]),
        "ad_spend": ad_spend,
        "traffic": pd.concat([organic_traffic, paid_traffic], ignore_index=True),
    }
    return {name: typed(frame, TABLES[name]) for name, frame in tables.items()}


def season_multiplier(truth: Truth, dates: pd.DatetimeIndex) -> np.ndarray:
    """``season_m(t)`` [market, day]: monthly seasonality x running peak multipliers."""
    monthly = np.asarray(truth.seasonality_by_month)[dates.month.to_numpy() - 1]
    season = np.tile(monthly, (len(truth.markets), 1))
    names = [m.name for m in truth.markets]
    for event in truth.peak_events:
        first = pd.Timestamp(event.start)
        on = (dates >= first) & (dates < first + pd.Timedelta(days=event.days))
        for market in event.markets:
            season[names.index(market), on] *= event.multiplier
    return season


def hill(adstock: np.ndarray, channel: AdChannel) -> np.ndarray:
    """Paid sessions a day bought by an adstock, before season and noise."""
    x = np.power(adstock, channel.hill_exponent)
    return channel.max_sessions_per_day * x / (x + channel.half_saturation_per_day
                                               ** channel.hill_exponent)


def adstock(spend: np.ndarray, carryover: float) -> np.ndarray:
    """``a_t = (1 - r) spend_t + r a_{t-1}`` from ``a_{-1} = spend_0``."""
    out = np.empty_like(spend, dtype=float)
    carried = float(spend[0]) if spend.size else 0.0
    for t, value in enumerate(spend):
        carried = (1 - carryover) * value + carryover * carried
        out[t] = carried
    return out


def _gamma_noise(rng: np.random.Generator, cv: float, shape: tuple[int, ...]) -> np.ndarray:
    """Multiplicative noise with mean 1 and the given coefficient of variation."""
    if cv <= 0:
        return np.ones(shape)
    k = 1 / cv**2
    return rng.gamma(k, 1 / k, shape)


def _ads(truth: Truth, dates: pd.DatetimeIndex, season: np.ndarray, rng: np.random.Generator
         ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Ad spend and paid traffic tables, and paid orders expected [market, day]."""
    days, names = len(dates), [m.name for m in truth.markets]
    week = np.arange(days) // 7
    cv = np.array([m.daily_noise_cv for m in truth.markets])
    paid = np.zeros((len(names), days))
    spend_rows, traffic_rows = [], []
    for c in truth.ad_channels:
        levels = rng.choice(np.asarray(c.spend_levels, dtype=float), size=week[-1] + 1)
        jitter = np.clip(1 + c.spend_jitter_cv * rng.standard_normal(days), 0, None)
        spend = np.round(c.spend_per_day * levels[week] * jitter, 2)
        sessions_total = hill(adstock(spend, c.carryover), c)
        for m, market in enumerate(names):
            share = c.market_shares.get(market, 0.0)
            if share == 0:
                continue
            sessions = sessions_total * share * season[m] * _gamma_noise(rng, cv[m], (days,))
            paid[m] += sessions * c.conversion_rate
            spend_rows.append(pd.DataFrame({
                "date": dates, "channel": c.name, "market": market,
                "spend": np.round(spend * share, 2), "currency": c.currency,
                "sessions": np.round(sessions, 1)}))
            traffic_rows.append(pd.DataFrame({"date": dates, "market": market,
                                              "source": c.name,
                                              "sessions": np.round(sessions, 1)}))
    columns = {"ad_spend": ["date", "channel", "market", "spend", "currency", "sessions"],
               "traffic": ["date", "market", "source", "sessions"]}
    ad_spend = (pd.concat(spend_rows, ignore_index=True) if spend_rows
                else pd.DataFrame(columns=columns["ad_spend"]))
    traffic = (pd.concat(traffic_rows, ignore_index=True) if traffic_rows
               else pd.DataFrame(columns=columns["traffic"]))
    return ad_spend, traffic, paid


def _organic(truth: Truth, dates: pd.DatetimeIndex, season: np.ndarray,
             rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Organic traffic table and organic orders expected [market, day]."""
    rows, expected = [], np.empty_like(season)
    for m, market in enumerate(truth.markets):
        noise = _gamma_noise(rng, market.daily_noise_cv, (len(dates),))
        expected[m] = market.organic_orders_per_day * season[m] * noise
        rows.append(pd.DataFrame({"date": dates, "market": market.name, "source": "organic",
                                  "sessions": np.round(expected[m] / market.conversion_rate,
                                                       1)}))
    return pd.concat(rows, ignore_index=True), expected


def _orders(truth: Truth, dates: pd.DatetimeIndex, rate: np.ndarray,
            rng: np.random.Generator) -> pd.DataFrame:
    """Order lines, one per order, by day, market and SKU."""
    n_markets, days = rate.shape
    n_skus, weeks = len(truth.skus), (days + 6) // 7
    week = np.arange(days) // 7
    counts = rng.multinomial(rng.poisson(rate.T).ravel(), truth.popularity)
    counts = counts.reshape(days, n_markets, n_skus)
    out_of_stock = rng.random((weeks, n_markets, n_skus)) < truth.stockout_share
    counts[out_of_stock[week]] = 0
    cell = np.flatnonzero(counts)
    cell = np.repeat(cell, counts.ravel()[cell])
    day, market, sku = np.unravel_index(cell, counts.shape)
    lines = cell.size

    quantity = 1 + rng.poisson(truth.extra_units_mean, lines)
    promoted = rng.random((weeks, n_markets, n_skus)) < truth.promotion_probability
    discount = rng.choice(np.asarray(truth.promotion_discounts), (weeks, n_markets, n_skus))
    off = np.where(promoted, discount, 0.0)[week[day], market, sku]
    prices = np.array([m.prices for m in truth.markets])
    list_price = prices[market, sku]
    unit_price = np.round(list_price * (1 - off), 2)
    cancelled = rng.random(lines) < truth.cancel_probability
    handling = _uniform_days(rng, [m.handling_days for m in truth.markets], market)
    delivery = _uniform_days(rng, [m.delivery_days for m in truth.markets], market)
    ship_day = np.where(cancelled, days, day + handling)
    delivery_day = np.where(cancelled, days, ship_day + delivery)

    return pd.DataFrame({
        "order_id": [f"SO{i:09d}" for i in range(lines)],
        "order_date": dates[day],
        "market": _names([m.name for m in truth.markets], market),
        "sku": _names([s.sku for s in truth.skus], sku),
        "quantity": quantity,
        "unit_price": unit_price,
        "currency": _names([m.currency for m in truth.markets], market),
        "fulfilment": _names([m.fulfilment for m in truth.markets], market),
        "ship_date": _day_dates(dates, ship_day),
        "delivery_date": _day_dates(dates, delivery_day),
        "promotion_discount": np.round((list_price - unit_price) * quantity, 2),
        "status": np.where(cancelled, "cancelled", "shipped"),
    })


def _uniform_days(rng: np.random.Generator, ranges: list[tuple[int, int]],
                  index: np.ndarray) -> np.ndarray:
    """Whole days uniform over each row's (low, high) range, inclusive."""
    low, high = np.array(ranges).T
    return low[index] + np.floor(rng.random(index.size) * (high - low + 1)[index]).astype(int)


def _names(names: list[str], index: np.ndarray) -> np.ndarray:
    return np.asarray(names, dtype=object)[index]


def _day_dates(dates: pd.DatetimeIndex, day: np.ndarray) -> np.ndarray:
    """Day numbers to dates; days past the last one are not known yet (NaT)."""
    values = dates[0].to_datetime64() + day.astype("timedelta64[D]")
    return np.where(day < len(dates), values, np.datetime64("NaT"))


def _returns(truth: Truth, orders: pd.DataFrame, last: pd.Timestamp,
             rng: np.random.Generator) -> pd.DataFrame:
    """Whole lines returned with their category's probability, after delivery."""
    category = {s.sku: s.category for s in truth.skus}
    probability = orders["sku"].map(category).map(truth.return_probability).to_numpy(float)
    delivered = orders["delivery_date"].notna().to_numpy()
    back = delivered & (rng.random(len(orders)) < probability)
    low, high = truth.return_days
    lag = rng.integers(low, high + 1, len(orders))
    when = orders["delivery_date"] + pd.to_timedelta(lag, unit="D")
    back &= (when <= last).to_numpy()
    reason = rng.choice(len(RETURN_REASONS), len(orders), p=RETURN_REASON_SHARES)
    return pd.DataFrame({
        "order_id": orders["order_id"].to_numpy()[back],
        "sku": orders["sku"].to_numpy()[back],
        "quantity": orders["quantity"].to_numpy()[back],
        "return_date": when.to_numpy()[back],
        "reason": _names(list(RETURN_REASONS), reason[back]),
    })


def _lognormal_days(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    sigma2 = np.log1p(cv**2)
    draws = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)
    return np.maximum(np.rint(draws), 1).astype(int)


def _gamma_days(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    k = 1 / cv**2
    return np.maximum(np.rint(rng.gamma(k, mean / k, n)), 1).astype(int)


def _purchase_orders(truth: Truth, dates: pd.DatetimeIndex, units_per_day: np.ndarray,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Periodic POs per supplier: a share of its SKUs, one lognormal lead time each."""
    days, frames, serial = len(dates), [], 0
    supplier_of = np.array([s.supplier for s in truth.skus])
    for s in truth.suppliers:
        mine = np.flatnonzero(supplier_of == s.name)
        placed = np.arange(int(rng.integers(s.po_every_days)), days, s.po_every_days)
        lead = _lognormal_days(rng, s.lead_time_mean_days, s.lead_time_cv, placed.size)
        on = rng.random((placed.size, mine.size)) < s.sku_share_per_po
        po, line = np.nonzero(on)
        cover = s.po_every_days / s.sku_share_per_po
        noise = rng.lognormal(0.0, 0.25, po.size)
        quantity = np.maximum(s.moq_units, np.rint(units_per_day[mine[line]] * cover * noise))
        frames.append(pd.DataFrame({
            "po_id": [f"PO{serial + i:06d}" for i in po],
            "supplier": s.name,
            "sku": _names([k.sku for k in truth.skus], mine[line]),
            "quantity": quantity.astype(int),
            "order_date": dates[placed[po]],
            "received_date": _day_dates(dates, placed[po] + lead[po]),
        }))
        serial += placed.size
    return pd.concat(frames, ignore_index=True).sort_values(
        ["order_date", "po_id", "sku"], kind="stable", ignore_index=True)


def _shipments(truth: Truth, dates: pd.DatetimeIndex, rate: np.ndarray,
               rng: np.random.Generator) -> pd.DataFrame:
    """Periodic bulk departures per lane: a share of the SKUs its markets sell, one gamma
    transit time each."""
    days, frames, serial = len(dates), [], 0
    volume = np.array([s.volume_m3 for s in truth.skus])
    fulfilment = np.array([m.fulfilment for m in truth.markets])
    for lane in truth.lanes:
        orders_per_day = rate[fulfilment == lane.destination].mean(axis=1).sum()
        units_per_day = truth.popularity * orders_per_day * (1 + truth.extra_units_mean)
        left = np.arange(int(rng.integers(lane.departs_every_days)), days,
                         lane.departs_every_days)
        transit = _gamma_days(rng, lane.transit_mean_days, lane.transit_cv, left.size)
        on = rng.random((left.size, len(truth.skus))) < lane.sku_share_per_shipment
        shipment, sku = np.nonzero(on)
        cover = lane.departs_every_days / lane.sku_share_per_shipment
        noise = rng.lognormal(0.0, 0.25, sku.size)
        units = np.maximum(1, np.rint(units_per_day[sku] * cover * noise)).astype(int)
        frames.append(pd.DataFrame({
            "shipment_id": [f"SH{serial + i:06d}" for i in shipment],
            "lane": lane.name,
            "mode": lane.mode,
            "sku": _names([k.sku for k in truth.skus], sku),
            "units": units,
            "ship_date": dates[left[shipment]],
            "arrival_date": _day_dates(dates, left[shipment] + transit[shipment]),
            "cost_cny": np.round(units * volume[sku] * lane.cost_per_m3_cny, 2),
        }))
        serial += left.size
    if not frames:
        return pd.DataFrame(columns=["shipment_id", "lane", "mode", "sku", "units",
                                     "ship_date", "arrival_date", "cost_cny"])
    return pd.concat(frames, ignore_index=True).sort_values(
        ["ship_date", "shipment_id", "sku"], kind="stable", ignore_index=True)


def _skus_table(truth: Truth) -> pd.DataFrame:
    frame = pd.DataFrame([{k: v for k, v in asdict(s).items() if k != "popularity"}
                          for s in truth.skus])
    for market in truth.markets:
        frame[f"price_{market.name}"] = market.prices
    return frame


def _suppliers_table(truth: Truth) -> pd.DataFrame:
    return pd.DataFrame({"supplier": [s.name for s in truth.suppliers],
                         "warehouse": [s.warehouse for s in truth.suppliers],
                         "moq_units": [s.moq_units for s in truth.suppliers],
                         "payment_terms_days": [s.payment_terms_days
                                                for s in truth.suppliers]})


def _markets_table(truth: Truth) -> pd.DataFrame:
    return pd.DataFrame([{"market": m.name, "currency": m.currency, "fx_to_cny": m.fx_to_cny,
                          "vat_rate": m.vat_rate, "duty_rate": m.duty_rate,
                          "timezone": m.timezone} for m in truth.markets])


# ---------------------------------------------------------------- files


def write_csv(tables: dict[str, pd.DataFrame], directory: Path | str,
              compress: bool = False) -> list[Path]:
    """One canonical CSV per table (``<name>.csv``, or ``<name>.csv.gz`` with no time stamp
    in the gzip header, so the same tables give the same bytes)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        text = frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")
        data = text.encode()
        path = directory / f"{name}.csv{'.gz' if compress else ''}"
        path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0) if compress else data)
        paths.append(path)
    return paths


def truth_to_json(truth: Truth) -> str:
    """The truth as JSON (dates as ISO strings), readable back by ``truth_from_json``."""
    return json.dumps(asdict(truth), indent=1, default=_json_default) + "\n"


def _json_default(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def truth_from_json(text: str) -> Truth:
    """A truth written by ``truth_to_json``."""
    raw = json.loads(text)

    def tuples(item: dict[str, Any]) -> dict[str, Any]:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}

    events = [tuples(e) | {"start": date.fromisoformat(e["start"])}
              for e in raw["peak_events"]]
    return Truth(
        markets=tuple(Market(**tuples(m)) for m in raw["markets"]),
        skus=tuple(Sku(**s) for s in raw["skus"]),
        suppliers=tuple(Supplier(**s) for s in raw["suppliers"]),
        seasonality_by_month=tuple(raw["seasonality_by_month"]),
        peak_events=tuple(PeakEvent(**e) for e in events),
        ad_channels=tuple(AdChannel(**tuples(c)) for c in raw["ad_channels"]),
        lanes=tuple(Lane(**lane) for lane in raw["lanes"]),
        **tuples({k: v for k, v in raw.items() if k not in {
            "markets", "skus", "suppliers", "seasonality_by_month", "peak_events",
            "ad_channels", "lanes"}}),
    )


# ---------------------------------------------------------------- an example truth


_MARKETS: dict[str, dict[str, Any]] = {
    # organic orders a day per SKU listed; price factor on the USD price point
    "US": dict(currency="USD", fx_to_cny=7.1, vat_rate=0.0, duty_rate=0.10,
               timezone="America/New_York", per_sku=0.55, conversion_rate=0.028,
               fulfilment="US_WH", handling_days=(0, 1), delivery_days=(1, 5), factor=1.0),
    "DE": dict(currency="EUR", fx_to_cny=7.8, vat_rate=0.19, duty_rate=0.04,
               timezone="Europe/Berlin", per_sku=0.25, conversion_rate=0.025,
               fulfilment="EU_WH", handling_days=(0, 1), delivery_days=(1, 4), factor=1.05),
    "UK": dict(currency="GBP", fx_to_cny=9.1, vat_rate=0.20, duty_rate=0.04,
               timezone="Europe/London", per_sku=0.20, conversion_rate=0.025,
               fulfilment="direct", handling_days=(0, 1), delivery_days=(6, 12), factor=0.92),
    "FR": dict(currency="EUR", fx_to_cny=7.8, vat_rate=0.20, duty_rate=0.04,
               timezone="Europe/Paris", per_sku=0.15, conversion_rate=0.022,
               fulfilment="EU_WH", handling_days=(0, 1), delivery_days=(2, 5), factor=1.05),
    "JP": dict(currency="JPY", fx_to_cny=0.048, vat_rate=0.10, duty_rate=0.05,
               timezone="Asia/Tokyo", per_sku=0.12, conversion_rate=0.030,
               fulfilment="direct", handling_days=(0, 1), delivery_days=(5, 10), factor=150.0),
}

_CATEGORIES: dict[str, dict[str, Any]] = {
    # share of SKUs, supplier, median unit cost CNY, median kg, median m3, return probability
    "apparel": dict(code="APP", share=0.25, supplier="GZ_APPAREL", cost=35.0, kg=0.35,
                    m3=0.0035, returns=0.20),
    "home": dict(code="HOM", share=0.25, supplier="YW_HOME", cost=28.0, kg=0.70, m3=0.0060,
                 returns=0.06),
    "electronics": dict(code="ELE", share=0.30, supplier="SZ_ELECTRONICS", cost=40.0,
                        kg=0.20, m3=0.0012, returns=0.08),
    "beauty": dict(code="BEA", share=0.20, supplier="GZ_BEAUTY", cost=18.0, kg=0.15,
                   m3=0.0010, returns=0.04),
}

_SUPPLIERS = (  # name, lead time mean days, cv, MOQ (baseline scenario figures)
    ("GZ_APPAREL", 20.0, 0.25, 50), ("YW_HOME", 25.0, 0.25, 30),
    ("SZ_ELECTRONICS", 18.0, 0.20, 50), ("GZ_BEAUTY", 22.0, 0.30, 40),
)

_LANES = (  # origin, destination, mode, transit mean days, cv, CNY per m3
    ("SZ", "US_WH", "sea_fcl", 35.0, 0.15, 1600.0),
    ("SZ", "EU_WH", "rail", 24.0, 0.12, 1900.0),
)

_CHANNELS: dict[str, dict[str, Any]] = {
    # per 100 SKUs: max sessions a day, half-saturation and mean spend in USD a day; the
    # weekly spend levels reach 1.5 K, so the history shows both sides of each curve
    "marketplace_ppc": dict(S=650.0, K=400.0, spend=200.0, n=1.0, r=0.2, conversion=0.084,
                            shares=dict(US=0.60, DE=0.22, UK=0.18, FR=0.12, JP=0.10)),
    "search_ads": dict(S=400.0, K=200.0, spend=100.0, n=1.0, r=0.3, conversion=0.056,
                       shares=dict(US=0.55, DE=0.25, UK=0.20, FR=0.12, JP=0.10)),
    "social_ads": dict(S=500.0, K=200.0, spend=100.0, n=1.0, r=0.4, conversion=0.028,
                       shares=dict(US=0.50, DE=0.20, UK=0.30, FR=0.12, JP=0.10)),
    "influencer": dict(S=700.0, K=300.0, spend=160.0, n=1.8, r=0.6, conversion=0.042,
                       shares=dict(US=0.60, DE=0.20, UK=0.20, FR=0.12, JP=0.10)),
}

_SEASONALITY = (0.90, 0.85, 0.90, 0.92, 0.95, 1.00, 1.05, 1.00, 0.95, 1.00, 1.20, 1.30)
_SPEND_LEVELS = (0.0, 0.2, 0.4, 0.7, 1.0, 1.7, 3.0)
"""Weekly spend multipliers (mean 1), dark weeks included to show the carry-over."""


def example_truth(skus: int, markets: tuple[str, ...] = ("US", "DE", "UK"),
                  years: float = 1.0, seed: int = 0,
                  start: date = date(2025, 1, 1)) -> Truth:
    """A China-based seller of ``skus`` products in four categories (apparel, home,
    electronics, beauty) from the four factories of the baseline scenario, selling in
    ``markets`` (any of US, DE, UK, FR, JP) about 1.4 orders a day per SKU, with the usual
    peak events of the ``years`` from ``start``. The seed draws the catalogue."""
    unknown = sorted(set(markets) - set(_MARKETS))
    if unknown or not markets:
        raise TruthError(f"example markets must be among {sorted(_MARKETS)}, got {markets}")
    if skus < len(_CATEGORIES):
        raise TruthError(f"an example needs at least {len(_CATEGORIES)} SKUs, got {skus}")
    if years <= 0:
        raise TruthError(f"years must be > 0, got {years}")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    catalogue = _example_skus(skus, rng)
    usd = np.array([s.unit_cost_cny for s in catalogue]) / 7.1 * rng.lognormal(
        np.log(4.5), 0.25, skus)
    scale = skus / 100
    return Truth(
        markets=tuple(_example_market(name, skus, usd, rng) for name in markets),
        skus=catalogue,
        suppliers=tuple(Supplier(name, "SZ", mean, cv, moq, 30, 7, 0.25)
                        for name, mean, cv, moq in _SUPPLIERS),
        seasonality_by_month=tuple(float(x) for x in
                                   np.asarray(_SEASONALITY) / np.mean(_SEASONALITY)),
        peak_events=_example_peaks(start, years, markets),
        ad_channels=tuple(AdChannel(
            name, "USD", c["K"] * scale, c["S"] * scale, c["n"], c["r"], c["conversion"],
            _shares(c["shares"], markets), c["spend"] * scale, _SPEND_LEVELS, 0.1)
            for name, c in _CHANNELS.items()),
        lanes=tuple(Lane(o, d, mode, mean, cv, 7, 0.5, cost) for o, d, mode, mean, cv, cost
                    in _LANES if d in {_MARKETS[m]["fulfilment"] for m in markets}),
        return_probability={c: _CATEGORIES[c]["returns"]
                            for c in sorted({s.category for s in catalogue})},
        stockout_share=0.02,
    )


def _example_skus(skus: int, rng: np.random.Generator) -> tuple[Sku, ...]:
    shares = np.array([c["share"] for c in _CATEGORIES.values()])
    counts = np.floor(shares * skus).astype(int)
    counts[np.argsort(-(shares * skus - counts))[: skus - counts.sum()]] += 1
    popularity = rng.lognormal(0.0, 1.0, skus)
    popularity = popularity / popularity.sum()
    out, i = [], 0
    for (name, c), count in zip(_CATEGORIES.items(), counts, strict=True):
        cost = c["cost"] * rng.lognormal(0.0, 0.5, count)
        kg = c["kg"] * rng.lognormal(0.0, 0.5, count)
        m3 = c["m3"] * rng.lognormal(0.0, 0.5, count)
        for j in range(count):
            out.append(Sku(f"{c['code']}_{j + 1:04d}", name, c["supplier"],
                           round(float(cost[j]), 1), round(float(kg[j]), 3),
                           round(float(m3[j]), 5), round(float(popularity[i]), 8)))
            i += 1
    return tuple(out)


def _example_market(name: str, skus: int, usd: np.ndarray, rng: np.random.Generator
                    ) -> Market:
    f = _MARKETS[name]
    local = usd * f["factor"] * rng.lognormal(0.0, 0.05, usd.size)
    if f["currency"] == "JPY":
        prices = np.maximum(np.rint(local / 10) * 10, 300.0)
    else:
        prices = np.floor(np.maximum(local, 4.0)) + 0.99
    return Market(name, f["currency"], f["fx_to_cny"], f["vat_rate"], f["duty_rate"],
                  f["timezone"], round(f["per_sku"] * skus, 2), f["conversion_rate"], 0.10,
                  f["fulfilment"], f["handling_days"], f["delivery_days"],
                  tuple(round(float(p), 2) for p in prices))


def _shares(shares: dict[str, float], markets: tuple[str, ...]) -> dict[str, float]:
    total = sum(shares[m] for m in markets)
    return {m: round(shares[m] / total, 4) for m in markets}


def _example_peaks(start: date, years: float, markets: tuple[str, ...]
                   ) -> tuple[PeakEvent, ...]:
    """Prime Day (second Tuesday of July), 11.11, Black Friday to Cyber Monday, the
    Christmas run-up: each year the horizon touches."""
    end = start + timedelta(days=round(365 * years))
    events = []
    for year in range(start.year, end.year + 1):
        tuesdays = [d for d in calendar.Calendar().itermonthdates(year, 7)
                    if d.month == 7 and d.weekday() == calendar.TUESDAY]
        thursdays = [d for d in calendar.Calendar().itermonthdates(year, 11)
                     if d.month == 11 and d.weekday() == calendar.THURSDAY]
        for name, first, days, multiplier in (
                (f"prime_day_{year}", tuesdays[1], 2, 2.5),
                (f"singles_day_{year}", date(year, 11, 11), 1, 1.3),
                (f"black_friday_cyber_monday_{year}", thursdays[3] + timedelta(days=1), 4,
                 2.75),
                (f"christmas_run_up_{year}", date(year, 12, 5), 15, 1.4)):
            if start <= first < end:
                events.append(PeakEvent(name, first, days, multiplier, tuple(markets)))
    return tuple(events)
