"""The channel model's data: every route with its per-unit cost and timing, demand, stock,
capacities and penalties, as arrays prepared once from a scenario.

Costs are landed per unit in CNY (``sim.economics`` formulas on the compiled network's
rate cards): freight by leg with peak surcharges, duties at the rates in force the week the
goods reach customs (import duty on bulk, parcel duty above the de minimis value), the
capital cost of import VAT until its recovery, the export rebate a parcel forgoes, warehouse
fees, and the capital cost of the goods while in transit; holding is storage plus capital
cost per unit-week on hand; a lost sale is the net revenue the simulator books (price ex VAT
less commission and payment fee on the VAT-inclusive price) times a penalty factor.
Delivery-time percentiles and means are sampled from the scenario's own distributions;
demand is the simulator's expected demand (``sim.demand.expected_units_by_day``). Opening
stock overseas is the scenario's days of cover, or an opening state's stock on hand where
the state names the warehouse (the static model leaves the state's goods in transit aside).
The model itself is ``optimize.core``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim import economics
from sim.demand import expected_units_by_day
from sim.loader import scenario_hash
from sim.network import compile_network
from sim.scenario import BulkMode, OverseasWarehouse, ParcelMode, Scenario
from sim.state import OpeningState

DAYS_SAMPLES = 4000
"""Draws per route used to estimate delivery-time percentiles and means."""


@dataclass
class Route:
    """One way to move goods, with its per-unit cost [sku, week] and timing."""

    kind: str                 # "direct", "bulk" or "last_mile"
    origin: str               # origin warehouse, or overseas warehouse for last mile
    destination: str          # market (direct, last mile) or overseas warehouse (bulk)
    mode: str
    lane: str
    unit_cost: np.ndarray     # CNY per unit [sku, week]
    mean_days: float          # delivery (direct, last mile) or door-to-warehouse (bulk) days
    percentile_days: float
    lead_weeks: int = 0       # bulk: weeks from departure to availability
    sd_days: float = 0.0      # standard deviation of the days
    capital: np.ndarray | None = None  # CNY per unit [sku]: the capital-cost part of the cost
    on_time: float = 1.0      # customer-facing: share of deliveries within the promise
    container_cost: np.ndarray | None = None  # CNY per container [week]
    container_m3: float | None = None

    @property
    def name(self) -> str:
        return f"{self.origin}->{self.destination} {self.mode}"

    def container_costs(self) -> np.ndarray:
        """CNY per container [week] of a route that moves whole containers."""
        if self.container_cost is None:
            raise ValueError(f"{self.name} moves no whole containers")
        return self.container_cost


@dataclass
class ChannelData:
    """Everything the model needs, as arrays prepared from one scenario."""

    scenario: str
    scenario_hash: str
    skus: list[str]
    markets: list[str]
    warehouses: list[str]
    weeks: int
    demand: np.ndarray            # units [sku, market, week]
    lost_penalty: np.ndarray      # CNY per unit [sku, market]
    holding: np.ndarray           # CNY per unit-week [sku, warehouse]
    volume: np.ndarray            # m3 per unit [sku]
    opening: np.ndarray           # units [sku, warehouse]
    routes: list[Route]
    parcel_capacity: dict[str, np.ndarray]   # units per week, by parcel mode
    bulk_capacity_m3: dict[str, np.ndarray]  # m3 per week, by bulk mode
    warehouse_m3: dict[str, float]
    contracts: dict[tuple[str, str], tuple[float, float]]  # (lane, mode) -> (fixed, min)
    promise_days: dict[str, float]
    allow_lost_sales: bool = True
    keep_closing_stock: bool = True
    enforce_promise: bool = True
    safety_stock: np.ndarray | None = None      # units [sku, warehouse] at full throughput
    safety_cover: np.ndarray | None = None      # weeks of shipments it is [sku, warehouse]
    safety_from_week: np.ndarray | None = None  # first week it applies [warehouse]
    safety_penalty: np.ndarray | None = None    # CNY per unit-week below it [sku, warehouse]
    holding_capital: np.ndarray | None = None   # capital part of holding [sku, warehouse]

    def allowed(self, route: Route) -> bool:
        """Whether a customer-facing route meets its market's promise."""
        if route.kind == "bulk" or not self.enforce_promise:
            return True
        return route.percentile_days <= self.promise_days[route.destination] + 1e-9


