"""Running totals of the streamed tables: what the KPIs need from orders, tickets and listing
days, gathered chunk by chunk so that no KPI needs a table whole (``sim.tables``).

Counts are exact whatever the chunks. Sums of money and hours are added chunk after chunk,
so they equal a sum over the whole table up to float rounding; the delivery days of
delivered orders are kept (one float each) because their 95th percentile needs them all.
Service figures count orders placed and tickets arriving after ``horizon.warmup_days``
(``sim.results``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import economics
from sim.network import Network
from sim.service import satisfied


class OrderTotals:
    """Orders, units, service counts, attributed revenue cells and margins by listing."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.warm = net.scenario.horizon.warmup_days
        n_markets, n_modes = len(net.markets), len(net.modes)
        self.orders = self.units = 0
        self.steady = self.delivered = self.on_time = self.returned = self.lost = 0
        self.dispatched_within_24h = self.reshipped = self.undeliverable = self.defects = 0
        self.steady_revenue_cny = 0.0
        self._delivery_days: list[np.ndarray] = []
        self.revenue_ex_vat = np.zeros(n_markets * net.days)
        """Net-of-VAT revenue (CNY) by order cell market x day, for ad attribution."""
        self.route_cost = np.zeros((n_markets, 2, n_modes))
        """Landed cost (CNY) by market, route (direct, warehouse) and mode."""
        self.route_units = np.zeros((n_markets, 2, n_modes), dtype=np.int64)
        self.listing_margin = np.zeros((n_markets, net.n_skus))
        """Net revenue less landed cost (CNY) by market and SKU."""

    def add(self, orders: pd.DataFrame) -> None:
        net = self.net
        market = orders["market"].cat.codes.to_numpy().astype(np.int64)
        day = orders["order_day"].to_numpy()
        units = orders["units"].to_numpy()
        steady = day >= self.warm
        lost, undeliverable = orders["lost"].to_numpy(), orders["undeliverable"].to_numpy()
        delivered = steady & ~lost & ~undeliverable
        self.orders += len(orders)
        self.units += int(units.sum())
        self.steady += int(steady.sum())
        self.delivered += int(delivered.sum())
        self.on_time += int((orders["on_time"].to_numpy() & delivered).sum())
        self.returned += int((orders["returned"].to_numpy() & delivered).sum())
        self.lost += int((lost & steady).sum())
        self.dispatched_within_24h += int(
            ((orders["dispatch_days"].to_numpy() <= 1.0) & steady).sum())
        self.reshipped += int((orders["reshipped"].to_numpy() & steady).sum())
        self.undeliverable += int((undeliverable & steady).sum())
        self.defects += int((orders["defect"].to_numpy() & steady).sum())
        revenue_cny = orders["revenue_cny"].to_numpy()
        self.steady_revenue_cny += float(revenue_cny[steady].sum())
        self._delivery_days.append(orders["delivery_days"].to_numpy()[delivered])
        vat = net.taxes.vat_rate[market, np.minimum(day, net.taxes.vat_rate.shape[1] - 1)]
        self.revenue_ex_vat += np.bincount(market * net.days + day,
                                           revenue_cny * (1.0 / (1.0 + vat)),
                                           minlength=self.revenue_ex_vat.size)
        route = orders["route"].cat.codes.to_numpy().astype(np.int64)
        mode = orders["mode"].cat.codes.to_numpy().astype(np.int64)
        cell = (market * 2 + route) * len(net.modes) + mode
        landed = orders["landed_cost_cny"].to_numpy()
        self.route_cost += np.bincount(cell, landed, self.route_cost.size).reshape(
            self.route_cost.shape)
        self.route_units += np.bincount(cell, units, self.route_units.size).reshape(
            self.route_units.shape).astype(np.int64)
        sku = orders["sku"].cat.codes.to_numpy().astype(np.int64)
        self.listing_margin += np.bincount(
            market * net.n_skus + sku, self._net_revenue_cny(orders, market, vat) - landed,
            self.listing_margin.size).reshape(self.listing_margin.shape)

    def _net_revenue_cny(self, orders: pd.DataFrame, market: np.ndarray,
                         vat: np.ndarray) -> np.ndarray:
        """The price paid less VAT, commission and payment fee, at the booking's rate."""
        fin = self.net.scenario.finance
        revenue = orders["revenue"].to_numpy()
        to_cny = np.divide(orders["revenue_cny"].to_numpy(), revenue,
                           out=np.zeros(len(revenue)), where=revenue > 0)
        return economics.net_revenue_per_unit(
            orders["price"].to_numpy(), vat, fin.commission_rate, fin.payment_fee_rate) \
            * orders["units"].to_numpy() * to_cny

    def delivery_days(self) -> np.ndarray:
        """Days from order to delivery of every delivered steady order, in order."""
        return np.concatenate(self._delivery_days) if self._delivery_days else np.zeros(0)

    def landed_cost_per_unit(self) -> dict[str, float]:
        """CNY per unit by 'market route mode', for the routes that shipped."""
        out = {}
        routes = ("direct", "warehouse")
        for m, r, k in zip(*np.nonzero(self.route_units), strict=True):
            key = f"{self.net.markets[m]} {routes[r]} {self.net.modes[k]}"
            out[key] = round(float(self.route_cost[m, r, k] / self.route_units[m, r, k]), 2)
        return out

    def listings_below_landed_cost(self) -> int:
        """Market-SKU pairs whose sales left less than their landed cost over the run."""
        return int((self.listing_margin < 0).sum())


