"""Wire a run into one SimPy environment and play it.

``compile_network`` turns the scenario into read-only arrays once; a run adds the small
state objects that change (stock, pipeline, sales, service, ledger, records) and the plan
being executed. The day is a fixed sequence of SimPy events (time in days; day t runs from
t to t+1):

    t + 0.00..0.50  purchase orders and bulk shipments arrive whenever their journeys end
    t + 0.45        re-planning (review days only, when a policy object is given): the
                    policy sees the state and plans; its first period is executed
    t + 0.50        daily_operations: returns restocked, ad spend, demand cohort and
                    dispatch, storage fees, aged-stock clearances and surcharges, rating
                    update
    t + 0.90        replenishment: a plan's shipments of the week leave (on its first
                    day), overseas warehouses pull stock from origin, origin warehouses
                    raise purchase orders
    t + 0.95        customer_service: today's tickets join the agents' queue; those about
                    an order answered after the SLA may become disputes
    t + 0.99        the day's state is recorded

Purchase orders and bulk shipments are processes of their own (``sim.suppliers``,
``sim.shipping``); the many orders are daily numpy cohorts (``sim.fulfilment``). A run
starts from the scenario's opening stock, or from where the seller stands today
(``sim.state.OpeningState``: stock on hand, on its way and on order, orders waiting, ad
carry-over).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim import (
    ageing,
    charges,
    customers,
    demand,
    disputes,
    fulfilment,
    overheads,
    replenishment,
    staffing,
)
from sim.customers import CustomerBase
from sim.exceptions import Exceptions
from sim.execution import PlanBook, Router, execute, execute_first_period
from sim.integrity import whole_units
from sim.inventory import Policies, Stock
from sim.ledger import Ledger, fx_path
from sim.network import Network, compile_network
from sim.pipeline import Pipeline
from sim.plan import Plan, PlanFileError, load_plan
from sim.policy import ReplanPolicy, snapshot
from sim.ranking import Listings
from sim.records import Records, record_day
from sim.results import RunResult, collect
from sim.rng import Streams
from sim.sales import Sales
from sim.scenario import Scenario
from sim.service import ServiceState
from sim.state import OpeningState
from sim.tables import TableSink

Process = Generator[simpy.Event, Any, None]


class MissingPolicy(ValueError):
    """The scenario asks for re-planning but no policy object was handed to the run."""


@dataclass
class PlanState:
    """The plan being executed: routing quotas, planned shipments and the last re-plan."""

    router: Router
    book: PlanBook
    replanned_day: int = -1


@dataclass
class Run:
    """One run's wiring: the network and the state objects its processes change."""

    network: Network
    streams: Streams
    demand: demand.DemandModel
    plans: PlanState
    policies: Policies
    stock: Stock
    pipeline: Pipeline
    sales: Sales
    listings: Listings
    customers: CustomerBase
    service: ServiceState
    ledger: Ledger
    records: Records
    logistics: replenishment.Logistics
    exceptions: Exceptions


def start_run(env: simpy.Environment, net: Network, seed: int, plan: Plan | None,
              replanning: bool, state: OpeningState | None = None,
              sink: TableSink | None = None) -> Run:
    """The state at the start of day 0: opening stock on the shelves (and, with an opening
    ``state``, its goods on their way and on order and its waiting orders), the plan
    loaded."""
    sc = net.scenario
    streams = Streams(seed)
    router = Router.of(net)
    book = PlanBook(sc, net.markets, net.skus, net.warehouses, net.modes, net.channels)
    spend = None
    if plan is not None and plan.takes("ad_spend"):
        schedule = demand.ad_spend_schedule(sc, net.channels, net.timeline.n_days)
        spend = book.ad_spend(plan, schedule, net.fx_start[net.currency_of_channel])
    carry_in = None
    if state is not None and state.adstock:
        if spend is None:
            spend = demand.ad_spend_schedule(sc, net.channels, net.timeline.n_days)
        carry_in = state.carry_in(net.channels, spend[:, 0],
                                  net.fx_start[net.currency_of_channel])
    fx = fx_path(streams.fx, net.fx_start, net.fx_volatility, net.timeline.n_days)
    policies = net.policies
    if replanning or (plan is not None and plan.takes("overseas_replenishment")):
        policies = policies.without([w for w in range(len(net.warehouses))
                                     if not net.is_origin(w)])
    if plan is not None:
        execute(plan, book, router)
    stock = opening_stock(net, state)
    ageing.open_lots(net, stock, lambda: env.now)
    pipeline = Pipeline(net)
    ledger = Ledger(net.currencies, fx, len(net.markets))
    records = Records(net, stock.on_hand, sink)
    first_orders = demand.expected_daily_units(sc, net.markets, net.skus).sum(axis=1) \
        / ((1.0 + sc.conversion.extra_units_per_order_mean)
           * customers.steady_repeat_factor(sc.customers))
    run = Run(
        network=net, streams=streams,
        demand=demand.DemandModel(sc, net.markets, net.skus, net.timeline, streams, spend,
                                  carry_in),
        plans=PlanState(router, book), policies=policies, stock=stock, pipeline=pipeline,
        sales=Sales(len(net.markets), net.n_skus, net.timeline.n_days,
                    sc.conversion.initial_rating),
        listings=Listings(sc.ranking, len(net.markets), net.n_skus,
                          sc.conversion.initial_rating),
        customers=CustomerBase(sc.customers, net.timeline.n_days, first_orders,
                               mean_delivery_days(net)),
        service=ServiceState(sc.service, net.timeline.weekday, len(net.markets),
                             staffing.agents_by_day(sc, net.timeline.n_days), records.tickets),
        ledger=ledger,
        records=records,
        logistics=replenishment.Logistics(env, net, streams, stock, pipeline, ledger, records),
        exceptions=Exceptions(net))
    if state is not None:
        take_over(net, state, run.logistics, run.sales)
    staffing.pay_agents(sc, ledger, run.service.agents, run.service.clock.hours_per_day)
    overheads.book_overheads(sc, ledger, net.currencies)
    return run