# ----------------------------------------------------------------------------- data
def channel_data(scenario: Scenario, enforce_promise: bool = True,
                 state: OpeningState | None = None) -> ChannelData:
    """Prepare the model's arrays from a scenario (the single source of every figure),
    with the opening stock of ``state`` where it names a warehouse."""
    sc = scenario
    net = compile_network(sc)
    skus, markets = net.skus, net.markets
    warehouses = [w for w, spec in sc.warehouses.items() if spec.kind == "overseas"]
    weeks = sc.horizon.days // 7
    timeline = net.timeline
    daily = expected_units_by_day(sc)[:, :, : weeks * 7]
    demand = daily.reshape(len(markets), len(skus), weeks, 7).sum(axis=3).transpose(1, 0, 2)
    rng = np.random.default_rng(0)
    q = sc.planning.channels.promise_percentile
    fx = net.fx_to_cny
    unit_cost, weight, volume = net.catalog.unit_cost, net.catalog.weight, net.catalog.volume
    capital_rate = sc.finance.annual_capital_cost_rate
    week_of_day = np.arange(weeks * 7) // 7

    def weekly_mean(daily_values: np.ndarray) -> np.ndarray:
        return np.bincount(week_of_day, daily_values[: weeks * 7], minlength=weeks) / 7.0

    def surcharge(mode: str) -> np.ndarray:
        return 1.0 + weekly_mean(timeline.surcharge[list(sc.modes).index(mode)])

    def per_unit_freight(mode: str) -> np.ndarray:
        spec = sc.modes[mode]
        return economics.freight_per_unit(
            spec.cost_per_unit, spec.cost_per_kg, spec.cost_per_m3,
            spec.chargeable_kg_per_m3, weight, volume) * fx(spec.currency)

    def capital(days: float) -> np.ndarray:
        return economics.capital_cost(unit_cost, capital_rate, days)

    taxes = net.taxes
    mid_week = 7 * np.arange(weeks) + 3

    def in_force(rates: np.ndarray, m: int, lag_days: float = 0.0) -> np.ndarray:
        """Market m's rate in force [week] on the middle day of each week, or ``lag_days``
        later (when goods sold or sent that week reach customs)."""
        return rates[m, np.minimum(mid_week + round(lag_days), rates.shape[1] - 1)]

    def import_vat_capital(duty: np.ndarray, m: int, lag_days: float) -> np.ndarray | float:
        """The capital cost of import VAT [sku, week] from clearance, ``lag_days`` after a
        load leaves, to its recovery on the VAT return (none where it is not modelled)."""
        cleared = np.minimum(mid_week + round(lag_days), taxes.vat_recovery_day.shape[1] - 1)
        recovered = taxes.vat_recovery_day[m, cleared]
        if (recovered < 0).all():
            return 0.0
        vat = economics.import_vat(unit_cost[:, None], duty, taxes.vat_rate[m, cleared])
        return economics.capital_cost(vat, capital_rate, np.maximum(recovered - cleared, 0))

    units_per_order = 1.0 + sc.conversion.extra_units_per_order_mean
    routes: list[Route] = []
    for lane_name, lane in sc.lanes.items():
        for mode in lane.modes:
            spec = sc.modes[mode]
            if lane.destination in sc.markets:
                market = sc.markets[lane.destination]
                processing = sc.policies.fulfilment[lane.destination].order_processing_days
                days = (processing.sample(rng, DAYS_SAMPLES)
                        + spec.transit_days.sample(rng, DAYS_SAMPLES)
                        + (rng.random(DAYS_SAMPLES) < market.customs.inspection_probability)
                        * market.customs.inspection_delay_days.sample(rng, DAYS_SAMPLES))
                m = markets.index(lane.destination)
                ex_vat = economics.price_ex_vat(net.catalog.price[m][:, None],
                                                in_force(taxes.vat_rate, m)[None, :])
                # An average order of units_per_order units is the parcel customs assess,
                # at the rates in force when it arrives [sku, week].
                arrival = float(days.mean())
                duty = economics.parcel_duty(
                    ex_vat * units_per_order, in_force(taxes.duty_rate, m, arrival),
                    in_force(taxes.de_minimis, m, arrival),
                    in_force(taxes.low_value_duty, m, arrival)) \
                    / units_per_order * fx(market.currency)
                pick = sc.warehouses[lane.origin].pick_pack_fee_per_order / units_per_order \
                    * fx(sc.warehouses[lane.origin].currency)
                held = capital(float(days.mean()))
                # Route costs leave the product out, so an export rebate would pay for
                # shipping more; a parcel not declared for it forgoes what a bulk load earns.
                forgone = taxes.rebate_per_unit * (not taxes.rebate_parcels)
                cost = (per_unit_freight(mode)[:, None] * surcharge(mode)[None, :]
                        + (duty + pick + held[:, None]) + forgone[:, None])
                promise = sc.policies.fulfilment[lane.destination].promise_days
                routes.append(Route("direct", lane.origin, lane.destination, mode, lane_name,
                                    cost, float(days.mean()), float(np.quantile(days, q)),
                                    capital=held, on_time=float(np.mean(days <= promise))))
            else:
                h_spec = _overseas(sc, lane.destination)
                market = sc.markets[h_spec.market]
                if not isinstance(spec, BulkMode):
                    raise ValueError(f"lane {lane_name}: {mode} is not a bulk mode")
                # Booked on a review day, a load waits for the mode's next departure.
                days = (lane.first_mile_days.sample(rng, DAYS_SAMPLES)
                        + rng.uniform(0.0, 7.0 / spec.departures_per_week, DAYS_SAMPLES)
                        + spec.transit_days.sample(rng, DAYS_SAMPLES)
                        + market.customs.clearance_days.sample(rng, DAYS_SAMPLES)
                        + (rng.random(DAYS_SAMPLES) < market.customs.inspection_probability)
                        * market.customs.inspection_delay_days.sample(rng, DAYS_SAMPLES)
                        + lane.final_delivery_days.sample(rng, DAYS_SAMPLES))
                legs = (lane.first_mile_cost_per_m3_cny + lane.final_delivery_cost_per_m3_cny) \
                    * volume
                held = capital(float(days.mean()))
                m = markets.index(h_spec.market)
                to_customs = float(lane.first_mile_days.mean() + 3.5 / spec.departures_per_week
                                   + spec.transit_days.mean())
                duty = economics.import_duty(unit_cost[:, None],
                                             in_force(taxes.duty_rate, m, to_customs))
                fees = (duty + h_spec.inbound_fee_per_unit * fx(h_spec.currency) + held[:, None])
                cost = (per_unit_freight(mode)[:, None] * surcharge(mode)[None, :]
                        + (legs[:, None] + fees) + import_vat_capital(duty, m, to_customs))
                container_cost = (spec.cost_per_container * fx(spec.currency) * surcharge(mode)
                                  if spec.container_volume_m3 else None)
                routes.append(Route("bulk", lane.origin, lane.destination, mode, lane_name,
                                    cost, float(days.mean()), float(np.quantile(days, q)),
                                    lead_weeks=int(np.ceil(days.mean() / 7.0)),
                                    sd_days=float(days.std()), capital=held,
                                    container_cost=container_cost,
                                    container_m3=spec.container_volume_m3))
    for h in warehouses:
        h_spec = _overseas(sc, h)
        for market_name in markets:
            last_mode = _last_mile_mode(sc, h, market_name)
            if last_mode is None:
                continue
            spec = sc.modes[last_mode]
            processing = sc.policies.fulfilment[market_name].order_processing_days \
                if sc.policies.fulfilment[market_name].warehouse == h \
                else sc.policies.fulfilment[h_spec.market].order_processing_days
            days = processing.sample(rng, DAYS_SAMPLES) + spec.transit_days.sample(
                rng, DAYS_SAMPLES)
            pick = h_spec.pick_pack_fee_per_order / units_per_order * fx(h_spec.currency)
            held = capital(float(days.mean()))
            cost = (per_unit_freight(last_mode)[:, None] * surcharge(last_mode)[None, :]
                    + (pick + held)[:, None])
            promise = sc.policies.fulfilment[market_name].promise_days
            routes.append(Route("last_mile", h, market_name, last_mode, f"{h} last mile", cost,
                                float(days.mean()), float(np.quantile(days, q)),
                                capital=held, on_time=float(np.mean(days <= promise))))

    net_revenue = np.zeros((len(skus), len(markets)))
    for m, name in enumerate(markets):
        market = sc.markets[name]
        net_revenue[:, m] = economics.net_revenue_per_unit(
            net.catalog.price[m], market.vat_rate, sc.finance.commission_rate,
            sc.finance.payment_fee_rate) * fx(market.currency)
    holding = np.zeros((len(skus), len(warehouses)))
    opening = np.zeros((len(skus), len(warehouses)))
    per_day = daily.sum(axis=2).T / (weeks * 7)  # [sku, market]
    shelves = state.shelves(sc) if state is not None else {}
    for i, h in enumerate(warehouses):
        h_spec = _overseas(sc, h)
        holding[:, i] = (7.0 * h_spec.storage_fee_per_m3_day * fx(h_spec.currency) * volume
                         + capital(7.0))
        served = [m for m, name in enumerate(markets)
                  if sc.policies.fulfilment[name].warehouse == h]
        opening[:, i] = shelves[h] if h in shelves else np.round(
            h_spec.initial_stock_days * per_day[:, served].sum(axis=1))
    parcel_capacity, bulk_capacity = {}, {}
    for k, (mode, spec) in enumerate(sc.modes.items()):
        factor = timeline.capacity[k]
        if isinstance(spec, ParcelMode) and spec.capacity_units_per_day is not None:
            parcel_capacity[mode] = 7.0 * spec.capacity_units_per_day * weekly_mean(factor)
        if isinstance(spec, BulkMode) and spec.capacity_per_departure_m3 is not None:
            bulk_capacity[mode] = (spec.departures_per_week * spec.capacity_per_departure_m3
                                   * weekly_mean(factor))
    contracts = {(r.lane, r.mode): (sc.modes[r.mode].contract_fixed_cost_cny,
                                    sc.modes[r.mode].contract_min_units)
                 for r in routes if r.kind != "last_mile"
                 and (sc.modes[r.mode].contract_fixed_cost_cny > 0
                      or sc.modes[r.mode].contract_min_units > 0)}
    planning = sc.planning.channels
    lost_penalty = planning.lost_sale_penalty_factor * net_revenue
    safety, cover, safety_from, safety_penalty = _safety_stock(sc, warehouses, routes,
                                                               per_day, lost_penalty)
    return ChannelData(
        scenario=sc.name, scenario_hash=scenario_hash(sc), skus=skus, markets=markets,
        warehouses=warehouses, weeks=weeks, demand=demand,
        lost_penalty=lost_penalty, holding=holding,
        volume=volume, opening=opening, routes=routes, parcel_capacity=parcel_capacity,
        holding_capital=np.repeat(capital(7.0)[:, None], len(warehouses), axis=1),
        bulk_capacity_m3=bulk_capacity,
        warehouse_m3={h: space for h in warehouses
                      if (space := sc.warehouses[h].capacity_m3) is not None},
        contracts=contracts,
        promise_days={m: sc.policies.fulfilment[m].promise_days for m in markets},
        allow_lost_sales=planning.allow_lost_sales,
        keep_closing_stock=planning.keep_closing_stock, enforce_promise=enforce_promise,
        safety_stock=safety, safety_cover=cover, safety_from_week=safety_from,
        safety_penalty=safety_penalty)


