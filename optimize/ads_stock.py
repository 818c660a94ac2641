"""Ads planned against the stock: spend that sells, not spend that runs into a stock-out.

The plain ad model (``optimize.ads``) values every paid session at its margin, as if every
order it brings were delivered. In a peak it is not: the warehouse that serves a market
runs dry, and the sessions a campaign buys then are lost sales. With
``planning.ads.stock_aware`` the ad model is planned with the logistics the scenario runs
(its rules and the plan it names, e.g. the peak plan): the simulation plays that
logistics K times (seeds ``stock_seed`` ..), and the ad model gets, per demand scenario k,
SKU s, market m and week w, the organic demand and the supply that logistics delivered to
each selling warehouse. Added variables and rows (k scenarios weighted 1/K, the ad spend
shared by all; names of the Pyomo components on the right):

    sell[k,s,m,w], rescue[k,s,m,w]  units sold by the market's route / its fallback
                                    (m.sell, m.rescue)
    shelf[k,s,l,w]                  units on warehouse l's shelves at the week's end
                                    (m.on_shelf)
    sell + rescue <= organic[k,s,m,w] + 7 sum_c u[c,s,m] r[c,w]             m.stock_demand
    shelf[k,s,l,w] = shelf[k,s,l,w-1] + supply[k,s,l,w]
                     - sum_{m: primary(m) = l} sell - sum_{m: fallback(m) = l} rescue
                                                                            m.stock_balance
    margin = 1/K sum (g[s,m] sell + g'[s,m] rescue) + the tail weeks' paid margin

u[c,s,m] are units of SKU s demanded in market m per paid session of channel c (the
channel's market share x its conversion multiplier x the market's conversion of s x units
per order); g and g' the margin per unit by the market's route and by its out-of-stock
fallback (same terms as the plain model's margin per order). supply[k,s,l,w] is what the
simulated logistics put on warehouse l's shelves in week w, net of bulk loads out (week 1
holds the opening stock), read off the run's weekly stock trace (``sim.records``).
organic = the simulated demand less the paid demand the scenario's own schedule brought
(on the exact curves with daily carry-over).

So a session is worth its margin only while the shelf it sells from has stock, and the
model moves spend to the weeks and markets where it does: no spend that drives demand
into a stock-out, ad timing that follows what can be delivered.

Approximations: the logistics are fixed at what they did in the simulation, although the
rules reorder sooner when more sells and later when less does (the model misses stock the
rules would have bought for extra sales); orders a market would back-order count as lost;
the market mix of a channel's sessions follows the channel's weekly calendar (as in the
plain model); routing is the scenario's fulfilment (plans that take over routing are
refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from sim import economics
from sim.network import Network
from sim.scenario import Scenario

DAYS = 7
"""Days in a week: the ad models plan weekly spend in CNY per day."""


@dataclass(frozen=True)
class StockLimits:
    """What the logistics in force deliver, per demand scenario; units per week."""

    locations: tuple[str, ...]
    """The warehouses orders are served from (the markets' routes and fallbacks)."""
    primary: np.ndarray
    """[market] index into ``locations`` of the market's route."""
    fallback: np.ndarray
    """[market] index into ``locations`` of its out-of-stock fallback, -1 for none."""
    organic: np.ndarray
    """[scenario, sku, market, week] units demanded without paid sessions."""
    supply: np.ndarray
    """[scenario, sku, location, week] units added to the shelves (week 1: + opening)."""
    paid_units: np.ndarray
    """[channel, sku, market] units demanded per paid session."""
    margin: np.ndarray
    """[sku, market] margin per unit sold by the market's route, CNY."""
    rescue_margin: np.ndarray
    """[sku, market] margin per unit sold by its fallback route, CNY."""

    @property
    def scenarios(self) -> int:
        return int(self.organic.shape[0])

    @property
    def weeks(self) -> int:
        return int(self.organic.shape[3])


def route_unit_margin(scenario: Scenario, network: Network, market: int, mode: str,
                      warehouse: str) -> np.ndarray:
    """Margin per unit [sku] sold in a market by a route, CNY: the net revenue (ex VAT, less
    commission and payment fee) less the unit cost, the route's freight per unit and the
    warehouse's pick-and-pack fee shared by the units of an order. Main-leg freight, duty
    and returns are left out (the margin a marketer weighs ad spend against)."""
    fin, catalog, fx = scenario.finance, network.catalog, network.fx_to_cny
    spec = scenario.markets[network.markets[market]]
    price = catalog.price[market] * fx(spec.currency)
    net = economics.net_revenue_per_unit(price, spec.vat_rate, fin.commission_rate,
                                         fin.payment_fee_rate)
    carrier = scenario.modes[mode]
    freight = economics.freight_per_unit(
        carrier.cost_per_unit, carrier.cost_per_kg, carrier.cost_per_m3,
        carrier.chargeable_kg_per_m3, catalog.weight, catalog.volume) * fx(carrier.currency)
    site = scenario.warehouses[warehouse]
    units_per_order = 1.0 + scenario.conversion.extra_units_per_order_mean
    pick_pack = site.pick_pack_fee_per_order * fx(site.currency) / units_per_order
    return net - catalog.unit_cost - freight - pick_pack


def serving_routes(network: Network) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The selling warehouses, and each market's route and fallback as indices into them."""
    routes = network.routes
    markets = range(len(network.markets))
    used = sorted({int(routes.warehouse[m]) for m in markets}
                  | {int(routes.warehouse[routes.fallback[m]]) for m in markets
                     if routes.fallback[m] >= 0})
    where = {w: i for i, w in enumerate(used)}
    primary = np.array([where[int(routes.warehouse[m])] for m in markets])
    fallback = np.array([where[int(routes.warehouse[routes.fallback[m]])]
                         if routes.fallback[m] >= 0 else -1 for m in markets])
    return tuple(network.warehouses[w] for w in used), primary, fallback


def route_margins(scenario: Scenario, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Margin per unit [sku, market] by each market's route and by its fallback (0: none)."""
    routes, n = network.routes, len(network.markets)
    margin = np.zeros((network.n_skus, n))
    rescue = np.zeros((network.n_skus, n))
    for m in range(n):
        margin[:, m] = route_unit_margin(scenario, network, m,
                                         network.modes[int(routes.mode[m])],
                                         network.warehouses[int(routes.warehouse[m])])
        option = int(routes.fallback[m])
        if option >= 0:
            rescue[:, m] = route_unit_margin(scenario, network, m,
                                             network.modes[int(routes.mode[option])],
                                             network.warehouses[int(routes.warehouse[option])])
    return margin, rescue


def stock_rows(m: pyo.ConcreteModel, limits: StockLimits, channels: list[str]) -> Any:
    """Add the demand and balance rows to an ad model with ``m.sessions[c, w]``; returns the
    expected margin of the units sold in the horizon weeks 1..W (CNY)."""
    k_count, n_skus, n_markets, weeks = limits.organic.shape
    units = limits.paid_units
    keep = [(s, mk) for s in range(n_skus) for mk in range(n_markets)
            if limits.organic[:, s, mk].any() or units[:, s, mk].any()]
    rescued = [(s, mk) for s, mk in keep if limits.fallback[mk] >= 0]
    m.SM = pyo.Set(dimen=2, initialize=keep, ordered=True)
    m.SM_RESCUE = pyo.Set(dimen=2, initialize=rescued, ordered=True)
    m.K = pyo.RangeSet(0, k_count - 1)
    m.HW = pyo.RangeSet(1, weeks)
    m.SL = pyo.Set(dimen=2, ordered=True, initialize=sorted(
        {(s, int(limits.primary[mk])) for s, mk in keep}
        | {(s, int(limits.fallback[mk])) for s, mk in rescued}))
    m.sell = pyo.Var(m.K, m.SM, m.HW, within=pyo.NonNegativeReals)
    m.rescue = pyo.Var(m.K, m.SM_RESCUE, m.HW, within=pyo.NonNegativeReals)
    m.on_shelf = pyo.Var(m.K, m.SL, m.HW, within=pyo.NonNegativeReals)

    def demand(mm, k, s, mk, w):
        paid = DAYS * sum(float(units[c, s, mk]) * mm.sessions[name, w]
                          for c, name in enumerate(channels) if units[c, s, mk] > 0)
        sold = mm.sell[k, s, mk, w] + (mm.rescue[k, s, mk, w] if limits.fallback[mk] >= 0
                                       else 0.0)
        return sold <= float(limits.organic[k, s, mk, w - 1]) + paid
    m.stock_demand = pyo.Constraint(m.K, m.SM, m.HW, rule=demand)

    served = {sl: [mk for s, mk in keep if (s, int(limits.primary[mk])) == sl] for sl in m.SL}
    backs = {sl: [mk for s, mk in rescued if (s, int(limits.fallback[mk])) == sl]
             for sl in m.SL}

    def balance(mm, k, s, loc, w):
        before = mm.on_shelf[k, s, loc, w - 1] if w > 1 else 0.0
        out = sum(mm.sell[k, s, mk, w] for mk in served[s, loc]) \
            + sum(mm.rescue[k, s, mk, w] for mk in backs[s, loc])
        return mm.on_shelf[k, s, loc, w] == before + float(limits.supply[k, s, loc, w - 1]) - out
    m.stock_balance = pyo.Constraint(m.K, m.SL, m.HW, rule=balance)
    return (pyo.quicksum(float(limits.margin[s, mk]) * m.sell[k, s, mk, w]
                         for k in m.K for s, mk in keep for w in m.HW)
            + pyo.quicksum(float(limits.rescue_margin[s, mk]) * m.rescue[k, s, mk, w]
                           for k in m.K for s, mk in rescued for w in m.HW)) / k_count


def expected_sales(m: pyo.ConcreteModel, limits: StockLimits,
                   sessions: np.ndarray) -> tuple[float, float]:
    """(units demanded, units sold) in the horizon weeks at the solved plan, averaged over
    the demand scenarios; ``sessions`` [channel, week] are the model's paid sessions per day."""
    paid = DAYS * np.einsum("csm,cw->smw", limits.paid_units, sessions[:, : limits.weeks])
    demanded = float(limits.organic.sum(axis=0).sum() / limits.scenarios + paid.sum())
    sold = sum(pyo.value(v) for v in m.sell.values()) + sum(
        pyo.value(v) for v in m.rescue.values())
    return demanded, float(sold) / limits.scenarios