def mean_delivery_days(net: Network) -> np.ndarray:
    """Mean days from order to delivery on each market's own route [market]: processing
    and the mode's transit."""
    sc = net.scenario
    return np.array([sc.policies.fulfilment[m].order_processing_days.mean()
                     + sc.modes[net.modes[net.routes.mode[i]]].transit_days.mean()
                     for i, m in enumerate(net.markets)])


def opening_stock(net: Network, state: OpeningState | None = None) -> Stock:
    """Each warehouse's opening stock: its days of cover at the planning run-rate, or what
    an opening ``state`` puts on its shelves where it names the warehouse."""
    stock = Stock(len(net.warehouses), net.n_skus)
    shelves = state.shelves(net.scenario) if state is not None else {}
    for w, name in enumerate(net.warehouses):
        if name in shelves:
            units = shelves[name]
        else:
            days = net.scenario.warehouses[name].initial_stock_days
            units = whole_units(np.round(days * net.planning_units[w]),
                                f"warehouses.{name}.initial_stock_days")
        value = np.zeros((net.n_skus, 3))
        value[:, 0] = units * net.catalog.unit_cost
        stock.receive(w, np.arange(net.n_skus), units, value)
    stock.counts.opening = int(stock.on_hand.sum())
    stock.counts.opening_value_cny = stock.total_value()
    return stock


def take_over(net: Network, state: OpeningState, logistics: replenishment.Logistics,
              sales: Sales) -> None:
    """An opening state's goods on their way (one shipment per lane, mode and arrival day),
    its open purchase orders (one per supplier and ready day) and its waiting orders."""
    sc = net.scenario
    skus = net.skus
    shipments: dict[tuple[str, int, int, int, int], np.ndarray] = {}
    for line in state.in_transit:
        key = (line.lane(sc), net.warehouses.index(line.origin),
               net.warehouses.index(line.warehouse), net.modes.index(line.mode),
               line.arrival_day)
        units = shipments.setdefault(key, np.zeros(net.n_skus, dtype=np.int64))
        units[skus.index(line.sku)] += line.units
    for (lane, origin, w, k, day), units in shipments.items():
        sent = np.flatnonzero(units > 0)
        if len(sent):
            logistics.take_over_shipment(lane, origin, w, k, sent, units[sent], day)
    suppliers = [s.name for s in net.suppliers]
    orders: dict[tuple[int, int], np.ndarray] = {}
    for order in state.open_orders:
        units = orders.setdefault((suppliers.index(order.supplier), order.ready_day),
                                  np.zeros(net.n_skus, dtype=np.int64))
        units[skus.index(order.sku)] += order.units
    for (supplier, day), units in orders.items():
        ordered = np.flatnonzero(units > 0)
        if len(ordered):
            logistics.take_over_order(supplier, ordered, units[ordered], day)
    market = np.array([net.markets.index(b.market) for b in state.backlog], dtype=np.int64)
    sku = np.array([skus.index(b.sku) for b in state.backlog], dtype=np.int64)
    count = np.array([b.units for b in state.backlog], dtype=np.int64)
    # Each market's own route is route option m (``sim.network.RouteTable``).
    sales.carry_backlog(np.repeat(market, count), np.repeat(sku, count),
                        np.repeat(market, count))