SAFETY_WEIGHT = 0.9
"""A unit below safety stock for a whole replenishment cycle (lead time + review week) costs
this share of a lost sale, spread over the cycle's weeks: dipping into the buffer until the
next replenishment lands costs less than losing the sale (so demand is served first), and
far more than holding the unit (so the buffer is kept)."""


def _safety_stock(sc: Scenario, warehouses: list[str], routes: list[Route],
                  per_day: np.ndarray, lost_penalty: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Safety stock [sku, warehouse] = z sigma over the slowest replenishment's lead time
    plus a review week, at the weekly demand the warehouse could serve; the same as weeks
    of that demand (cover); the first week [warehouse] it can be rebuilt by (that lead + 1);
    and the penalty per unit-week below it [sku, warehouse]. The markets a warehouse serves
    are those its last-mile routes reach.

    Weekly demand D served from a warehouse varies as compound Poisson (orders Poisson, 1 +
    Poisson(e) units each: variance D (e + (1+e)^2) / (1+e)) plus the traffic's daily noise
    (D^2 cv^2 / 7); the lead time's spread adds (D/7 sd_days)^2."""
    from scipy.stats import norm

    z = float(norm.ppf(sc.planning.channels.cycle_service_level)) \
        if sc.planning.channels.cycle_service_level > 0 else 0.0
    e = sc.conversion.extra_units_per_order_mean
    cv = sc.traffic.daily_noise_cv
    markets = list(sc.markets)
    safety = np.zeros((per_day.shape[0], len(warehouses)))
    cover = np.zeros_like(safety)
    start = np.ones(len(warehouses), dtype=int)
    penalty = np.zeros_like(safety)
    for h, name in enumerate(warehouses):
        into = [r for r in routes if r.kind == "bulk" and r.destination == name]
        served = sorted({markets.index(r.destination) for r in routes
                         if r.kind == "last_mile" and r.origin == name})
        if not into or not served:
            continue
        slowest = max(into, key=lambda r: r.lead_weeks)
        weekly = 7.0 * per_day[:, served].sum(axis=1)
        variance = weekly * (e + (1 + e) ** 2) / (1 + e) + weekly**2 * cv**2 / 7.0
        sigma = np.sqrt((slowest.lead_weeks + 1) * variance
                        + (weekly / 7.0 * slowest.sd_days) ** 2)
        safety[:, h] = z * sigma
        cover[:, h] = np.divide(safety[:, h], weekly, out=np.zeros_like(weekly),
                                where=weekly > 0)
        start[h] = slowest.lead_weeks + 1
        penalty[:, h] = (SAFETY_WEIGHT * lost_penalty[:, served].max(axis=1)
                         / (slowest.lead_weeks + 1))
    return safety, cover, start, penalty


def _overseas(sc: Scenario, name: str) -> OverseasWarehouse:
    """The overseas warehouse of that name (the model's stock points)."""
    spec = sc.warehouses[name]
    if not isinstance(spec, OverseasWarehouse):
        raise ValueError(f"{name} is not an overseas warehouse")
    return spec


def _last_mile_mode(sc: Scenario, warehouse: str, market: str) -> str | None:
    """The last-mile mode from a warehouse to a market: the fulfilment policy's when it
    names this warehouse, else the warehouse's own market is served by the first last-mile
    mode billed in the warehouse's currency; other markets are not served from it."""
    policy = sc.policies.fulfilment[market]
    if policy.route == "warehouse" and policy.warehouse == warehouse:
        return policy.mode
    if sc.warehouses[warehouse].market != market:
        return None
    currency = sc.warehouses[warehouse].currency
    return next((k for k, spec in sc.modes.items()
                 if spec.family == "last_mile" and spec.currency == currency), None)


# ----------------------------------------------------------------------------- model


def sku_subset(data: ChannelData, index: np.ndarray | list[int]) -> ChannelData:
    """The same business restricted to the SKUs at ``index`` (in that order): every route,
    capacity and warehouse stays, so a model of the subset has the full model's route sets.
    """
    index = np.asarray(index, dtype=int)

    def cut(array: np.ndarray | None) -> np.ndarray | None:
        return None if array is None else array[index]

    routes = [replace(route, unit_cost=route.unit_cost[index], capital=cut(route.capital))
              for route in data.routes]
    return replace(
        data, skus=[data.skus[i] for i in index], demand=data.demand[index],
        lost_penalty=data.lost_penalty[index], holding=data.holding[index],
        volume=data.volume[index], opening=data.opening[index], routes=routes,
        safety_stock=cut(data.safety_stock), safety_cover=cut(data.safety_cover),
        safety_penalty=cut(data.safety_penalty), holding_capital=cut(data.holding_capital))
