"""The compiled network: every figure a run derives from its scenario, built once, frozen.

A scenario names things (markets, SKUs, warehouses, modes) and gives their parameters in
nested YAML; the simulation wants integer indices and arrays. ``compile_network`` makes
that translation once, in one place, so the simulation's daily steps, the optimisers and
the reports read the same arrays and nobody rebuilds a simulation engine to get a number.
Like Ciw's ``Network`` beside its ``Simulation``, the network holds no state: its arrays
are read-only, and what changes during a run lives in small state objects, one per concern:
stock (``sim.inventory.Stock``), goods on their way (``sim.pipeline``), orders and
customers (``sim.sales``), service (``sim.service``), money (``sim.ledger``) and what the
run writes down (``sim.records``); ``sim.model`` wires them.

Groups, each indexed in the scenario's order:
    catalog     per SKU: cost, weight, volume, return probability, supplier, MOQ, prices
    markets     per market: currency, taxes, customs, stock-out rule, fulfilment route
    modes       per mode: rate card, chargeable weight factor, losses, parcel capacity
    warehouses  per warehouse: currency, fees, origin or overseas, bulk lanes into it
    routes      the delivery routes a run starts with (each market's own, then fallbacks)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass

import numpy as np

from sim import picking
from sim.calendar import Timeline, shutdown_windows
from sim.demand import expected_daily_units
from sim.inventory import Policies
from sim.lots import AgeingTable, compile_ageing
from sim.pricing import list_prices
from sim.scenario import BASE_CURRENCY, Scenario, daily_units_capacity
from sim.taxes import TaxTable, compile_taxes


def _read_only(obj: object) -> None:
    """Freeze every numpy array of a dataclass in place (arrays are mutable otherwise)."""
    assert is_dataclass(obj)
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


@dataclass(frozen=True)
class Catalog:
    """Per SKU [sku], prices per market and SKU [market, sku] in market currency."""

    unit_cost: np.ndarray
    weight: np.ndarray
    volume: np.ndarray
    return_probability: np.ndarray
    price: np.ndarray
    supplier: np.ndarray
    moq: np.ndarray


@dataclass(frozen=True)
class MarketTable:
    """Per market [market]: money, taxes, customs and the scenario's fulfilment route. The
    rates are the scenario's own; those in force on a day are ``Network.taxes``."""

    currency: np.ndarray
    vat_rate: np.ndarray
    duty_rate: np.ndarray
    de_minimis: np.ndarray
    backorders: np.ndarray
    inspection_probability: np.ndarray
    promise_days: np.ndarray


@dataclass(frozen=True)
class ModeTable:
    """Per mode [mode]: the rate card in mode currency, losses and parcel capacity."""

    currency: np.ndarray
    cost_per_unit: np.ndarray
    cost_per_kg: np.ndarray
    cost_per_m3: np.ndarray
    chargeable_kg_per_m3: np.ndarray
    loss_probability: np.ndarray
    damage_probability: np.ndarray
    daily_capacity: np.ndarray


@dataclass(frozen=True)
class WarehouseTable:
    """Per warehouse [warehouse]: fees in warehouse currency, kind, lanes into it."""

    currency: np.ndarray
    pick_pack_fee: np.ndarray
    storage_fee: np.ndarray
    inbound_fee: np.ndarray
    labour_per_unit: np.ndarray
    pick_capacity: np.ndarray
    """Units picked and packed a day [warehouse, day] (``sim.picking``); inf: no limit."""
    is_origin: np.ndarray
    origin: int
    """The first origin warehouse: where returns sent back to origin go."""
    lane_of: dict[tuple[int, int], str]
    """(destination warehouse, bulk mode) -> the lane carrying it."""


@dataclass(frozen=True)
class RouteTable:
    """Delivery routes by option index: warehouse, mode, direct parcel or not. Options
    0 .. markets - 1 are the markets' own routes; ``fallback[m]`` is market m's
    out-of-stock fallback option (-1: none)."""

    warehouse: np.ndarray
    mode: np.ndarray
    direct: np.ndarray
    fallback: np.ndarray


@dataclass(frozen=True)
class SupplierSpec:
    """A supplier's origin warehouse and the (start, end) days it produces nothing."""

    name: str
    warehouse: int
    shutdowns: list[tuple[float, float]]


