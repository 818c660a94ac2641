"""The seller's data in canonical form: one table per sheet, every column documented.

One home for the tables' shape. The template writes it (``experiments.data.template``), the
importer checks files against it and writes it (``experiments.data.imports``), the history
generators produce it (``experiments.data.history``, ``experiments.data.synthetic``), and
calibration and the backtest read it. A data directory holds one ``<table>.parquet`` per
table present; ``read_tables`` loads them with each column in its declared type.

Master tables describe the business (``skus`` alone is enough, with a base scenario for the
rest); history tables record what happened; ``state`` is where the business stands today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from sim.atomic import atomic_write

Kind = Literal["str", "int", "float", "date", "bool"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    meaning: str
    unit: str = ""
    example: str = ""
    required: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    """Columns that identify a row (duplicates are reported)."""
    pattern: Column | None = None
    """A family of columns named by a pattern, e.g. ``price_<MARKET>``."""
    history: bool = False

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        if self.pattern is not None and pattern_regex(self.pattern).fullmatch(name):
            return self.pattern
        return None

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def pattern_regex(column: Column) -> re.Pattern[str]:
    """``price_<MARKET>`` -> ``price_(?P<MARKET>[A-Za-z0-9_]+)``."""
    name = re.sub(r"<([A-Z]+)>", r"(?P<\1>[A-Za-z0-9_]+)", column.name)
    return re.compile(name)


def _c(name: str, kind: Kind, meaning: str, unit: str = "", example: str = "",
       required: bool = True) -> Column:
    return Column(name, kind, meaning, unit, example, required)


TABLES: dict[str, Table] = {t.name: t for t in (
    Table("skus", "One row per product (SKU) the seller lists.", (
        _c("sku", "str", "the seller's SKU code", example="ELE_CHARGER_65W"),
        _c("category", "str", "product category (return rates are fitted per category)",
           example="electronics"),
        _c("supplier", "str", "the supplier that makes it", example="sz_electronics"),
        _c("unit_cost_cny", "float", "purchase cost per unit", "CNY", "42.5"),
        _c("weight_kg", "float", "shipping weight per unit", "kg", "0.35"),
        _c("volume_m3", "float", "packed volume per unit", "m3", "0.0012"),
        _c("return_probability", "float", "share of units returned, if known (else fitted "
           "from returns history or taken from the base scenario)", "0-1", "0.05",
           required=False),
    ), key=("sku",), pattern=_c("price_<MARKET>", "float", "list price in the market, in its "
                                "currency, VAT included (one column per market)",
                                "market currency", "29.99", required=False)),
    Table("suppliers", "One row per supplier.", (
        _c("supplier", "str", "supplier name, as in skus.supplier", example="sz_electronics"),
        _c("warehouse", "str", "origin warehouse it delivers to", example="SZ"),
        _c("moq_units", "int", "minimum order quantity", "units", "500", required=False),
        _c("capacity_units_per_day", "float", "most it makes per day", "units/day", "2000",
           required=False),
        _c("payment_terms_days", "int", "days from receipt to payment", "days", "30",
           required=False),
    ), key=("supplier",)),
    Table("warehouses", "One row per stock point: origin (in China) or overseas.", (
        _c("warehouse", "str", "warehouse name", example="US_WH"),
        _c("kind", "str", "origin or overseas", example="overseas"),
        _c("market", "str", "market an overseas warehouse serves", example="US",
           required=False),
        _c("currency", "str", "currency of its fees", example="USD"),
        _c("storage_fee_per_m3_day", "float", "storage fee", "currency/m3/day", "0.8"),
        _c("pick_pack_fee_per_order", "float", "pick-and-pack fee", "currency/order", "2.5"),
        _c("inbound_fee_per_unit", "float", "receiving fee", "currency/unit", "0.3"),
    ), key=("warehouse",)),
    Table("markets", "One row per selling country.", (
        _c("market", "str", "market code", example="US"),
        _c("currency", "str", "selling currency", example="USD"),
        _c("fx_to_cny", "float", "CNY per unit of the currency", "CNY", "7.2"),
        _c("vat_rate", "float", "VAT / sales tax included in prices", "0-1", "0.0"),
        _c("duty_rate", "float", "import duty on goods value", "0-1", "0.05"),
        _c("timezone", "str", "IANA time zone for order timestamps", example="America/New_York",
           required=False),
    ), key=("market",)),
    Table("lanes", "Rate cards: one row per leg and mode.", (
        _c("origin", "str", "warehouse the leg starts at", example="SZ"),
        _c("destination", "str", "warehouse or market the leg ends at", example="US_WH"),
        _c("mode", "str", "transport mode name", example="sea_fcl"),
        _c("currency", "str", "currency of the rates", example="CNY"),
        _c("cost_per_unit", "float", "rate per unit", "currency/unit", "0", required=False),
        _c("cost_per_kg", "float", "rate per chargeable kg", "currency/kg", "0",
           required=False),
        _c("cost_per_m3", "float", "rate per m3", "currency/m3", "0", required=False),
        _c("cost_per_container", "float", "rate per container", "currency/container",
           "15000", required=False),
        _c("transit_days_mean", "float", "mean transit time", "days", "28", required=False),
    ), key=("origin", "destination", "mode")),
    Table("orders", "Order lines: one row per SKU of an order.", (
        _c("order_id", "str", "order number", example="111-2233445-6677889"),
        _c("order_date", "date", "date ordered, in the market's local time", example="2026-03-14"),
        _c("market", "str", "market sold in", example="US"),
        _c("sku", "str", "SKU sold", example="ELE_CHARGER_65W"),
        _c("quantity", "int", "units on the line", "units", "1"),
        _c("unit_price", "float", "price paid per unit, VAT included, after discounts",
           "currency", "29.99"),
        _c("currency", "str", "currency of unit_price", example="USD"),
        _c("fulfilment", "str", "warehouse that shipped it, or 'direct' (parcel from origin)",
           example="US_WH"),
        _c("ship_date", "date", "date shipped", example="2026-03-15", required=False),
        _c("delivery_date", "date", "date delivered", example="2026-03-18", required=False),
        _c("promotion_discount", "float", "discount on the line (unit_price is after it)",
           "currency", "0", required=False),
        _c("status", "str", "shipped or cancelled", example="shipped"),
    ), key=("order_id", "sku"), history=True),
    Table("ad_spend", "Daily spend per ad channel and market.", (
        _c("date", "date", "day of the spend", example="2026-03-14"),
        _c("channel", "str", "ad channel, as named in the scenario", example="marketplace_ppc"),
        _c("market", "str", "market the spend targets", example="US"),
        _c("spend", "float", "spend on the day", "currency", "120.5"),
        _c("currency", "str", "currency of spend", example="USD"),
        _c("sessions", "float", "paid sessions (or clicks) it bought", "sessions", "180",
           required=False),
        _c("clicks", "float", "clicks, when sessions are not reported", "clicks", "180",
           required=False),
        _c("attributed_sales", "float", "sales the platform attributes to it", "currency",
           "450", required=False),
    ), key=("date", "channel", "market"), history=True),
    Table("purchase_orders", "Purchase orders placed with suppliers.", (
        _c("po_id", "str", "purchase order number", example="PO-2026-0001"),
        _c("supplier", "str", "supplier", example="sz_electronics"),
        _c("sku", "str", "SKU ordered", example="ELE_CHARGER_65W"),
        _c("quantity", "int", "units ordered", "units", "1000"),
        _c("order_date", "date", "date placed", example="2026-02-01"),
        _c("ready_date", "date", "date ready at the factory", example="2026-02-20",
           required=False),
        _c("received_date", "date", "date received at the origin warehouse",
           example="2026-02-22", required=False),
    ), key=("po_id", "sku"), history=True),
    Table("shipments", "Bulk shipments between warehouses, one row per SKU.", (
        _c("shipment_id", "str", "shipment reference", example="SH-0001"),
        _c("lane", "str", "lane, as 'ORIGIN>DESTINATION' or the scenario's lane name",
           example="SZ>US_WH"),
        _c("mode", "str", "transport mode", example="sea_fcl"),
        _c("sku", "str", "SKU shipped", example="ELE_CHARGER_65W"),
        _c("units", "int", "units shipped", "units", "500"),
        _c("ship_date", "date", "date it left", example="2026-03-01"),
        _c("arrival_date", "date", "date it arrived (empty: still on its way)",
           example="2026-04-02", required=False),
        _c("cost_cny", "float", "freight charged for the line", "CNY", "850.0",
           required=False),
    ), key=("shipment_id", "sku"), history=True),
    Table("returns", "Returned units.", (
        _c("order_id", "str", "order the units came from", example="111-2233445-6677889"),
        _c("sku", "str", "SKU returned", example="ELE_CHARGER_65W"),
        _c("quantity", "int", "units returned", "units", "1"),
        _c("return_date", "date", "date the return was opened", example="2026-03-25"),
        _c("reason", "str", "reason given", example="defective", required=False),
    ), key=("order_id", "sku"), history=True),
    Table("traffic", "Sessions per day, market and source (organic or an ad channel).", (
        _c("date", "date", "day", example="2026-03-14"),
        _c("market", "str", "market", example="US"),
        _c("source", "str", "'organic' or an ad channel name", example="organic"),
        _c("sessions", "float", "sessions", "sessions", "2400"),
    ), key=("date", "market", "source"), history=True),
    Table("state", "Where the business stands today: one row per stock position.", (
        _c("kind", "str", "on_hand, in_transit, open_po, backlog or adstock",
           example="on_hand"),
        _c("location", "str", "warehouse (on_hand, in_transit: its destination), supplier "
           "(open_po), market (backlog) or ad channel (adstock)", example="US_WH"),
        _c("sku", "str", "SKU (empty for adstock)", example="ELE_CHARGER_65W", required=False),
        _c("units", "float", "units (adstock: spend per day carried over, CNY)", "units",
           "120"),
        _c("origin", "str", "where an in-transit shipment left from", example="SZ",
           required=False),
        _c("mode", "str", "mode of an in-transit shipment", example="sea_fcl",
           required=False),
        _c("expected_date", "date", "expected arrival (in_transit) or ready date (open_po)",
           example="2026-12-20", required=False),
        _c("reference", "str", "shipment or PO number", example="PO-2026-0101",
           required=False),
    ), history=False),
)}

MASTER = ("skus", "suppliers", "warehouses", "markets", "lanes")
HISTORY = tuple(name for name, table in TABLES.items() if table.history)

PANDAS_TYPES: dict[Kind, str] = {"str": "string", "int": "Int64", "float": "float64",
                                 "date": "datetime64[ns]", "bool": "boolean"}


def typed(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The frame with each known column in its declared type (dates as midnight
    timestamps); unknown columns are kept as they are."""
    out = frame.copy()
    for name in out.columns:
        column = table.column(str(name))
        if column is None:
            continue
        if column.kind == "date":
            out[name] = pd.to_datetime(out[name]).dt.normalize()
        else:
            out[name] = out[name].astype(PANDAS_TYPES[column.kind])
    return out


def write_table(directory: Path, name: str, frame: pd.DataFrame) -> Path:
    """``directory/<name>.parquet`` in canonical types, atomically."""
    path = Path(directory) / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = typed(frame, TABLES[name])
    atomic_write(path, lambda tmp: data.to_parquet(tmp, index=False))
    return path


def read_tables(directory: Path) -> dict[str, pd.DataFrame]:
    """Every canonical table present in a data directory, typed."""
    out = {}
    for name, table in TABLES.items():
        path = Path(directory) / f"{name}.parquet"
        if path.exists():
            out[name] = typed(pd.read_parquet(path), table)
    return out
