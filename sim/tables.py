"""The tables that grow with orders, chunk by chunk: named columns, sink, running totals.

Orders, shipments, tickets and listing days are recorded as integer codes
(``sim.recorder``). Each chunk a recorder hands over is turned into its table's final form
here (names for codes, dates for days), checked, added to the running totals the KPIs are
computed from (``sim.totals``) and given to a ``TableSink``: kept in memory to be joined at
the end (``MemorySink``, what ``simulate()`` does by default), or written away as it comes
(``experiments.storage.stream.ParquetSink``), so that a run of ten million orders never holds
its order table. Both see the same chunks, so they give the same tables and KPIs.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np
import pandas as pd

from sim.integrity import check_table
from sim.network import Network
from sim.recorder import CHUNK_ROWS, Recorder
from sim.returns import DISPOSITIONS
from sim.service import TICKET_TYPES
from sim.totals import ListingTotals, OrderTotals, TicketTotals

STREAMED = ("orders", "shipments", "tickets", "listings")
"""The tables that grow with orders, SKUs x days or tickets, in the order a run lists them."""


class TableSink(Protocol):
    """Where streamed tables go: ``write`` takes each chunk in order (``chunk_rows`` rows,
    the last shorter), ``close`` follows the last; ``held`` returns a table kept whole, or
    None when the sink wrote it away."""

    chunk_rows: int

    def write(self, name: str, chunk: pd.DataFrame) -> None: ...

    def held(self, name: str) -> pd.DataFrame | None: ...


class MemorySink:
    """Keeps every chunk and joins each table at the end."""

    def __init__(self, chunk_rows: int = CHUNK_ROWS) -> None:
        self.chunk_rows = chunk_rows
        self._chunks: dict[str, list[pd.DataFrame]] = {}

    def write(self, name: str, chunk: pd.DataFrame) -> None:
        self._chunks.setdefault(name, []).append(chunk)

    def held(self, name: str) -> pd.DataFrame | None:
        chunks = self._chunks.get(name)
        if not chunks:
            return None
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def names(codes: pd.Series | np.ndarray, labels: list[str] | tuple[str, ...]
          ) -> pd.Categorical:
    """Integer codes to a categorical of names; -1 stays missing."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=int), dtype=_categories(
        tuple(labels)))


@functools.lru_cache(maxsize=64)
def _categories(labels: tuple[str, ...]) -> pd.CategoricalDtype:
    """One dtype per list of names: checking 10,000 SKU names for every chunk cost more
    than the chunk."""
    return pd.CategoricalDtype(list(labels))


def _dates(net: Network, days: pd.Series) -> np.ndarray:
    start = np.datetime64(net.scenario.horizon.start_date, "D")
    return start + days.to_numpy().astype("timedelta64[D]")


def order_table(net: Network, orders: pd.DataFrame) -> pd.DataFrame:
    orders.insert(1, "order_date", _dates(net, orders["order_day"]))
    orders["market"] = names(orders["market"], net.markets)
    orders["sku"] = names(orders["sku"], net.skus)
    orders["warehouse"] = names(orders["warehouse"], net.warehouses)
    orders["mode"] = names(orders["mode"], net.modes)
    orders["disposition"] = names(orders["disposition"], list(DISPOSITIONS))
    orders.insert(8, "route", pd.Categorical.from_codes(
        (~orders["direct"].to_numpy()).astype(np.int8), ["direct", "warehouse"]))
    return orders


def shipment_table(net: Network, shipments: pd.DataFrame) -> pd.DataFrame:
    shipments["mode"] = names(shipments["mode"], net.modes)
    for column in ("origin", "destination"):
        shipments[column] = names(shipments[column], net.warehouses)
    shipments["sku"] = names(shipments["sku"], net.skus)
    return shipments


def ticket_table(net: Network, tickets: pd.DataFrame) -> pd.DataFrame:
    tickets["type"] = names(tickets["type"], list(TICKET_TYPES))
    tickets["market"] = names(tickets["market"], net.markets)
    return tickets


def listing_table(net: Network, listings: pd.DataFrame) -> pd.DataFrame:
    listings.insert(1, "date", _dates(net, listings["day"]))
    listings["market"] = names(listings["market"], net.markets)
    listings["sku"] = names(listings["sku"], net.skus)
    return listings


BUILDERS = {"orders": order_table, "shipments": shipment_table, "tickets": ticket_table,
            "listings": listing_table}


class RunTables:
    """Routes each streamed table's chunks: final form, integrity check, totals, sink."""

    def __init__(self, net: Network, sink: TableSink) -> None:
        self.net, self.sink = net, sink
        warm = net.scenario.horizon.warmup_days
        self.orders = OrderTotals(net)
        service = net.scenario.service
        self.tickets = TicketTotals(net.days, warm, service.first_response_sla_hours,
                                    service.resolution_sla_hours)
        self.listings = ListingTotals(warm)
        self._recorders: dict[str, Recorder] = {}
        self._written: set[str] = set()

    def stream(self, name: str, recorder: Recorder) -> Recorder:
        """Let ``recorder``'s chunks flow into table ``name``; ``recorder`` back."""
        build = BUILDERS[name]
        kept: dict[str, OrderTotals | TicketTotals | ListingTotals] = {
            "orders": self.orders, "tickets": self.tickets, "listings": self.listings}
        totals = kept.get(name)

        def consume(chunk: pd.DataFrame) -> None:
            table = build(self.net, chunk)
            check_table(name, table)
            if totals is not None:
                totals.add(table)
            self.sink.write(name, table)
            self._written.add(name)

        recorder.stream(consume, self.sink.chunk_rows)
        self._recorders[name] = recorder
        return recorder

    def close(self) -> None:
        """Hand over every recorder's last rows; a table without rows gets its columns."""
        for name, recorder in self._recorders.items():
            recorder.close()
            if name not in self._written:
                self.sink.write(name, self.empty(name))

    def held(self, name: str) -> pd.DataFrame | None:
        """Table ``name`` whole if the sink kept it, else None (written away)."""
        return self.sink.held(name)

    def empty(self, name: str) -> pd.DataFrame:
        return BUILDERS[name](self.net, self._recorders[name].frame())
