"""Selling prices over time: the list price, dated changes and promotions.

A listing's price on day t is its list price (``skus.*.price``) times the factors of every
price change and promotion active that day (``sim.scenario.Pricing``); demand follows it
through the price elasticity, (price_t / reference price)^(-elasticity), where the
reference is the market's (``skus.*.reference_price``, the list price when not given).
A promotion adds a visibility lift on its days and takes back the purchases it moved
forward over the dip after it (``sim.scenario.Promotion``). What a promotion costs beyond
its discount (coupon redemptions, the deal fee) is booked in the ledger as ``promotion``.

The schedule is a handful of windows, so a day's factors [market, sku] are computed when
asked instead of stored for every day of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.calendar import day_of
from sim.economics import net_revenue_per_unit
from sim.scenario import Promotion, Scenario, _Selection


@dataclass(frozen=True)
class PriceWindow:
    """Days [start, end) on which the selected listings' price and demand are multiplied."""

    start: int
    end: int
    listings: np.ndarray       # bool [market, sku]
    price: float
    demand: float


@dataclass(frozen=True)
class PromotionFee:
    """What a promotion costs per order on its days, and once on its first day."""

    start: int
    end: int
    listings: np.ndarray       # bool [market, sku]
    per_order: float
    deal_fee: float


def list_prices(scenario: Scenario, markets: list[str], skus: list[str]) -> np.ndarray:
    """List prices [market, sku] in market currency, VAT included."""
    return np.array([[scenario.skus[s].price[m] for s in skus] for m in markets])


def selected(scenario: Scenario, entry: _Selection, markets: list[str],
             skus: list[str]) -> np.ndarray:
    """The listings [market, sku] an entry selects."""
    if entry.skus is None and entry.categories is None:
        sku_mask = np.ones(len(skus), dtype=bool)
    else:
        named, groups = set(entry.skus or ()), set(entry.categories or ())
        sku_mask = np.array([s in named or scenario.skus[s].category in groups for s in skus])
    market_mask = np.array([entry.markets is None or m in entry.markets for m in markets])
    return market_mask[:, None] & sku_mask[None, :]


def promotion_factors(promotion: Promotion, elasticity: float) -> tuple[float, float]:
    """(E, D): the factor on expected orders during the event and over its dip."""
    event = promotion.traffic_lift * (1.0 - promotion.discount) ** (-elasticity)
    if promotion.dip_days == 0:
        return event, 1.0
    dip = 1.0 - promotion.pull_forward_share * (event - 1.0) * promotion.days \
        / promotion.dip_days
    return event, max(dip, 0.0)


class PriceSchedule:
    """The run's prices: list prices [market, sku] and the windows that move them."""

    def __init__(self, scenario: Scenario, markets: list[str], skus: list[str],
                 list_price: np.ndarray) -> None:
        self.list_price = list_price
        elasticity = scenario.conversion.price_elasticity
        windows: list[PriceWindow] = []
        fees: list[PromotionFee] = []
        for change in scenario.pricing.changes:
            start = day_of(scenario, change.start)
            windows.append(PriceWindow(
                start, start + change.days, selected(scenario, change, markets, skus),
                change.price_factor, change.price_factor ** (-elasticity)))
        for promotion in scenario.pricing.promotions:
            start = day_of(scenario, promotion.start)
            end = start + promotion.days
            listings = selected(scenario, promotion, markets, skus)
            event, dip = promotion_factors(promotion, elasticity)
            windows.append(PriceWindow(start, end, listings, 1.0 - promotion.discount, event))
            if promotion.dip_days:
                windows.append(PriceWindow(end, end + promotion.dip_days, listings, 1.0, dip))
            if promotion.coupon_cost_per_order or promotion.deal_fee:
                fees.append(PromotionFee(start, end, listings, promotion.coupon_cost_per_order,
                                         promotion.deal_fee))
        self.windows = windows
        self.fees = fees

    def _factor(self, day: int, attribute: str) -> np.ndarray:
        factor = np.ones(self.list_price.shape)
        for w in self.windows:
            if w.start <= day < w.end:
                factor[w.listings] *= getattr(w, attribute)
        return factor

    def price_factor(self, day: int) -> np.ndarray:
        """Selling price / list price [market, sku] on ``day``."""
        return self._factor(day, "price")

    def demand_factor(self, day: int) -> np.ndarray:
        """Factor on expected orders [market, sku] on ``day``: the price effect of the day's
        price against the list price, a promotion's lift, a dip's loss."""
        return self._factor(day, "demand")

    def prices(self, day: np.ndarray, market: np.ndarray, sku: np.ndarray) -> np.ndarray:
        """The price each order paid: the price on its order day."""
        price = self.list_price[market, sku]
        if not self.windows:
            return price
        out = price.astype(float)
        for d in np.unique(day):
            pick = day == d
            out[pick] *= self.price_factor(int(d))[market[pick], sku[pick]]
        return out

    def coupon_cost(self, day: np.ndarray, market: np.ndarray, sku: np.ndarray) -> np.ndarray:
        """The coupon or deal fee each order placed on ``day`` redeems (market currency)."""
        cost = np.zeros(len(market))
        for fee in self.fees:
            if fee.per_order:
                active = (day >= fee.start) & (day < fee.end) & fee.listings[market, sku]
                cost[active] += fee.per_order
        return cost

    def deal_fees(self, day: int) -> np.ndarray:
        """Deal fees due on ``day`` per market (market currency)."""
        due = np.zeros(self.list_price.shape[0])
        for fee in self.fees:
            if fee.deal_fee and fee.start == day:
                due += fee.deal_fee * fee.listings.any(axis=1)
        return due


def floor_problems(scenario: Scenario) -> list[str]:
    """Listings whose list, changed or promoted price leaves less net revenue per unit than
    the cost-plus floor: unit cost x (1 + min_margin_on_cost), at day-0 exchange rates."""
    markets, skus = list(scenario.markets), list(scenario.skus)
    floor = scenario.pricing.min_margin_on_cost
    finance = scenario.finance
    factors: list[tuple[str, float, np.ndarray]] = [("list price", 1.0, np.ones(
        (len(markets), len(skus)), dtype=bool))]
    for change in scenario.pricing.changes:
        factors.append((f"price change {change.name}", change.price_factor,
                        selected(scenario, change, markets, skus)))
    for promotion in scenario.pricing.promotions:
        factors.append((f"promotion {promotion.name}", 1.0 - promotion.discount,
                        selected(scenario, promotion, markets, skus)))
    problems = []
    for i, m in enumerate(markets):
        market = scenario.markets[m]
        for j, s in enumerate(skus):
            sku = scenario.skus[s]
            minimum = sku.unit_cost_cny * (1.0 + floor)
            for label, factor, listings in factors:
                if not listings[i, j]:
                    continue
                price = sku.price[m] * factor
                net = float(net_revenue_per_unit(price, market.vat_rate,
                                                 finance.commission_rate,
                                                 finance.payment_fee_rate)) * market.fx_to_cny
                if net < minimum:
                    problems.append(
                        f"skus.{s}.price.{m}: {label} leaves {net:.2f} CNY a unit after VAT "
                        f"and fees, under the cost-plus floor {minimum:.2f} CNY (unit cost "
                        f"{sku.unit_cost_cny:.2f} + {floor:.0%})")
    return problems
