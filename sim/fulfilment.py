"""The daily order cohort: draw the day's orders, fill them from stock, dispatch parcels
and book everything they cause.

All of a day's orders are handled at once as numpy arrays (one element per order), so a
year of a busy seller costs a few hundred vectorised steps, not a SimPy process per order.
Everything an order will cause later (delivery, loss, return, rating change,
customer-service ticket, refund, restock) is drawn now and scheduled into day-indexed
arrays or the ledger. Each step below takes the network and the one or two state objects
it changes:

    serve_demand   orders in line (backlog first), routed, filled    Sales, Stock, Router
    dispatch       stock issued, pick/pack and carrier queues,        Stock, Pipeline
                   transit, losses, undeliverable parcels
    book_sale      sales, VAT, fees, freight, parcel duty, rebates    Ledger
    settle_exceptions  refunds, insurance, undeliverable parcels,    Ledger, Exceptions
                   replacements of lost parcels (``sim.exceptions``)
    book_returns   refunds, return costs, dispositions, restocks      Ledger, Pipeline
    raise_tickets  service tickets for delays, losses and returns     ServiceState
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim import economics
from sim.account_health import AccountHealth
from sim.allocation import allocate
from sim.customers import CustomerBase
from sim.demand import DemandModel
from sim.exceptions import Exceptions
from sim.execution import PlanBook, Router
from sim.inventory import Stock
from sim.ledger import Ledger
from sim.network import Network
from sim.pipeline import Pipeline
from sim.ranking import Listings
from sim.records import Records
from sim.returns import DISPOSITIONS, ReturnDraws, draw_returns
from sim.rng import Streams
from sim.sales import DELIVERED, LATE, LOST, RETURNED, Sales
from sim.service import ServiceState
from sim.shipping import carrier_queue_wait, extra_transit
from sim.taxes import rebate_exports

ORDER_TIME_OF_DAY = 0.5
"""Orders are placed, on average, at noon; delivery days are counted from then."""
CARRIER_LOOKAHEAD_DAYS = 120
"""How far ahead a parcel queue looks for capacity; a longer wait ships on the last day."""


@dataclass
class Cohort:
    """Orders shipped today, one element per order."""

    order_day: np.ndarray
    market: np.ndarray
    sku: np.ndarray
    units: np.ndarray
    route: np.ndarray
    price: np.ndarray          # the price on the order day, market currency incl. VAT
    coupon: np.ndarray         # a promotion's fee per order, market currency


@dataclass
class Dispatched:
    """A cohort on its way: where from, how, when, and what befell it."""

    orders: Cohort
    warehouse: np.ndarray
    mode: np.ndarray
    direct: np.ndarray
    value: np.ndarray          # landed value issued from stock [order, part], CNY
    ship_time: np.ndarray
    ship_day: np.ndarray
    delivery_time: np.ndarray
    delivery_day: np.ndarray
    late: np.ndarray
    lost: np.ndarray
    damaged: np.ndarray
    undeliverable: np.ndarray

    def part(self, pick: slice) -> Dispatched:
        """The orders in ``pick`` (a cohort shipped with the day's replacements)."""
        orders = Cohort(*(getattr(self.orders, name)[pick] for name in _COHORT_FIELDS))
        return Dispatched(orders, *(getattr(self, name)[pick] for name in _DISPATCHED_FIELDS))


_COHORT_FIELDS = tuple(f.name for f in fields(Cohort))
_DISPATCHED_FIELDS = tuple(f.name for f in fields(Dispatched))[1:]
"""Field names looked up once (``dataclasses.fields`` costs more than the slicing)."""


def payout_day(day: np.ndarray | int, cycle: int) -> np.ndarray:
    """The marketplace pays what accrued on ``day`` at the end of its payout cycle."""
    return (np.asarray(day) // cycle + 1) * cycle


def serve_demand(t: int, net: Network, streams: Streams, demand: DemandModel, sales: Sales,
                 stock: Stock, router: Router, book: PlanBook, service: ServiceState,
                 listings: Listings, customers: CustomerBase, health: AccountHealth
                 ) -> tuple[Cohort, dict[str, float]]:
    """Today's orders: draw them (ranked listings, returning buyers), fill backorders then
    new orders; returns the orders to ship today and the day's flows (the account-health
    factor on conversion among them)."""
    sc = net.scenario
    cv = sc.conversion
    n_skus = net.n_skus
    standing = health.factor(t)
    rating_effect = (sales.rating / cv.initial_rating) ** cv.rating_elasticity * standing
    rank = listings.rank(sales.rating)
    returning = customers.returning(t)
    market, sku, units = demand.draw_orders(t, rating_effect, rank, returning)
    n_new = len(market)
    shape = sales.demand_units.shape[:2]
    sales.demand_units[:, :, t] = per_listing(market, sku, shape, units)
    sales.potential_today = demand.order_rate(t, rating_effect, None, returning) \
        * (1.0 + cv.extra_units_per_order_mean)
    customers.placed(t, market, returning_buyers(streams, demand, t, rating_effect, rank,
                                                 returning, market, sku))
    sessions = demand.sessions(t)
    inquiries = streams.service.poisson(
        sessions.sum() * sc.service.tickets.inquiries_per_1000_sessions / 1000.0)
    if inquiries:
        service.raised[0, :, t] += streams.inquiries.multinomial(
            inquiries, sessions / sessions.sum())

    b = sales.backlog
    n_old = len(b["market"])
    all_market = np.concatenate([b["market"], market])
    all_sku = np.concatenate([b["sku"], sku])
    all_units = np.concatenate([b["units"], units])
    all_day = np.concatenate([b["order_day"], np.full(n_new, t)])
    # Backorders keep their place in line (and route); today's orders arrive in random
    # order and take the route the plan (or the scenario) gives them.
    arrival = streams.fulfilment.random(n_new)
    all_route = np.concatenate([b["route"], router.assign(t, market, sku, units, arrival)])
    priority = np.concatenate([b["sequence"] - 2.0**40, arrival])
    key = router.warehouse[all_route] * n_skus + all_sku
    filled = allocate(key, all_units, priority, stock.on_hand.ravel())
    rescued = fall_back(t, net, stock, router, book, filled, key, all_sku, all_units,
                        all_route, all_market, priority)
    all_route = np.where(rescued >= 0, rescued, all_route)
    filled |= rescued >= 0
    new_filled = filled[n_old:]

    backorders = net.market.backorders
    waiting = ~filled & np.concatenate([np.ones(n_old, bool), backorders[market]])
    lost = ~new_filled & ~backorders[market]
    base = int(b["sequence"].max()) + 1 if n_old else 0
    sequence = np.concatenate([b["sequence"], base + np.arange(n_new)])
    sales.backlog = {"order_day": all_day[waiting], "market": all_market[waiting],
                     "sku": all_sku[waiting], "units": all_units[waiting],
                     "sequence": sequence[waiting], "route": all_route[waiting]}
    day, market_, sku_ = all_day[filled], all_market[filled], all_sku[filled]
    shipped = Cohort(day, market_, sku_, all_units[filled], all_route[filled],
                     demand.prices.prices(day, market_, sku_),
                     demand.prices.coupon_cost(day, market_, sku_))
    sales.lost_today = per_listing(market[lost], sku[lost], shape, units[lost])
    sales.unfilled_today = per_listing(market[~new_filled], sku[~new_filled], shape) > 0
    return shipped, {"orders": n_new, "units_demanded": int(units.sum()),
                     "units_filled": int(units[new_filled].sum()),
                     "units_shipped": int(all_units[filled].sum()),
                     "lost_sales_units": int(units[lost].sum()),
                     **{f"account_health_{m}": float(f) for m, f in zip(net.markets, standing,
                                                                         strict=True)}}


def per_listing(market: np.ndarray, sku: np.ndarray, shape: tuple[int, ...],
                weights: np.ndarray | None = None) -> np.ndarray:
    """Orders (or ``weights``, e.g. units) summed per listing [market, sku]."""
    flat = np.bincount(market * shape[1] + sku, weights, minlength=shape[0] * shape[1])
    return flat.reshape(shape[0], shape[1])


def returning_buyers(streams: Streams, demand: DemandModel, t: int,
                     rating_effect: np.ndarray, rank: np.ndarray | None,
                     returning: np.ndarray | None, market: np.ndarray,
                     sku: np.ndarray) -> np.ndarray:
    """Which of today's orders come from returning buyers: each one with the share
    returning buyers have of its listing's expected orders."""
    if returning is None:
        return np.zeros(len(market), dtype=bool)
    total = demand.order_rate(t, rating_effect, rank, returning)
    first = demand.order_rate(t, rating_effect, rank, np.zeros_like(returning))
    share = np.divide(total - first, total, out=np.zeros_like(total), where=total > 0)
    return streams.customers.random(len(market)) < share[market, sku]


def fall_back(t: int, net: Network, stock: Stock, router: Router, book: PlanBook,
              filled: np.ndarray, key: np.ndarray, sku: np.ndarray, units: np.ndarray,
              route: np.ndarray, market: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """The fallback route of each unfilled warehouse-route order its market's fallback
    origin can ship from the stock the filled orders and this week's planned shipments
    leave (-1 for every other order)."""
    fallback = net.routes.fallback[market]
    rescued = np.full(len(filled), -1)
    idx = np.flatnonzero(~filled & (fallback >= 0) & ~router.direct[route])
    if not len(idx):
        return rescued
    n_skus = net.n_skus
    left = stock.on_hand.ravel() - np.bincount(
        key[filled], units[filled], minlength=stock.on_hand.size).astype(np.int64)
    if t % 7 == 0:  # the week's planned shipments leave this evening
        for origin, _, _, s, planned in book.shipments.get(t // 7 + 1, []):
            left[origin * n_skus + s] -= planned
    to = fallback[idx]
    ok = allocate(router.warehouse[to] * n_skus + sku[idx], units[idx], priority[idx],
                  np.maximum(left, 0))
    rescued[idx[ok]] = to[ok]
    return rescued


def ship_orders(t: int, net: Network, streams: Streams, orders: Cohort, router: Router,
                stock: Stock, pipeline: Pipeline, ledger: Ledger, sales: Sales,
                service: ServiceState, records: Records, customers: CustomerBase,
                exceptions: Exceptions) -> None:
    """Dispatch filled orders by their routes today, with the replacements of lost parcels
    the stock left can fill, and draw everything that follows."""
    n = len(orders.market)
    cohort = with_replacements(t, net, orders, router, stock, exceptions)
    if len(cohort.market) == 0:
        return
    everything = dispatch(t, net, streams, cohort, router, stock, pipeline, exceptions)
    if len(cohort.market) > n:
        book_replacements(t, net, ledger, pipeline, streams, exceptions,
                          everything.part(slice(n, None)))
    if n == 0:
        return
    sent = everything.part(slice(0, n))
    money = book_sale(t, net, ledger, sent)
    settle_exceptions(net, ledger, pipeline, streams.exceptions, exceptions, sent,
                      money["revenue"], t)
    market, sku = orders.market, orders.sku
    delivered = ~sent.lost & ~sent.undeliverable
    draws = draw_returns(streams.returns, net.scenario.returns,
                         net.catalog.return_probability[sku], sent.late, sent.damaged,
                         ~delivered, sent.delivery_time, ~sent.direct)
    refunds = book_returns(net, ledger, pipeline, sent, draws, t)

    returned_day = net.timeline.day(np.nan_to_num(draws.dispatch_time))
    sales.count(DELIVERED, market, sent.delivery_day, delivered)
    sales.count(LATE, market, sent.delivery_day, sent.late & delivered)
    sales.count(LOST, market, sent.delivery_day, sent.lost)
    sales.count(RETURNED, market, returned_day, draws.returned)
    customers.served(market, sent.delivery_day, ~sent.late & delivered, sent.late & delivered,
                     sent.lost, draws.returned)
    promise = net.market.promise_days[market]
    raise_tickets(net, streams.service, service, sent, promise, draws.returned, returned_day,
                  money["revenue"])

    placed = orders.order_day + ORDER_TIME_OF_DAY
    dispatch_days = sent.ship_time - placed
    defect = exceptions.health.observe(streams.exceptions, market, sent.ship_day,
                                       dispatch_days, sent.delivery_day, sent.lost,
                                       sent.undeliverable, sent.late)
    value = sent.value
    records.orders.add(
        order_day=orders.order_day, ship_day=sent.ship_day, market=market, sku=sku,
        units=orders.units, price=orders.price, warehouse=sent.warehouse,
        mode=sent.mode, direct=sent.direct, promise_days=promise,
        promised_day=np.floor(placed + promise).astype(np.int64),
        delivery_day=sent.delivery_day, delivery_days=sent.delivery_time - placed,
        dispatch_days=dispatch_days, on_time=~sent.late & delivered, lost=sent.lost,
        damaged=sent.damaged, undeliverable=sent.undeliverable,
        reshipped=sent.lost & exceptions.reship[market], defect=defect,
        returned=draws.returned, return_day=np.where(draws.returned, returned_day, -1),
        disposition=draws.disposition, revenue=money["revenue"],
        revenue_cny=money["revenue_cny"], product_cost_cny=value[:, 0],
        inbound_freight_cny=value[:, 1], import_duty_cny=value[:, 2],
        parcel_duty_cny=money["parcel_duty_cny"], outbound_freight_cny=money["freight_cny"],
        fees_cny=money["fees_cny"], refund_cny=refunds,
        landed_cost_cny=economics.landed_cost_per_unit(
            value[:, 0], value[:, 1], value[:, 2], money["parcel_duty_cny"],
            money["freight_cny"], money["pick_pack_cny"]),
    )


def with_replacements(t: int, net: Network, orders: Cohort, router: Router, stock: Stock,
                      exceptions: Exceptions) -> Cohort:
    """Today's orders followed by the replacements due that the stock they leave can fill;
    the others wait for tomorrow."""
    due = exceptions.due(t)
    if not len(due["day"]):
        return orders
    n_skus = net.n_skus
    key = router.warehouse[orders.route] * n_skus + orders.sku
    left = stock.on_hand.ravel() - np.bincount(key, orders.units, minlength=stock.on_hand.size)
    ok = allocate(router.warehouse[due["route"]] * n_skus + due["sku"], due["units"],
                  np.arange(len(due["day"])), np.maximum(left, 0))
    exceptions.wait(t, {name: column[~ok] for name, column in due.items()})
    return Cohort(*(np.concatenate([getattr(orders, name), due[name][ok]])
                    for name in _COHORT_FIELDS))


def dispatch(t: int, net: Network, streams: Streams, orders: Cohort, router: Router,
             stock: Stock, pipeline: Pipeline, exceptions: Exceptions) -> Dispatched:
    """Issue the orders' stock and send them: the warehouse's pick/pack queue, processing,
    the carrier's queue, transit, disruptions, customs inspections of direct parcels,
    losses, damage and undeliverable parcels."""
    sc = net.scenario
    rng = streams.transit
    market, sku, units = orders.market, orders.sku, orders.units
    n = len(market)
    warehouse = router.warehouse[orders.route]
    mode = router.mode[orders.route]
    direct = router.direct[orders.route]

    # Stock leaves at average value; aggregate per (warehouse, sku) for the stock update.
    key = warehouse * net.n_skus + sku
    keys, inverse = np.unique(key, return_inverse=True)
    per_key = np.bincount(inverse, weights=units)
    taken = stock.issue(keys // net.n_skus, keys % net.n_skus, per_key.astype(np.int64))
    value = taken[inverse] * (units / per_key[inverse])[:, None]
    stock.counts.cogs_cny += float(value.sum())
    stock.counts.shipped += int(units.sum())

    processing = np.zeros(n)
    for m, name in enumerate(net.markets):
        pick = market == m
        if pick.any():
            dist = sc.policies.fulfilment[name].order_processing_days
            processing[pick] = dist.sample(rng, int(pick.sum()))
    picked, pipeline.pick_queue = carrier_queue_wait(  # the packing line (sim.picking)
        units, warehouse, pipeline.pick_queue,
        net.warehouse.pick_capacity[:, t: t + CARRIER_LOOKAHEAD_DAYS])
    timeline = net.timeline
    factor = timeline.capacity[:, t: t + CARRIER_LOOKAHEAD_DAYS]
    capacity = np.where(factor > 0, net.mode.daily_capacity[:, None] * factor, 0.0)
    wait, pipeline.carrier_queue = carrier_queue_wait(units, mode, pipeline.carrier_queue,
                                                      capacity)
    ship_time = t + ORDER_TIME_OF_DAY + picked + processing + wait
    ship_day = timeline.day(ship_time)
    transit = np.zeros(n)
    for k in np.unique(mode):
        pick = mode == k
        transit[pick] = sc.modes[net.modes[k]].transit_days.sample(rng, int(pick.sum()))
    transit += extra_transit(rng, timeline.disruption, mode, ship_day)
    inspected = direct & (streams.customs.random(n) < net.market.inspection_probability[market])
    for m in np.unique(market[inspected]):
        pick = inspected & (market == m)
        dist = sc.markets[net.markets[m]].customs.inspection_delay_days
        transit[pick] += dist.sample(streams.customs, int(pick.sum()))
    delivery_time = ship_time + transit
    late = delivery_time - (orders.order_day + ORDER_TIME_OF_DAY) \
        > net.market.promise_days[market]
    lost = rng.random(n) < net.mode.loss_probability[mode]
    damaged = ~lost & (rng.random(n) < net.mode.damage_probability[mode])
    undeliverable = exceptions.draw_undeliverable(streams.exceptions, mode, lost)
    return Dispatched(orders, warehouse, mode, direct, value, ship_time, ship_day,
                      delivery_time, timeline.day(delivery_time), late, lost, damaged,
                      undeliverable)


def book_sale(t: int, net: Network, ledger: Ledger, sent: Dispatched) -> dict[str, np.ndarray]:
    """Sales, VAT, commission, fees, freight and parcel duty of the shipped orders, and the
    export rebate of the direct parcels (lost and undeliverable parcels are settled by
    ``settle_exceptions``). VAT is the rate in force
    on the sale's day; parcel duty the rates in force when the parcel arrives (customs apply
    the rates of the day they accept its declaration)."""
    fin = net.scenario.finance
    orders, direct = sent.orders, sent.direct
    market, sku, units = orders.market, orders.sku, orders.units
    ship_day, delivery_day = sent.ship_day, sent.delivery_day
    taxes = net.taxes
    vat_rate = taxes.vat_rate[market, t]
    currency = net.market.currency[market]
    gross = orders.price * units
    cash = payout_day(np.full(len(market), t), fin.payout_cycle_days)
    revenue_cny = ledger.book("sales", currency, gross, t, cash, market)
    coupon = orders.coupon
    if coupon.any():
        coupon = ledger.book("promotion", currency, -coupon, t, cash, market)
    vat = economics.vat_in_price(gross, vat_rate)
    ledger.book("vat", currency, -vat, t, cash, market)
    commission = ledger.book("commission", currency,
                             -economics.commission(gross, fin.commission_rate), t, cash, market)
    payment = ledger.book("payment_fee", currency,
                          -economics.payment_fee(gross, fin.payment_fee_rate), t, cash, market)

    freight_cny, pick_pack_cny = book_delivery(net, ledger, sent)

    value_ex_vat = economics.price_ex_vat(gross, vat_rate)
    at_arrival = (market, delivery_day)
    de_minimis, low_value = taxes.de_minimis[at_arrival], taxes.low_value_duty[at_arrival]
    duty = economics.parcel_duty(value_ex_vat, taxes.duty_rate[at_arrival], de_minimis,
                                 low_value)
    dutiable = direct & ((value_ex_vat > de_minimis) | (low_value > 0))
    parcel_duty_cny = np.zeros(len(market))
    if dutiable.any():
        parcel_duty_cny[dutiable] = -ledger.book(
            "parcel_duty", currency[dutiable], -duty[dutiable], delivery_day[dutiable],
            delivery_day[dutiable], market[dutiable])
    rebate_exports(taxes, ledger, "parcel", sku[direct], units[direct], ship_day[direct],
                   market[direct])
    return {"revenue": gross, "revenue_cny": revenue_cny, "freight_cny": freight_cny,
            "pick_pack_cny": pick_pack_cny, "parcel_duty_cny": parcel_duty_cny,
            "fees_cny": pick_pack_cny - commission - payment - coupon}


def book_delivery(net: Network, ledger: Ledger, sent: Dispatched
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Freight and pick and pack of dispatched parcels, in CNY (positive) per order."""
    orders, mode, direct, warehouse = sent.orders, sent.mode, sent.direct, sent.warehouse
    market, sku, units = orders.market, orders.sku, orders.units
    ship_day = sent.ship_day
    rates = net.mode
    freight = economics.freight_per_unit(
        rates.cost_per_unit[mode], rates.cost_per_kg[mode], rates.cost_per_m3[mode],
        rates.chargeable_kg_per_m3[mode], net.catalog.weight[sku],
        net.catalog.volume[sku]) * units
    freight *= 1.0 + net.timeline.surcharge[mode, ship_day]
    freight_cny = np.zeros(len(market))
    for direct_route, category in ((True, "parcel_freight"), (False, "last_mile")):
        pick = direct == direct_route
        if pick.any():
            freight_cny[pick] = -ledger.book(
                category, rates.currency[mode[pick]], -freight[pick], ship_day[pick],
                ship_day[pick], market[pick])
    fee = economics.pick_pack(net.warehouse.pick_pack_fee[warehouse],
                              net.warehouse.labour_per_unit[warehouse], units)
    pick_pack_cny = -ledger.book("pick_pack", net.warehouse.currency[warehouse], -fee,
                                 ship_day, ship_day, market)
    return freight_cny, pick_pack_cny


def settle_exceptions(net: Network, ledger: Ledger, pipeline: Pipeline,
                      rng: np.random.Generator, exceptions: Exceptions, sent: Dispatched,
                      gross: np.ndarray, sale_day: int) -> None:
    """Refund the customers of lost (unless reshipped) and undeliverable parcels, then book
    the exceptions' own costs (``gross``: each order's value in market currency)."""
    o = sent.orders
    refunded = exceptions.refunded(o.market, sent.lost, sent.undeliverable)
    if refunded.any():
        refund(net, ledger, o.market[refunded], gross[refunded], sent.delivery_day[refunded],
               sale_day)
    exceptions.settle(net, ledger, pipeline, rng, order_day=o.order_day, market=o.market,
                      sku=o.sku, units=o.units, route=o.route, price=o.price,
                      warehouse=sent.warehouse, mode=sent.mode, value=sent.value, gross=gross,
                      ship_day=sent.ship_day, delivery_day=sent.delivery_day, lost=sent.lost,
                      undeliverable=sent.undeliverable)


def book_replacements(t: int, net: Network, ledger: Ledger, pipeline: Pipeline,
                      streams: Streams, exceptions: Exceptions, sent: Dispatched) -> None:
    """Replacements of lost parcels: freight and pick and pack, and their own exceptions;
    no sale."""
    book_delivery(net, ledger, sent)
    o = sent.orders
    settle_exceptions(net, ledger, pipeline, streams.exceptions, exceptions, sent,
                      o.price * o.units, t)


def refund(net: Network, ledger: Ledger, market: np.ndarray, gross: np.ndarray,
           day: np.ndarray, sale_day: int | np.ndarray) -> np.ndarray:
    """Refund customers (deducted from the next payout) and reclaim the VAT in the price
    at the rate of the sale's day; returns the refund in CNY (positive)."""
    currency = net.market.currency[market]
    cash = payout_day(day, net.scenario.finance.payout_cycle_days)
    vat = economics.vat_in_price(gross, net.taxes.vat_rate[market, sale_day])
    ledger.book("vat", currency, vat, day, cash, market)
    return -ledger.book("refund", currency, -gross, day, cash, market)


def book_returns(net: Network, ledger: Ledger, pipeline: Pipeline, sent: Dispatched,
                 draws: ReturnDraws, sale_day: int) -> np.ndarray:
    """Refunds, return costs and dispositions of orders sold on ``sale_day``; restocks are
    scheduled into the pipeline. Returns each order's refund in CNY."""
    r = draws.returned
    market, sku, units = sent.orders.market, sent.orders.sku, sent.orders.units
    refund_cny = np.zeros(len(market))
    if not r.any():
        return refund_cny
    spec = net.scenario.returns
    returned = np.flatnonzero(r)
    m, s, u = market[returned], sku[returned], units[returned]
    day = net.timeline.day
    received = day(draws.receipt_time[returned])
    decided = day(draws.decision_time[returned])
    refund_cny[returned] = refund(net, ledger, m,
                                  spec.refund_fraction * sent.orders.price[returned] * u,
                                  received, sale_day)
    ledger.book("return_shipping", 0, -spec.return_shipping_cost_per_unit_cny * u,
                received, received, m)
    disposition = draws.disposition[returned]
    warehouse, value = sent.warehouse[returned], sent.value[returned]
    for i, name in enumerate(DISPOSITIONS):
        pick = np.flatnonzero(disposition == i)
        if not len(pick):
            continue
        d = spec.disposition[name]
        units_, market_, decided_ = u[pick], m[pick], decided[pick]
        ledger.book("disposition", 0, -d.cost_per_unit_cny * units_, decided_, decided_,
                    market_)
        if d.recovery_fraction_of_cost > 0:
            recovery = d.recovery_fraction_of_cost * net.catalog.unit_cost[s[pick]] * units_
            ledger.book("liquidation", 0, recovery, decided_, decided_, market_)
        if name in ("restock", "return_to_origin"):
            into = warehouse[pick] if name == "restock" else np.full(len(pick),
                                                                     net.warehouse.origin)
            per_unit = value[pick] / units_[:, None]
            pipeline.schedule_restock(decided_, into, s[pick], units_,
                                      per_unit * units_[:, None])
    return refund_cny


def raise_tickets(net: Network, rng: np.random.Generator, service: ServiceState,
                  sent: Dispatched, promise: np.ndarray, returned: np.ndarray,
                  returned_day: np.ndarray, gross: np.ndarray) -> None:
    """Schedule customer-service tickets for delays, losses and returns on their days and
    markets, with what each order's customer still pays (``gross`` less refunds)."""
    rates = net.scenario.service.tickets
    n = len(sent.lost)
    overdue_day = net.timeline.day(sent.orders.order_day + 0.5 + promise)
    delay = sent.late & ~sent.lost & (rng.random(n) < rates.per_late_order)
    loss = sent.lost & (rng.random(n) < rates.per_lost_order)
    ret = returned & (rng.random(n) < rates.per_return)
    kept = (1.0 - net.scenario.returns.refund_fraction) * gross
    shape = service.raised.shape[1:]
    for kind, pick, day, open_value in ((1, delay, overdue_day, gross),
                                        (2, loss, sent.delivery_day, 0.0 * gross),
                                        (3, ret, returned_day, kept)):
        cell = sent.orders.market[pick] * shape[1] + day[pick]
        size = shape[0] * shape[1]
        service.raised[kind] += np.bincount(cell, minlength=size).reshape(shape)
        service.open_value[kind] += np.bincount(cell, open_value[pick],
                                                minlength=size).reshape(shape)