class TicketTotals:
    """Steady tickets, their SLA and satisfaction counts, and the queue at each day's end."""

    def __init__(self, days: int, warm: int, first_sla_hours: float,
                 resolution_sla_hours: float) -> None:
        self.days, self.warm = days, warm
        self.first_sla, self.resolution_sla = first_sla_hours, resolution_sla_hours
        self.tickets = self.first_in_sla = self.resolved_in_sla = self.satisfied = 0
        self.disputes = 0
        self.first_response_hours = 0.0
        self.dispute_cost_cny = 0.0
        self._arrived = np.zeros(days + 1, dtype=np.int64)
        self._answered = np.zeros(days + 1, dtype=np.int64)

    def add(self, tickets: pd.DataFrame) -> None:
        arrival = tickets["arrival_hour"].to_numpy()
        first = tickets["first_response_hours"].to_numpy()
        resolution = tickets["resolution_hours"].to_numpy()
        disputed = tickets["disputed"].to_numpy()
        steady = arrival >= 24.0 * self.warm
        self.tickets += int(steady.sum())
        self.first_in_sla += int((first[steady] <= self.first_sla).sum())
        self.resolved_in_sla += int((resolution[steady] <= self.resolution_sla).sum())
        self.satisfied += int(satisfied(
            first[steady], resolution[steady], disputed[steady], self.first_sla,
            self.resolution_sla).sum())
        self.disputes += int(disputed[steady].sum())
        self.first_response_hours += float(first[steady].sum())
        self.dispute_cost_cny += float(tickets["dispute_cost_cny"].sum())
        ends = 24.0 * (np.arange(self.days) + 1)
        for count, hours in ((self._arrived, arrival), (self._answered, arrival + first)):
            count += np.bincount(np.searchsorted(ends, hours, side="right"),
                                 minlength=self.days + 1)

    def queue_at_day_end(self) -> np.ndarray:
        """Tickets arrived but not yet answered at each day's end [day]."""
        return (np.cumsum(self._arrived) - np.cumsum(self._answered))[:self.days]


class ListingTotals:
    """Sessions on the listings after the warm-up."""

    def __init__(self, warm: int) -> None:
        self.warm = warm
        self.sessions = 0.0

    def add(self, listings: pd.DataFrame) -> None:
        steady = listings["day"].to_numpy() >= self.warm
        self.sessions += float(listings["sessions"].to_numpy()[steady].sum())