@dataclass(frozen=True)
class Network:
    scenario: Scenario
    markets: list[str]
    skus: list[str]
    warehouses: list[str]
    modes: list[str]
    channels: list[str]
    currencies: list[str]
    """CNY first, then the markets' currencies sorted."""
    timeline: Timeline
    catalog: Catalog
    market: MarketTable
    taxes: TaxTable
    """Duty, VAT and de minimis in force per market and day; the export rebate per SKU."""
    mode: ModeTable
    warehouse: WarehouseTable
    routes: RouteTable
    suppliers: list[SupplierSpec]
    policies: Policies
    """The scenario's replenishment rules, in units [warehouse, sku]."""
    planning_units: np.ndarray
    """Run-rate demand a warehouse serves [warehouse, sku], units/day: sizes days-of-cover
    rules and opening stock (an origin also feeds the overseas warehouses its lanes do)."""
    supply_cover_days: np.ndarray
    """Days ahead an origin's purchasing looks [warehouse]: its slowest supplier's mean lead
    time plus a week; known outflows (a plan's shipments) within it are bought for."""
    currency_of_channel: np.ndarray
    fx_start: np.ndarray
    """CNY per unit of each currency on day 0 [currency]."""
    fx_volatility: np.ndarray
    ageing: AgeingTable
    """Lots, aged-stock surcharges and clearances (``sim.ageing``)."""

    @property
    def days(self) -> int:
        """Days simulated (the horizon)."""
        return self.scenario.horizon.days

    @property
    def n_skus(self) -> int:
        return len(self.skus)

    def is_origin(self, w: int) -> bool:
        return bool(self.warehouse.is_origin[w])

    def fx_to_cny(self, currency: str) -> float:
        """CNY per unit of ``currency`` on day 0 (the rate of the first market trading in
        it): the rate plans are priced at."""
        return float(self.fx_start[self.currencies.index(currency)])


