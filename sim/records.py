"""What a run writes down as it goes: orders, bulk shipments and one row per day.

Processes record column-wise (``sim.recorder``); ``sim.results`` turns the records into
tables once the run ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.demand import DemandModel
from sim.inventory import Stock
from sim.network import Network
from sim.pipeline import BulkShipment, Pipeline
from sim.recorder import Recorder, RowRecorder
from sim.sales import Sales
from sim.service import TICKET_COLUMNS
from sim.tables import MemorySink, RunTables, TableSink

ORDER_COLUMNS = {
    "order_day": "int32", "ship_day": "int32", "market": "int16", "sku": "int16",
    "units": "int64", "price": "float64", "warehouse": "int16", "mode": "int16",
    "direct": "bool", "promise_days": "float64", "promised_day": "int32",
    "delivery_day": "int32",
    "delivery_days": "float64", "dispatch_days": "float64", "on_time": "bool", "lost": "bool",
    "damaged": "bool", "undeliverable": "bool", "reshipped": "bool", "defect": "bool",
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
    "containers": "int64", "freight_cny": "float64", "duty_cny": "float64",
    "lost_units": "int64", "damaged_units": "int64",
}


def daily_columns(network: Network) -> dict[str, str]:
    """The day table's columns: traffic, flows, stock by warehouse, money, ratings."""
    columns = {"day": "int32", "sessions_organic": "float64"}
    columns.update({f"sessions_{c}": "float64" for c in network.channels})
    columns.update({"orders": "int64", "units_demanded": "int64", "units_filled": "int64",
                    "units_shipped": "int64", "lost_sales_units": "int64",
                    "backlog_units": "int64", "skus_out_of_stock": "int64"})
    columns.update({f"stock_{w}": "int64" for w in network.warehouses})
    columns.update({"in_transit_units": "int64", "on_order_units": "int64",
                    "inventory_value_cny": "float64", "in_transit_value_cny": "float64",
                    "ad_spend_cny": "float64", "carrier_queue_units": "float64"})
    columns.update({f"pick_queue_{w}": "float64" for w in network.warehouses})
    columns.update({f"rating_{m}": "float64" for m in network.markets})
    columns.update({f"account_health_{m}": "float64" for m in network.markets})
    return columns


@dataclass(frozen=True)
class WeeklyTrace:
    """Per SKU and week of the run (week 1 = days 0-6; the last may be short): what a plan
    made against the run's stock needs to know.

    For each warehouse, stock[w] = stock[w-1] + supply[w] - issued[w], where supply is
    whatever else moved the stock (receipts, bulk loads out, restocked returns): the
    identity gives the supply the run's logistics delivered, week by week.
    """

    stock: np.ndarray
    """Units on hand at the week's end [week, warehouse, sku]."""
    issued: np.ndarray
    """Units taken off the shelves for orders [week, warehouse, sku]."""
    demand: np.ndarray
    """Units customers asked for [week, market, sku], lost sales included."""
    opening: np.ndarray
    """Units on hand at the start [warehouse, sku]."""

    def supply(self) -> np.ndarray:
        """Units the logistics added to each warehouse's stock in each week
        [week, warehouse, sku]; negative where more left by bulk loads than arrived."""
        before = np.concatenate([self.opening[None], self.stock[:-1]])
        return self.stock - before + self.issued


LISTING_COLUMNS = {"day": "int32", "market": "int16", "sku": "int16", "sessions": "float64",
                   "units_demanded": "int64", "units_sold": "int64",
                   "lost_sales_units": "int64", "stock_on_hand": "int64", "price": "float64"}


class ListingDays:
    """Per listing and day, one row each (day by day, market by market): sessions, units
    asked for, sold and lost, stock on hand where the market's own route ships from, and
    the day's price; the table that says which SKU ran out where, and what it cost. It is
    markets x SKUs rows a day, so it streams like the orders (``sim.tables``)."""

    def __init__(self, n_markets: int, n_skus: int) -> None:
        self.rows = Recorder(LISTING_COLUMNS)
        market, sku = np.indices((n_markets, n_skus))
        self._market, self._sku = market.ravel(), sku.ravel()

    def add(self, t: int, **values: np.ndarray) -> None:
        """The day's values [market, sku] by column."""
        self.rows.add(day=t, market=self._market, sku=self._sku,
                      **{name: np.asarray(value).ravel() for name, value in values.items()})


