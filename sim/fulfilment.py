"""The daily order cohort: allocate stock to orders, dispatch parcels, book their money.

All of a day's orders are handled at once as numpy arrays (one element per order), so a year
of a busy seller costs a few hundred vectorised steps, not a SimPy process per order.
Everything an order will cause later (delivery, loss, return, rating change, customer-service
ticket, refund, restock) is drawn now and scheduled into day-indexed arrays or the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.returns import DISPOSITIONS, draw_returns
from sim.shipping import carrier_queue_wait, extra_transit

if TYPE_CHECKING:
    from sim.operation import Operation

ORDER_TIME_OF_DAY = 0.5
"""Orders are placed, on average, at noon; delivery days are counted from then."""
CARRIER_LOOKAHEAD_DAYS = 120
"""How far ahead a parcel queue looks for capacity; a longer wait ships on the last day."""


def units_up_to(key: np.ndarray, units: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """For each order, the units of its own key's orders ahead of it (by ``priority``,
    lowest first) plus its own, in the input order."""
    if len(key) == 0:
        return np.zeros(0, dtype=units.dtype)
    order = np.lexsort((priority, key))
    k, u = key[order], units[order]
    cumulative = np.cumsum(u)
    first = np.empty(len(k), dtype=bool)
    first[0] = True
    np.not_equal(k[1:], k[:-1], out=first[1:])
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(k)), 0))
    within_group = np.empty_like(cumulative)
    within_group[order] = cumulative - (cumulative - u)[group_start]
    return within_group


def allocate(key: np.ndarray, units: np.ndarray, priority: np.ndarray,
             available: np.ndarray) -> np.ndarray:
    """Which orders stock can fill: first come, first served within each stock key.

    Orders are taken in ``priority`` order (lowest first) within each ``key`` (a warehouse x
    SKU pair); an order is filled whole when the units of all orders ahead of it plus its own
    fit in ``available[key]``. Returns a boolean mask in the input order.
    """
    return units_up_to(key, units, priority) <= available[key]


def add_counts(table: np.ndarray, row: np.ndarray, column: np.ndarray,
               selected: np.ndarray) -> None:
    """table[row, column] += 1 for each selected element (repeats accumulate)."""
    flat = row[selected].astype(np.int64) * table.shape[1] + column[selected]
    table += np.bincount(flat, minlength=table.size).reshape(table.shape)


def payout_day(day: np.ndarray, cycle: int) -> np.ndarray:
    """The marketplace pays what accrued on ``day`` at the end of its payout cycle."""
    return (np.asarray(day) // cycle + 1) * cycle


def ship_orders(op: Operation, t: int, order_day: np.ndarray, market: np.ndarray,
                sku: np.ndarray, units: np.ndarray, route: np.ndarray) -> None:
    """Dispatch filled orders by their routes today and draw everything that follows."""
    n = len(market)
    if n == 0:
        return
    sc = op.scenario
    rng = op.streams.transit
    warehouse = op.router.warehouse[route]
    mode = op.router.mode[route]
    direct = op.router.direct[route]

    # Stock leaves at average value; aggregate per (warehouse, sku) for the stock update.
    key = warehouse * op.n_skus + sku
    keys, inverse = np.unique(key, return_inverse=True)
    per_key = np.bincount(inverse, weights=units)
    taken = op.stock.issue(keys // op.n_skus, keys % op.n_skus, per_key.astype(np.int64))
    value = taken[inverse] * (units / per_key[inverse])[:, None]
    op.money.cogs_cny += float(value.sum())
    op.units.shipped += int(units.sum())

    processing = np.zeros(n)
    for m, name in enumerate(op.markets):
        pick = market == m
        if pick.any():
            dist = sc.policies.fulfilment[name].order_processing_days
            processing[pick] = dist.sample(rng, int(pick.sum()))
    factor = op.timeline.capacity[:, t: t + CARRIER_LOOKAHEAD_DAYS]
    capacity = np.where(factor > 0, op.mode_daily_capacity[:, None] * factor, 0.0)
    wait, op.carrier_queue = carrier_queue_wait(units, mode, op.carrier_queue, capacity)
    ship_time = t + ORDER_TIME_OF_DAY + processing + wait
    ship_day = op.timeline.day(ship_time)
    transit = np.zeros(n)
    for k in np.unique(mode):
        pick = mode == k
        transit[pick] = sc.modes[op.modes[k]].transit_days.sample(rng, int(pick.sum()))
    transit += extra_transit(rng, op.timeline.disruption, mode, ship_day)
    inspected = direct & (op.streams.customs.random(n) < op.inspection_probability[market])
    for m in np.unique(market[inspected]):
        pick = inspected & (market == m)
        dist = sc.markets[op.markets[m]].customs.inspection_delay_days
        transit[pick] += dist.sample(op.streams.customs, int(pick.sum()))
    delivery_time = ship_time + transit
    delivery_day = op.timeline.day(delivery_time)
    placed = order_day + ORDER_TIME_OF_DAY
    delivery_days = delivery_time - placed
    promise = op.promise_days[market]
    late = delivery_days > promise
    lost = rng.random(n) < op.mode_loss[mode]
    damaged = ~lost & (rng.random(n) < op.mode_damage[mode])

    money = _book_order_money(op, t, market, sku, units, mode, direct, warehouse, ship_day,
                              delivery_day, value, lost)
    draws = draw_returns(op.streams.returns, sc.returns, op.return_probability[sku], late,
                         damaged, lost, delivery_time, ~direct)
    refunds = _book_returns(op, market, sku, units, warehouse, direct, value, draws)

    returned_day = op.timeline.day(np.nan_to_num(draws.dispatch_time))
    add_counts(op.events[0], market, delivery_day, ~lost)
    add_counts(op.events[1], market, delivery_day, late & ~lost)
    add_counts(op.events[2], market, delivery_day, lost)
    add_counts(op.events[3], market, returned_day, draws.returned)
    _raise_tickets(op, market, order_day, promise, late, lost, delivery_day, draws.returned,
                   returned_day)

    op.orders.add(
        order_day=order_day, ship_day=ship_day, market=market, sku=sku, units=units,
        price=op.price[market, sku], warehouse=warehouse, mode=mode, direct=direct,
        promise_days=promise, promised_day=np.floor(placed + promise).astype(np.int32),
        delivery_day=delivery_day, delivery_days=delivery_days,
        on_time=~late & ~lost, lost=lost, damaged=damaged, returned=draws.returned,
        return_day=np.where(draws.returned, returned_day, -1), disposition=draws.disposition,
        revenue=money["revenue"], revenue_cny=money["revenue_cny"],
        product_cost_cny=value[:, 0], inbound_freight_cny=value[:, 1],
        import_duty_cny=value[:, 2], parcel_duty_cny=money["parcel_duty_cny"],
        outbound_freight_cny=money["freight_cny"], fees_cny=money["fees_cny"],
        refund_cny=refunds,
        landed_cost_cny=value.sum(axis=1) + money["parcel_duty_cny"] + money["freight_cny"]
        + money["pick_pack_cny"],
    )


def _book_order_money(op: Operation, t: int, market, sku, units, mode, direct, warehouse,
                      ship_day, delivery_day, value, lost) -> dict[str, np.ndarray]:
    """Sales, VAT, commission, fees, freight and parcel duty of the shipped orders."""
    sc = op.scenario
    fin = sc.finance
    currency = op.currency_of_market[market]
    gross = op.price[market, sku] * units
    cash = payout_day(np.full(len(market), t), fin.payout_cycle_days)
    revenue_cny = op.ledger.book("sales", currency, gross, t, cash, market)
    vat = gross * op.vat_rate[market] / (1.0 + op.vat_rate[market])
    op.ledger.book("vat", currency, -vat, t, cash, market)
    commission = op.ledger.book("commission", currency, -fin.commission_rate * gross, t, cash,
                                market)
    payment = op.ledger.book("payment_fee", currency, -fin.payment_fee_rate * gross, t, cash,
                             market)

    chargeable = np.maximum(op.weight[sku], op.volume[sku] * op.mode_chargeable[mode])
    freight = (op.mode_cost_unit[mode] + op.mode_cost_kg[mode] * chargeable
               + op.mode_cost_m3[mode] * op.volume[sku]) * units
    freight *= 1.0 + op.timeline.surcharge[mode, ship_day]
    freight_cny = np.zeros(len(market))
    for direct_route, category in ((True, "parcel_freight"), (False, "last_mile")):
        pick = direct == direct_route
        if pick.any():
            freight_cny[pick] = -op.ledger.book(
                category, op.currency_of_mode[mode[pick]], -freight[pick], ship_day[pick],
                ship_day[pick], market[pick])
    fee = op.pick_pack_fee[warehouse]
    pick_pack_cny = -op.ledger.book("pick_pack", op.currency_of_warehouse[warehouse], -fee,
                                    ship_day, ship_day, market)

    value_ex_vat = gross - vat
    dutiable = direct & (value_ex_vat > op.de_minimis[market])
    duty = np.where(dutiable, op.duty_rate[market] * value_ex_vat, 0.0)
    parcel_duty_cny = np.zeros(len(market))
    if dutiable.any():
        parcel_duty_cny[dutiable] = -op.ledger.book(
            "parcel_duty", currency[dutiable], -duty[dutiable], delivery_day[dutiable],
            delivery_day[dutiable], market[dutiable])
    if lost.any():
        refund(op, market[lost], gross[lost], delivery_day[lost])
        op.units.lost_parcels += int(units[lost].sum())
    return {"revenue": gross, "revenue_cny": revenue_cny, "freight_cny": freight_cny,
            "pick_pack_cny": pick_pack_cny, "parcel_duty_cny": parcel_duty_cny,
            "fees_cny": pick_pack_cny - commission - payment}


def refund(op: Operation, market: np.ndarray, gross: np.ndarray,
           day: np.ndarray) -> np.ndarray:
    """Refund customers (deducted from the next payout) and reclaim the VAT in the price;
    returns the refund in CNY (positive)."""
    currency = op.currency_of_market[market]
    cash = payout_day(day, op.scenario.finance.payout_cycle_days)
    vat = gross * op.vat_rate[market] / (1.0 + op.vat_rate[market])
    op.ledger.book("vat", currency, vat, day, cash, market)
    return -op.ledger.book("refund", currency, -gross, day, cash, market)


def _book_returns(op: Operation, market, sku, units, warehouse, direct, value,
                  draws) -> np.ndarray:
    """Refunds, return costs and dispositions; restocks are scheduled into the stock."""
    r = draws.returned
    refund_cny = np.zeros(len(market))
    if not r.any():
        return refund_cny
    sc = op.scenario
    spec = sc.returns
    m, s, u = market[r], sku[r], units[r]
    received = op.timeline.day(draws.receipt_time[r])
    decided = op.timeline.day(draws.decision_time[r])
    refund_cny[r] = refund(op, m, spec.refund_fraction * op.price[m, s] * u, received)
    op.ledger.book("return_shipping", 0, -spec.return_shipping_cost_per_unit_cny * u,
                   received, received, m)
    op.units.returned += int(u.sum())
    disposition = draws.disposition[r]
    for i, name in enumerate(DISPOSITIONS):
        pick = disposition == i
        if not pick.any() or name not in spec.disposition:
            continue
        d = spec.disposition[name]
        op.ledger.book("disposition", 0, -d.cost_per_unit_cny * u[pick], decided[pick],
                       decided[pick], m[pick])
        if d.recovery_fraction_of_cost > 0:
            recovery = d.recovery_fraction_of_cost * op.unit_cost[s[pick]] * u[pick]
            op.ledger.book("liquidation", 0, recovery, decided[pick], decided[pick], m[pick])
        if name in ("restock", "return_to_origin"):
            into = warehouse[r][pick] if name == "restock" else np.full(
                int(pick.sum()), op.origin_warehouse)
            per_unit = value[r][pick] / units[r][pick][:, None]
            np.add.at(op.restock_units, (decided[pick], into, s[pick]), u[pick])
            np.add.at(op.restock_value, (decided[pick], into, s[pick]),
                      per_unit * u[pick][:, None])
        op.returns_by_disposition[i] += int(u[pick].sum())
    return refund_cny


def _raise_tickets(op: Operation, market, order_day, promise, late, lost, delivery_day,
                   returned, returned_day) -> None:
    """Schedule customer-service tickets for delays, losses and returns on their days."""
    rng = op.streams.service
    rates = op.scenario.service.tickets
    n = len(market)
    overdue_day = op.timeline.day(order_day + 0.5 + promise)
    delay = late & ~lost & (rng.random(n) < rates.per_late_order)
    loss = lost & (rng.random(n) < rates.per_lost_order)
    ret = returned & (rng.random(n) < rates.per_return)
    n_days = op.tickets.shape[1]
    op.tickets[1] += np.bincount(overdue_day[delay], minlength=n_days)
    op.tickets[2] += np.bincount(delivery_day[loss], minlength=n_days)
    op.tickets[3] += np.bincount(returned_day[ret], minlength=n_days)