def compile_network(scenario: Scenario) -> Network:
    """Every array the simulation derives from the scenario, read-only."""
    sc = scenario
    markets, skus = list(sc.markets), list(sc.skus)
    warehouses, modes, channels = list(sc.warehouses), list(sc.modes), list(sc.ad_channels)
    currencies = [BASE_CURRENCY] + sorted({m.currency for m in sc.markets.values()}
                                          - {BASE_CURRENCY})
    suppliers = list(sc.suppliers)
    catalog = Catalog(
        unit_cost=np.array([sc.skus[s].unit_cost_cny for s in skus]),
        weight=np.array([sc.skus[s].weight_kg for s in skus]),
        volume=np.array([sc.skus[s].volume_m3 for s in skus]),
        return_probability=np.array([sc.skus[s].base_return_probability for s in skus]),
        price=list_prices(sc, markets, skus),
        supplier=np.array([suppliers.index(sc.skus[s].supplier) for s in skus]),
        moq=np.array([sc.suppliers[sc.skus[s].supplier].moq_units for s in skus]))
    spec = [sc.markets[m] for m in markets]
    fulfil = [sc.policies.fulfilment[m] for m in markets]
    market = MarketTable(
        currency=np.array([currencies.index(m.currency) for m in spec]),
        vat_rate=np.array([m.vat_rate for m in spec]),
        duty_rate=np.array([m.duty_rate for m in spec]),
        de_minimis=np.array([m.de_minimis_value for m in spec]),
        backorders=np.array([m.stockout == "backorder" for m in spec]),
        inspection_probability=np.array([m.customs.inspection_probability for m in spec]),
        promise_days=np.array([f.promise_days for f in fulfil]))
    mode_specs = [sc.modes[k] for k in modes]
    mode = ModeTable(
        currency=np.array([currencies.index(k.currency) for k in mode_specs]),
        cost_per_unit=np.array([k.cost_per_unit for k in mode_specs]),
        cost_per_kg=np.array([k.cost_per_kg for k in mode_specs]),
        cost_per_m3=np.array([k.cost_per_m3 for k in mode_specs]),
        chargeable_kg_per_m3=np.array([k.chargeable_kg_per_m3 for k in mode_specs]),
        loss_probability=np.array([k.loss_probability for k in mode_specs]),
        damage_probability=np.array([k.damage_probability for k in mode_specs]),
        daily_capacity=np.array([daily_units_capacity(k) or np.inf for k in mode_specs]))
    timeline = Timeline.build(sc, markets, modes)
    whs = [sc.warehouses[w] for w in warehouses]
    warehouse = WarehouseTable(
        currency=np.array([currencies.index(w.currency) for w in whs]),
        pick_pack_fee=np.array([w.pick_pack_fee_per_order for w in whs]),
        storage_fee=np.array([w.storage_fee_per_m3_day for w in whs]),
        inbound_fee=np.array([w.inbound_fee_per_unit for w in whs]),
        labour_per_unit=picking.labour_per_unit(sc, warehouses),
        pick_capacity=picking.daily_capacity(sc, warehouses, markets, timeline),
        is_origin=np.array([w.kind == "origin" for w in whs]),
        origin=next(i for i, w in enumerate(whs) if w.kind == "origin"),
        lane_of={(warehouses.index(lane.destination), modes.index(k)): name
                 for name, lane in sc.lanes.items() if lane.destination in sc.warehouses
                 for k in lane.modes})
    routes = _route_table(sc, markets, warehouses, modes)
    planning_units = _planning_units(sc, markets, skus, warehouses, routes.warehouse)
    rate = {m.currency: m.fx_to_cny for m in reversed(spec)}
    volatility = {m.currency: m.fx_daily_volatility for m in reversed(spec)}
    network = Network(
        scenario=sc, markets=markets, skus=skus, warehouses=warehouses, modes=modes,
        channels=channels, currencies=currencies,
        timeline=timeline,
        catalog=catalog, market=market, taxes=compile_taxes(sc, markets, skus), mode=mode,
        warehouse=warehouse, routes=routes,
        suppliers=[SupplierSpec(name, warehouses.index(s.warehouse), shutdown_windows(sc, name))
                   for name, s in sc.suppliers.items()],
        policies=Policies.compile(sc, warehouses, skus, modes, planning_units),
        planning_units=planning_units,
        supply_cover_days=_supply_cover_days(sc, warehouses),
        currency_of_channel=np.array([currencies.index(sc.ad_channels[c].currency)
                                      for c in channels], dtype=int),
        fx_start=np.array([1.0] + [rate[c] for c in currencies[1:]]),
        fx_volatility=np.array([0.0] + [volatility[c] for c in currencies[1:]]),
        ageing=compile_ageing(sc, warehouses, warehouse.is_origin))
    for group in (catalog, market, network.taxes, mode, warehouse, routes, network.policies,
                  network.timeline):
        _read_only(group)
    for array in (planning_units, network.supply_cover_days, network.currency_of_channel,
                  network.fx_start, network.fx_volatility):
        array.flags.writeable = False
    return network


def _route_table(sc: Scenario, markets: list[str], warehouses: list[str],
                 modes: list[str]) -> RouteTable:
    """Each market's own route, then each distinct fallback route."""
    fulfil = [sc.policies.fulfilment[m] for m in markets]
    table = [(warehouses.index(f.warehouse), modes.index(f.mode), f.route == "direct")
             for f in fulfil]
    fallback = []
    for f in fulfil:
        if f.fallback is None:
            fallback.append(-1)
            continue
        option = (warehouses.index(f.fallback.warehouse), modes.index(f.fallback.mode), True)
        if option not in table:
            table.append(option)
        fallback.append(table.index(option))
    warehouse, mode, direct = zip(*table, strict=True)
    return RouteTable(np.array(warehouse, dtype=np.int64), np.array(mode, dtype=np.int64),
                      np.array(direct, dtype=bool), np.array(fallback))


def _supply_cover_days(sc: Scenario, warehouses: list[str]) -> np.ndarray:
    cover = np.zeros(len(warehouses))
    for spec in sc.suppliers.values():
        w = warehouses.index(spec.warehouse)
        cover[w] = max(cover[w], spec.lead_time_days.mean() + 7.0)
    return cover


def _planning_units(sc: Scenario, markets: list[str], skus: list[str], warehouses: list[str],
                    route_warehouse: np.ndarray) -> np.ndarray:
    per_market = expected_daily_units(sc, markets, skus)
    units = np.zeros((len(warehouses), len(skus)))
    np.add.at(units, route_warehouse[: len(markets)], per_market)
    for lane in sc.lanes.values():
        if lane.destination in sc.warehouses:
            o = warehouses.index(lane.origin)
            units[o] += units[warehouses.index(lane.destination)]
    return units
