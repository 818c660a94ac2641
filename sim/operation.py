"""The state of one simulated operation and the daily steps that change it.

``Operation`` compiles a Scenario into index arrays (markets, SKUs, warehouses, modes) and
holds the mutable state: stock, backorders, carrier queues, rating, scheduled events and the
recorders. The SimPy processes in ``sim.model`` call its daily steps in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from sim import demand
from sim.calendar import Timeline, shutdown_windows
from sim.execution import PlanBook, Router, execute, execute_first_period
from sim.fulfilment import allocate, ship_orders
from sim.inventory import NO_POLICY, Policies, Stock
from sim.ledger import Ledger, fx_path
from sim.plan import Plan
from sim.policy import OperationState, ReplanPolicy
from sim.recorder import Recorder, RowRecorder
from sim.returns import DISPOSITIONS
from sim.rng import Streams
from sim.scenario import BASE_CURRENCY, Scenario
from sim.service import TICKET_TYPES, ServiceDesk, WorkingClock
from sim.shipping import BulkShipment, bulk_shipment
from sim.suppliers import SupplierLine, purchase_order

ORDER_COLUMNS = {
    "order_day": "int32", "ship_day": "int32", "market": "int16", "sku": "int16",
    "units": "int32", "price": "float64", "warehouse": "int16", "mode": "int16",
    "direct": "bool", "promise_days": "float64", "promised_day": "int32",
    "delivery_day": "int32",
    "delivery_days": "float64", "on_time": "bool", "lost": "bool", "damaged": "bool",
    "returned": "bool", "return_day": "int32", "disposition": "int8", "revenue": "float64",
    "revenue_cny": "float64", "product_cost_cny": "float64", "inbound_freight_cny": "float64",
    "import_duty_cny": "float64", "parcel_duty_cny": "float64",
    "outbound_freight_cny": "float64", "fees_cny": "float64", "refund_cny": "float64",
    "landed_cost_cny": "float64",
}
SHIPMENT_COLUMNS = {
    "shipment": "int32", "kind": "object", "mode": "int16", "origin": "int16",
    "destination": "int16", "sku": "int16", "ordered_units": "int64", "units": "int64",
    "created_day": "float64", "departed_day": "float64", "arrived_day": "float64",
    "containers": "int32", "freight_cny": "float64", "duty_cny": "float64",
    "lost_units": "int64", "damaged_units": "int64",
}
TICKET_COLUMNS = {"arrival_hour": "float64", "type": "int8", "first_response_hours": "float64",
                  "resolution_hours": "float64"}


@dataclass
class UnitCounts:
    """Running unit totals for the conservation identity (see sim.results)."""

    opening: int = 0
    purchased: int = 0
    defective: int = 0
    bulk_lost: int = 0
    bulk_damaged: int = 0
    shipped: int = 0
    restocked: int = 0
    returned: int = 0
    lost_parcels: int = 0
    demanded: int = 0
    filled_on_demand: int = 0
    lost_sales: int = 0


@dataclass
class MoneyCounts:
    """Inventory value flows in CNY not visible in the cash ledger."""

    opening_inventory_cny: float = 0.0
    cogs_cny: float = 0.0
    write_off_cny: float = 0.0


class Operation:
    def __init__(self, env: simpy.Environment, scenario: Scenario, seed: int,
                 plan: Plan | None = None, replanning: bool = False) -> None:
        self.env = env
        sc = self.scenario = scenario
        self.streams = Streams(seed)
        self.days = sc.horizon.days
        self.markets = list(sc.markets)
        self.skus = list(sc.skus)
        self.n_skus = len(self.skus)
        self.warehouses = list(sc.warehouses)
        self.modes = list(sc.modes)
        self.channels = list(sc.ad_channels)
        self.currencies = [BASE_CURRENCY] + sorted({m.currency for m in sc.markets.values()}
                                                   - {BASE_CURRENCY})
        self.timeline = Timeline.build(sc, self.markets, self.modes)
        self._compile_arrays()
        self.router = Router(self.fulfil_warehouse, self.fulfil_mode, self.route_direct,
                             self.n_skus)
        self.book = PlanBook(sc, self.markets, self.skus, self.warehouses, self.modes,
                             self.channels)
        self.fallback_route = np.array([
            -1 if f.fallback is None else self.router.option(
                self.warehouses.index(f.fallback.warehouse), self.modes.index(f.fallback.mode),
                True)
            for f in (sc.policies.fulfilment[m] for m in self.markets)])
        """The router option a market's out-of-stock warehouse orders fall back to (-1: none)."""
        rates = np.array([1.0] + [next(m.fx_to_cny for m in sc.markets.values()
                                       if m.currency == c) for c in self.currencies[1:]])
        self._compile_demand(plan, rates)
        vol = np.array([0.0] + [next(m.fx_daily_volatility for m in sc.markets.values()
                                     if m.currency == c) for c in self.currencies[1:]])
        self.fx = fx_path(self.streams.fx, rates, vol, self.timeline.n_days)
        self.ledger = Ledger(self.currencies, self.fx)

        self.stock = Stock(len(self.warehouses), self.n_skus)
        self.units = UnitCounts()
        self.money = MoneyCounts()
        self.policies = Policies.compile(sc, self.warehouses, self.skus, self.modes,
                                         self.daily_units)
        if replanning or (plan is not None and plan.takes("overseas_replenishment")):
            overseas = [w for w, name in enumerate(self.warehouses)
                        if sc.warehouses[name].kind == "overseas"]
            self.policies.kind[overseas] = NO_POLICY
        if plan is not None:
            execute(plan, self.book, self.router)
        self._open_stock()
        self.supplier_lines = {
            name: SupplierLine(name, self.warehouses.index(spec.warehouse),
                               shutdown_windows(sc, name))
            for name, spec in sc.suppliers.items()}
        self.supplier_of_sku = np.array([list(sc.suppliers).index(sc.skus[s].supplier)
                                         for s in self.skus])
        self.moq = np.array([sc.suppliers[sc.skus[s].supplier].moq_units for s in self.skus])

        n = self.timeline.n_days
        self.backlog = {k: np.zeros(0, dtype=np.int64) for k in
                        ("order_day", "market", "sku", "units", "sequence", "route")}
        self.demand_units = np.zeros((len(self.markets), self.n_skus, n), dtype=np.int64)
        self.replanned_day = -1
        self.carrier_queue = np.zeros(len(self.modes))
        self.rating = np.full(len(self.markets), sc.conversion.initial_rating)
        self.events = np.zeros((4, len(self.markets), n))  # delivered, late, lost, returned
        self.tickets = np.zeros((len(TICKET_TYPES), n), dtype=np.int64)
        self.restock_units = np.zeros((n, len(self.warehouses), self.n_skus), dtype=np.int64)
        self.restock_value = np.zeros((n, len(self.warehouses), self.n_skus, 3))
        self.returns_by_disposition = np.zeros(len(DISPOSITIONS), dtype=np.int64)
        self.open_shipments: dict[int, BulkShipment] = {}
        self.departure_load: dict[tuple[int, int], float] = {}
        self._shipment_ids = 0
        self.clock = WorkingClock(sc.service.shift, self.timeline.weekday)
        self.desk = ServiceDesk(sc.service.agents)

        self.orders = Recorder(ORDER_COLUMNS)
        self.shipments = Recorder(SHIPMENT_COLUMNS)
        self.ticket_log = Recorder(TICKET_COLUMNS)
        self.daily = RowRecorder(self._daily_columns())

    # ------------------------------------------------------------------ compilation
    def _compile_arrays(self) -> None:
        sc = self.scenario
        markets, skus = self.markets, self.skus
        self.unit_cost = np.array([sc.skus[s].unit_cost_cny for s in skus])
        self.weight = np.array([sc.skus[s].weight_kg for s in skus])
        self.volume = np.array([sc.skus[s].volume_m3 for s in skus])
        self.return_probability = np.array([sc.skus[s].base_return_probability for s in skus])
        self.price = np.array([[sc.skus[s].price[m] for s in skus] for m in markets])
        fulfil = [sc.policies.fulfilment[m] for m in markets]
        self.fulfil_warehouse = np.array([self.warehouses.index(f.warehouse) for f in fulfil])
        self.fulfil_mode = np.array([self.modes.index(f.mode) for f in fulfil])
        self.route_direct = np.array([f.route == "direct" for f in fulfil])
        self.promise_days = np.array([f.promise_days for f in fulfil])
        spec = [sc.markets[m] for m in markets]
        self.currency_of_market = np.array([self.currencies.index(m.currency) for m in spec])
        self.vat_rate = np.array([m.vat_rate for m in spec])
        self.duty_rate = np.array([m.duty_rate for m in spec])
        self.de_minimis = np.array([m.de_minimis_value for m in spec])
        self.backorders = np.array([m.stockout == "backorder" for m in spec])
        self.inspection_probability = np.array([m.customs.inspection_probability for m in spec])
        modes = [sc.modes[k] for k in self.modes]
        self.currency_of_mode = np.array([self.currencies.index(k.currency) for k in modes])
        self.mode_cost_unit = np.array([k.cost_per_unit for k in modes])
        self.mode_cost_kg = np.array([k.cost_per_kg for k in modes])
        self.mode_cost_m3 = np.array([k.cost_per_m3 for k in modes])
        self.mode_chargeable = np.array([k.chargeable_kg_per_m3 for k in modes])
        self.mode_loss = np.array([k.loss_probability for k in modes])
        self.mode_damage = np.array([k.damage_probability for k in modes])
        self.mode_daily_capacity = np.array([k.capacity_units_per_day or np.inf for k in modes])
        whs = [sc.warehouses[w] for w in self.warehouses]
        self.currency_of_warehouse = np.array([self.currencies.index(w.currency) for w in whs])
        self.pick_pack_fee = np.array([w.pick_pack_fee_per_order for w in whs])
        self.storage_fee = np.array([w.storage_fee_per_m3_day for w in whs])
        self.currency_of_channel = np.array([self.currencies.index(sc.ad_channels[c].currency)
                                             for c in self.channels], dtype=int)
        self.origin_warehouse = next(i for i, w in enumerate(whs) if w.kind == "origin")
        self.lane_of = {(self.warehouses.index(lane.destination), self.modes.index(k)): name
                        for name, lane in sc.lanes.items() if lane.destination in sc.warehouses
                        for k in lane.modes}

    def _compile_demand(self, plan: Plan | None, fx_rates: np.ndarray) -> None:
        sc = self.scenario
        ad_spend = None
        if plan is not None and plan.takes("ad_spend"):
            schedule = demand.ad_spend_schedule(sc, self.channels, self.timeline.n_days)
            ad_spend = self.book.ad_spend(plan, schedule, fx_rates[self.currency_of_channel])
        self.demand = demand.DemandModel(sc, self.markets, self.skus, self.timeline,
                                         self.streams, ad_spend)
        per_market = demand.expected_daily_units(sc, self.markets, self.skus)
        self.daily_units = np.zeros((len(self.warehouses), self.n_skus))
        np.add.at(self.daily_units, self.fulfil_warehouse, per_market)
        # An origin warehouse also feeds the overseas warehouses its lanes supply.
        for lane in sc.lanes.values():
            if lane.destination in sc.warehouses:
                o = self.warehouses.index(lane.origin)
                self.daily_units[o] += self.daily_units[self.warehouses.index(lane.destination)]

    def _open_stock(self) -> None:
        for w, name in enumerate(self.warehouses):
            days = self.scenario.warehouses[name].initial_stock_days
            units = np.round(days * self.daily_units[w]).astype(np.int64)
            value = np.zeros((self.n_skus, 3))
            value[:, 0] = units * self.unit_cost
            self.stock.receive(w, np.arange(self.n_skus), units, value)
        self.units.opening = int(self.stock.on_hand.sum())
        self.money.opening_inventory_cny = self.stock.total_value()

    def _daily_columns(self) -> dict[str, str]:
        columns = {"day": "int32", "sessions_organic": "float64"}
        columns.update({f"sessions_{c}": "float64" for c in self.channels})
        columns.update({"orders": "int64", "units_demanded": "int64", "units_filled": "int64",
                        "units_shipped": "int64", "lost_sales_units": "int64",
                        "backlog_units": "int64", "skus_out_of_stock": "int64"})
        columns.update({f"stock_{w}": "int64" for w in self.warehouses})
        columns.update({"in_transit_units": "int64", "on_order_units": "int64",
                        "inventory_value_cny": "float64", "in_transit_value_cny": "float64",
                        "ad_spend_cny": "float64", "carrier_queue_units": "float64"})
        columns.update({f"rating_{m}": "float64" for m in self.markets})
        return columns

    # ------------------------------------------------------------------ helpers
    def next_shipment_id(self) -> int:
        self._shipment_ids += 1
        return self._shipment_ids

    def next_departure(self, mode: int, now: float, volume_m3: float) -> float:
        """The first departure at or after ``now`` with room for ``volume_m3``.

        ``capacity_per_departure_m3`` is the seller's allocation on a sailing or flight, cut
        by congestion and capacity crunches, so a shipment waits for a departure whose
        (cut) allocation it fits. A shipment larger than a whole uncut allocation takes the
        first empty departure that is not cut, so it is not stranded.
        """
        spec = self.scenario.modes[self.modes[mode]]
        period = 7.0 / spec.departures_per_week
        full = spec.capacity_per_departure_m3 or np.inf
        index = int(np.ceil(now / period - 1e-9))
        while True:
            day = self.timeline.day(index * period)
            limit = full * self.timeline.capacity[mode, day]
            load = self.departure_load.get((mode, index), 0.0)
            beyond_calendar = index * period >= self.timeline.n_days
            oversize = volume_m3 > full and load == 0.0 and limit >= full
            if load + volume_m3 <= limit or oversize or beyond_calendar:
                self.departure_load[(mode, index)] = load + volume_m3
                return index * period
            index += 1

    def charge_inbound_fee(self, w: int, units: int, day: int) -> None:
        fee = self.scenario.warehouses[self.warehouses[w]].inbound_fee_per_unit * units
        if fee > 0:
            self.ledger.book("inbound_fee", int(self.currency_of_warehouse[w]), -fee, day, day)

    def record_shipment(self, *, shipment: int, kind: str, mode: int, origin: int,
                        destination: int, skus: np.ndarray, ordered: np.ndarray,
                        delivered: np.ndarray, created: float, departed: float, arrived: float,
                        containers: int, freight_cny: np.ndarray, duty_cny: np.ndarray,
                        lost: np.ndarray, damaged: np.ndarray) -> None:
        """One row per SKU line; the container count sits on the first line only."""
        self.shipments.add(
            shipment=shipment, kind=kind, mode=mode, origin=origin, destination=destination,
            sku=skus, ordered_units=ordered, units=delivered, created_day=created,
            departed_day=departed, arrived_day=arrived,
            containers=np.where(np.arange(len(skus)) == 0, containers, 0),
            freight_cny=freight_cny, duty_cny=duty_cny, lost_units=lost, damaged_units=damaged)

    def backlog_units(self) -> np.ndarray:
        """Backordered units [warehouse, sku]."""
        b = self.backlog
        out = np.zeros((len(self.warehouses), self.n_skus), dtype=np.int64)
        np.add.at(out, (self.router.warehouse[b["route"]], b["sku"]), b["units"])
        return out

    def in_transit(self) -> tuple[int, float]:
        units = sum(int(s.units.sum()) for s in self.open_shipments.values())
        value = sum(float(s.value.sum()) for s in self.open_shipments.values())
        return units, value

    # ------------------------------------------------------------------ daily steps
    def receive_returns(self, t: int) -> None:
        units = self.restock_units[t]
        if units.any():
            for w in range(len(self.warehouses)):
                self.stock.receive(w, np.arange(self.n_skus), units[w], self.restock_value[t, w])
            self.money.cogs_cny -= float(self.restock_value[t].sum())
            self.units.restocked += int(units.sum())

    def serve_demand(self, t: int) -> dict[str, float]:
        """Today's orders: draw them, fill backorders then new orders, dispatch, record."""
        sc = self.scenario
        cv = sc.conversion
        rating_effect = (self.rating / cv.initial_rating) ** cv.rating_elasticity
        market, sku, units = self.demand.draw_orders(t, rating_effect)
        n_new = len(market)
        self.units.demanded += int(units.sum())
        self.demand_units[:, :, t] = np.bincount(
            market * self.n_skus + sku, units, minlength=self.demand_units[:, :, t].size
        ).reshape(len(self.markets), self.n_skus)
        inquiries = self.streams.service.poisson(
            self.demand.sessions(t).sum() * sc.service.tickets.inquiries_per_1000_sessions
            / 1000.0)
        self.tickets[0, t] += inquiries

        b = self.backlog
        n_old = len(b["market"])
        all_market = np.concatenate([b["market"], market])
        all_sku = np.concatenate([b["sku"], sku])
        all_units = np.concatenate([b["units"], units])
        all_day = np.concatenate([b["order_day"], np.full(n_new, t)])
        # Backorders keep their place in line (and route); today's orders arrive in random
        # order and take the route the plan (or the scenario) gives them.
        arrival = self.streams.fulfilment.random(n_new)
        all_route = np.concatenate([b["route"],
                                    self.router.assign(t, market, sku, units, arrival)])
        priority = np.concatenate([b["sequence"] - 2.0**40, arrival])
        key = self.router.warehouse[all_route] * self.n_skus + all_sku
        filled = allocate(key, all_units, priority, self.stock.on_hand.ravel())
        rescued = self._fall_back(t, filled, key, all_sku, all_units, all_route, all_market,
                                  priority)
        all_route = np.where(rescued >= 0, rescued, all_route)
        filled |= rescued >= 0
        # One dispatch a day: carrier queues drain by one day's capacity.
        ship_orders(self, t, all_day[filled], all_market[filled], all_sku[filled],
                    all_units[filled], all_route[filled])
        new_filled = filled[n_old:]
        self.units.filled_on_demand += int(units[new_filled].sum())

        waiting = ~filled & np.concatenate([np.ones(n_old, bool), self.backorders[market]])
        lost = ~new_filled & ~self.backorders[market]
        self.units.lost_sales += int(units[lost].sum())
        base = int(b["sequence"].max()) + 1 if n_old else 0
        sequence = np.concatenate([b["sequence"], base + np.arange(n_new)])
        self.backlog = {"order_day": all_day[waiting], "market": all_market[waiting],
                        "sku": all_sku[waiting], "units": all_units[waiting],
                        "sequence": sequence[waiting], "route": all_route[waiting]}
        return {"orders": n_new, "units_demanded": int(units.sum()),
                "units_filled": int(units[new_filled].sum()),
                "units_shipped": int(all_units[filled].sum()),
                "lost_sales_units": int(units[lost].sum())}

    def _fall_back(self, t: int, filled: np.ndarray, key: np.ndarray, sku: np.ndarray,
                   units: np.ndarray, route: np.ndarray, market: np.ndarray,
                   priority: np.ndarray) -> np.ndarray:
        """The fallback route of each unfilled warehouse-route order its market's fallback
        origin can ship from the stock the filled orders and this week's planned shipments
        leave (-1 for every other order)."""
        fallback = self.fallback_route[market]
        rescued = np.full(len(filled), -1)
        idx = np.flatnonzero(~filled & (fallback >= 0) & ~self.router.direct[route])
        if not len(idx):
            return rescued
        left = self.stock.on_hand.ravel() - np.bincount(
            key[filled], units[filled], minlength=self.stock.on_hand.size).astype(np.int64)
        if t % 7 == 0:  # the week's planned shipments leave this evening
            for origin, _, _, s, planned in self.book.shipments.get(t // 7 + 1, []):
                left[origin * self.n_skus + s] -= planned
        to = fallback[idx]
        ok = allocate(self.router.warehouse[to] * self.n_skus + sku[idx], units[idx],
                      priority[idx], np.maximum(left, 0))
        rescued[idx[ok]] = to[ok]
        return rescued

    def spend_on_ads(self, t: int) -> float:
        """Pay today's ad spend; returns it in CNY."""
        spend = self.demand.ad_spend[:, t]
        if not spend.any():
            return 0.0
        return -float(self.ledger.book("ads", self.currency_of_channel, -spend, t, t).sum())

    def charge_storage(self, t: int) -> None:
        fee = self.storage_fee * (self.stock.on_hand @ self.volume)
        self.ledger.book("storage", self.currency_of_warehouse, -fee, t, t)

    def update_rating(self, t: int) -> None:
        """Move each market's rating toward today's delivery experience score."""
        cv = self.scenario.conversion
        delivered, late, lost, returned = self.events[:, :, t]
        experienced = delivered + lost
        penalty = (late * cv.late_rating_penalty + lost * cv.lost_rating_penalty
                   + returned * cv.return_rating_penalty)
        score = np.clip(5.0 - penalty / np.maximum(experienced, 1), 1.0, 5.0)
        weight = 1.0 - np.exp(-1.0 / cv.rating_memory_days)
        self.rating = np.where(experienced > 0, self.rating + weight * (score - self.rating),
                               self.rating)

    def replan(self, t: int, policy: ReplanPolicy) -> None:
        """Hand today's state to the policy and execute its plan until the next review."""
        week = t // 7 + 1
        plan = policy.replan(self.state(t))
        last = (t + policy.review_days - 1) // 7 + 1
        execute_first_period(plan, self.book, self.router, range(week, last + 1))
        self.replanned_day = t

    def state(self, t: int) -> OperationState:
        """What a re-planning policy sees at the start of day ``t``."""
        lines = [(s.destination, s.mode, s.skus, s.units, s.created)
                 for s in self.open_shipments.values()]
        sizes = [len(line[2]) for line in lines]
        backlog = np.zeros((len(self.markets), self.n_skus), dtype=np.int64)
        np.add.at(backlog, (self.backlog["market"], self.backlog["sku"]),
                  self.backlog["units"])
        return OperationState(
            day=t, week=t // 7 + 1, skus=self.skus, markets=self.markets,
            warehouses=self.warehouses, modes=self.modes, on_hand=self.stock.on_hand.copy(),
            backlog=backlog,
            transit_destination=np.repeat([line[0] for line in lines], sizes).astype(int),
            transit_mode=np.repeat([line[1] for line in lines], sizes).astype(int),
            transit_sku=np.concatenate([line[2] for line in lines] or [np.zeros(0, int)]),
            transit_units=np.concatenate([line[3] for line in lines]
                                         or [np.zeros(0, np.int64)]),
            transit_created_day=np.repeat([line[4] for line in lines], sizes).astype(float),
            demand=self.demand_units[:, :, :t].copy())

    def send_planned(self, t: int) -> None:
        """Planned bulk shipments of the week leave on its first day, or on the day a re-plan
        (which counts those already sent as on their way) sets the week's lines anew."""
        if t % 7 and t != self.replanned_day:
            return
        by_lane: dict[tuple[int, int, int], np.ndarray] = {}
        for origin, destination, mode, sku, units in self.book.shipments.get(t // 7 + 1, []):
            qty = by_lane.setdefault((origin, destination, mode),
                                     np.zeros(self.n_skus, dtype=np.int64))
            qty[sku] += units
        for (origin, destination, mode), qty in by_lane.items():
            self._send(origin, destination, mode, qty)

    def review_stock(self, t: int) -> None:
        """Replenishment reviews: overseas warehouses pull from origin, origin buys."""
        p = self.policies
        due = (t % p.review_days == 0) & (p.kind != NO_POLICY)
        backlog = self.backlog_units()
        order = sorted(range(len(self.warehouses)),
                       key=lambda w: self.scenario.warehouses[self.warehouses[w]].kind == "origin")
        for w in order:
            if not due[w].any():
                continue
            position = self.stock.on_hand[w] + self.stock.inbound[w] - backlog[w]
            qty = p.order_quantity(w, position, due[w])
            if self.scenario.warehouses[self.warehouses[w]].kind == "origin":
                self._buy(w, qty)
            else:
                self._transfer(w, qty)

    def _buy(self, w: int, qty: np.ndarray) -> None:
        qty = np.where(qty > 0, np.maximum(qty, self.moq), 0)
        for i, line in enumerate(self.supplier_lines.values()):
            skus = np.flatnonzero((qty > 0) & (self.supplier_of_sku == i))
            if len(skus) and line.warehouse == w:
                self.env.process(purchase_order(self.env, self, line, skus, qty[skus]))

    def _transfer(self, w: int, qty: np.ndarray) -> None:
        for k in np.unique(self.policies.mode[w][qty > 0]):
            lane = self.lane_of[(w, int(k))]
            origin = self.warehouses.index(self.scenario.lanes[lane].origin)
            self._send(origin, w, int(k), np.where(self.policies.mode[w] == k, qty, 0))

    def _send(self, origin: int, w: int, k: int, want: np.ndarray) -> None:
        """Ship ``want`` [sku] from origin to warehouse ``w`` by mode ``k`` as far as origin
        stock and the warehouse's space allow."""
        lane = self.lane_of[(w, k)]
        take = self._fit_capacity(w, np.minimum(want, self.stock.on_hand[origin]))
        skus = np.flatnonzero(take > 0)
        if not len(skus):
            return
        value = self.stock.issue(origin, skus, take[skus])
        self.stock.inbound[w, skus] += take[skus]
        shipment = BulkShipment(self.next_shipment_id(), origin, w, k, lane, skus,
                                take[skus], value, created=self.env.now)
        self.env.process(bulk_shipment(self.env, self, shipment))

    def _fit_capacity(self, w: int, take: np.ndarray) -> np.ndarray:
        """Scale a transfer down so stock on hand plus inbound fits the warehouse's m3."""
        capacity = self.scenario.warehouses[self.warehouses[w]].capacity_m3
        if capacity is None:
            return take
        committed = (self.stock.on_hand[w] + self.stock.inbound[w]) @ self.volume
        wanted = take @ self.volume
        free = max(capacity - committed, 0.0)
        if wanted <= free:
            return take
        return np.floor(take * free / wanted).astype(np.int64)

    def serve_tickets(self, t: int) -> None:
        """Queue today's tickets at the service desk and log their response times."""
        counts = self.tickets[:, t]
        n = int(counts.sum())
        if n == 0:
            return
        rng, spec = self.streams.service, self.scenario.service
        kind = np.repeat(np.arange(len(TICKET_TYPES)), counts)
        arrival = 24.0 * t + rng.uniform(0.0, 24.0, n)
        order = np.argsort(arrival, kind="stable")
        arrival, kind = arrival[order], kind[order]
        handling = spec.handling_hours.sample(rng, n)
        start = self.desk.serve(self.clock.to_work(arrival), handling)
        first_response = self.clock.to_wall(start) - arrival
        finish = self.clock.to_wall(start + handling)
        followup = np.where(kind > 0, spec.followup_hours.sample(rng, n), 0.0)
        self.ticket_log.add(arrival_hour=arrival, type=kind,
                            first_response_hours=first_response,
                            resolution_hours=finish + followup - arrival)

    def record_day(self, t: int, flows: dict[str, float], ad_cny: float) -> None:
        transit_units, transit_value = self.in_transit()
        columns = {"day": t,
                   "sessions_organic": float(self.demand.organic_sessions[:, t].sum())}
        for c, name in enumerate(self.channels):
            columns[f"sessions_{name}"] = float(self.demand.paid_sessions[c, :, t].sum())
        columns.update(flows)
        columns["backlog_units"] = int(self.backlog["units"].sum())
        selling = np.unique(self.router.warehouse)  # every warehouse a route ships from
        columns["skus_out_of_stock"] = int((self.stock.on_hand[selling] == 0).sum())
        for w, name in enumerate(self.warehouses):
            columns[f"stock_{name}"] = int(self.stock.on_hand[w].sum())
        on_order = sum(int(self.stock.inbound[w].sum()) for w in range(len(self.warehouses))
                       if self.scenario.warehouses[self.warehouses[w]].kind == "origin")
        columns.update({"in_transit_units": transit_units, "on_order_units": on_order,
                        "inventory_value_cny": self.stock.total_value(),
                        "in_transit_value_cny": transit_value, "ad_spend_cny": ad_cny,
                        "carrier_queue_units": float(self.carrier_queue.sum())})
        for m, name in enumerate(self.markets):
            columns[f"rating_{name}"] = float(self.rating[m])
        self.daily.add(**columns)