class Records:
    """The run's order lines, shipment lines, day rows, weekly stock trace and listing days.

    Orders, shipments, tickets and listing days flow to ``sink`` in chunks as the run goes
    (``sim.tables``); by default they are kept in memory and joined at the end.
    """

    def __init__(self, network: Network, opening: np.ndarray,
                 sink: TableSink | None = None) -> None:
        self.tables = RunTables(network, MemorySink() if sink is None else sink)
        self.orders = self.tables.stream("orders", Recorder(ORDER_COLUMNS))
        self.listings = ListingDays(len(network.markets), network.n_skus)
        self.tables.stream("listings", self.listings.rows)
        self.shipments = self.tables.stream("shipments", Recorder(SHIPMENT_COLUMNS))
        self.tickets = self.tables.stream("tickets", Recorder(TICKET_COLUMNS))
        self.daily = RowRecorder(daily_columns(network))
        weeks = -(-network.days // 7)
        shape = (weeks, len(network.warehouses), network.n_skus)
        self.weekly = WeeklyTrace(
            stock=np.zeros(shape, dtype=np.int64), issued=np.zeros(shape, dtype=np.int64),
            demand=np.zeros((weeks, len(network.markets), network.n_skus), dtype=np.int64),
            opening=opening.copy())

    def issued(self, t: int, units: np.ndarray) -> None:
        """Units [warehouse, sku] taken off the shelves for orders on day t."""
        self.weekly.issued[t // 7] += units

    def shipment(self, *, shipment: int, kind: str, mode: int, origin: int,
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

    def open_shipment(self, shipment: BulkShipment) -> None:
        """A bulk shipment still on its way at the end: no arrival day, nothing delivered."""
        none = np.zeros(len(shipment.skus), dtype=np.int64)
        self.shipment(
            shipment=shipment.id, kind="bulk", mode=shipment.mode, origin=shipment.origin,
            destination=shipment.destination, skus=shipment.skus, ordered=shipment.units,
            delivered=none, created=shipment.created, departed=shipment.departed,
            arrived=np.nan, containers=shipment.containers, freight_cny=shipment.value[:, 1],
            duty_cny=shipment.value[:, 2], lost=none, damaged=none)


def record_day(t: int, network: Network, records: Records, flows: dict[str, float],
               ad_cny: float, demand: DemandModel, sales: Sales, stock: Stock,
               pipeline: Pipeline, selling: np.ndarray) -> None:
    """The day's row; ``selling`` lists every warehouse a route ships from."""
    transit_units, transit_value = pipeline.in_transit()
    columns: dict[str, float] = {"day": t,
                                 "sessions_organic": float(demand.organic_sessions[:, t].sum())}
    for c, name in enumerate(network.channels):
        columns[f"sessions_{name}"] = float(demand.paid_sessions[c, :, t].sum())
    columns.update(flows)
    columns["backlog_units"] = int(sales.backlog["units"].sum())
    columns["skus_out_of_stock"] = int((stock.on_hand[selling] == 0).sum())
    for w, name in enumerate(network.warehouses):
        columns[f"stock_{name}"] = int(stock.on_hand[w].sum())
    on_order = sum(int(stock.inbound[w].sum()) for w in range(len(network.warehouses))
                   if network.is_origin(w))
    columns.update({"in_transit_units": transit_units, "on_order_units": on_order,
                    "inventory_value_cny": stock.total_value(),
                    "in_transit_value_cny": transit_value, "ad_spend_cny": ad_cny,
                    "carrier_queue_units": float(pipeline.carrier_queue.sum())})
    for w, name in enumerate(network.warehouses):
        columns[f"pick_queue_{name}"] = float(pipeline.pick_queue[w])
    for m, name in enumerate(network.markets):
        columns[f"rating_{name}"] = float(sales.rating[m])
    records.daily.add(**columns)
    records.weekly.stock[t // 7] = stock.on_hand
    records.weekly.demand[t // 7] += sales.demand_units[:, :, t]