def daily_operations(env: simpy.Environment, run: Run) -> Process:
    net, streams, stock, ledger = run.network, run.streams, run.stock, run.ledger
    router = run.plans.router
    for t in range(net.days):
        yield env.timeout(t + 0.5 - env.now)
        run.pipeline.restock(t, stock)
        ad_cny = charges.spend_on_ads(t, net, ledger, run.demand.ad_spend[:, t])
        charges.pay_promotions(t, net, ledger, run.demand.prices.deal_fees(t),
                               run.customers.owned_channel_cost())
        on_shelves = stock.on_hand.copy()
        shipped, flows = fulfilment.serve_demand(t, net, streams, run.demand, run.sales, stock,
                                                 router, run.plans.book, run.service,
                                                 run.listings, run.customers,
                                                 run.exceptions.health)
        fulfilment.ship_orders(t, net, streams, shipped, router, stock, run.pipeline, ledger,
                               run.sales, run.service, run.records, run.customers,
                               run.exceptions)
        run.records.issued(t, on_shelves - stock.on_hand)
        own_route = stock.on_hand[net.routes.warehouse[: len(net.markets)]]
        sold = fulfilment.per_listing(shipped.market, shipped.sku, own_route.shape,
                                      shipped.units)
        run.records.listings.add(
            t, sessions=run.demand.listing_sessions(t, run.listings.active_factor()),
            units_demanded=run.sales.demand_units[:, :, t], units_sold=sold,
            lost_sales_units=run.sales.lost_today, stock_on_hand=own_route,
            price=net.catalog.price * run.demand.prices.price_factor(t))
        run.listings.close_day(sold, run.sales.potential_today,
                               run.sales.unfilled_today | (own_route == 0),
                               fulfilment.per_listing(shipped.market, shipped.sku,
                                                      own_route.shape))
        charges.charge_storage(t, net, ledger, stock)
        ageing.assess(t, net, ledger, stock)
        run.sales.update_rating(t, net.scenario.conversion)
        yield env.timeout(0.49)
        record_day(t, net, run.records, flows, ad_cny, run.demand, run.sales, stock,
                   run.pipeline, np.unique(router.warehouse))


def replenishment_review(env: simpy.Environment, run: Run) -> Process:
    net, plans = run.network, run.plans
    for t in range(net.days):
        yield env.timeout(t + 0.9 - env.now)
        if t % 7 == 0 or t == plans.replanned_day:
            replenishment.send_planned(t, net, plans.book, run.logistics)
        backlog = run.sales.backlog_by(plans.router.warehouse, len(net.warehouses)) \
            + plans.book.committed(t, net.supply_cover_days)
        replenishment.review_stock(t, net, run.policies, backlog, run.logistics)


def replanning(env: simpy.Environment, run: Run, policy: ReplanPolicy) -> Process:
    """Hand the state to the policy every review and execute its plan until the next one;
    a re-plan on a mid-week day sends that week's shipments the same day."""
    net, plans = run.network, run.plans
    for t in range(0, net.days, policy.review_days):
        yield env.timeout(t + 0.45 - env.now)
        plan = policy.replan(snapshot(t, net, run.stock, run.pipeline, run.sales))
        last = (t + policy.review_days - 1) // 7 + 1
        execute_first_period(plan, plans.book, plans.router, range(t // 7 + 1, last + 1))
        plans.replanned_day = t


def customer_service(env: simpy.Environment, run: Run) -> Process:
    for t in range(run.network.days):
        yield env.timeout(t + 0.95 - env.now)
        tickets = run.service.serve(t, run.streams.service)
        if tickets is not None:
            disputed, cost = disputes.open_disputes(t, run.network, run.streams.disputes,
                                                    tickets, run.ledger, run.sales)
            run.service.record(tickets, disputed, cost)
            run.customers.complained(t, tickets.market[disputed])


def cut_horizon(scenario: Scenario, days: int) -> Scenario:
    """The same scenario over its first ``days`` days (for quick looks and tests)."""
    horizon = scenario.horizon.model_copy(
        update={"days": days, "warmup_days": min(scenario.horizon.warmup_days, days - 1)})
    return scenario.model_copy(update={"horizon": horizon})


def simulate(scenario: Scenario, seed: int = 0, days: int | None = None,
             plan: Plan | None = None, policy: ReplanPolicy | None = None,
             state: OpeningState | None = None, sink: TableSink | None = None) -> RunResult:
    """Play the scenario forward once; the same seed gives the same tables.

    ``plan`` (or the scenario's ``plan`` file) is executed as data; ``policy`` re-plans
    every ``policy.review_days`` (required when the scenario sets ``policies.replan``);
    ``state`` is where the seller stands on day 0 (``StateError`` if the scenario cannot
    hold it); ``sink`` takes the tables that grow with orders as the run goes (default:
    kept in memory, ``sim.tables``).
    """
    started = time.perf_counter()
    if days is not None:
        scenario = cut_horizon(scenario, days)
    plan_file = scenario.plan if plan is None else None
    if plan_file is not None:
        plan = load_plan(plan_file)
    if policy is None and scenario.policies.replan is not None:
        raise MissingPolicy("the scenario sets policies.replan: pass a re-planning policy "
                            "(experiments.engine.replanning.replan_policy builds one)")
    if state is not None:
        state.check(scenario)
    env = simpy.Environment()
    net = compile_network(scenario)
    try:
        run = start_run(env, net, seed, plan, replanning=policy is not None, state=state,
                        sink=sink)
    except PlanFileError as exc:
        if plan_file is None:
            raise
        raise PlanFileError(f"{plan_file}: {exc}") from None
    for process in (daily_operations, replenishment_review, customer_service):
        env.process(process(env, run))
    if policy is not None:
        env.process(replanning(env, run, policy))
    env.run(until=net.days)
    for shipment in run.pipeline.open.values():
        run.records.open_shipment(shipment)
    return collect(net, seed, started, run.records, run.ledger, run.stock, run.pipeline,
                   run.demand.paid_order_share, run.customers)
