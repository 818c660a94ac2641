"""Shopify orders export (CSV) to ``orders``.

Shopify writes one row per line item; order-level columns (Created at, Currency, Shipping
Country, Cancelled at, ...) are filled on an order's first row only, so they are carried to
its other rows by order Name. The mapping:

- ``order_id`` = Name (``#1001``); ``sku`` = Lineitem sku; ``quantity`` = Lineitem quantity.
- ``market`` = Shipping Country (``GB`` -> UK), else Billing Country (pick-up orders).
- ``order_date`` = Created at (with its UTC offset) as the market's local date.
- ``unit_price`` = Lineitem price less Lineitem discount / quantity (``promotion_discount``
  = Lineitem discount; exports without that column carry no line discount).
- ``currency`` = Currency; ``status`` = cancelled when Cancelled at is set, else shipped.
- ``fulfilment`` = ``direct``: the export does not say which warehouse shipped a line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.formats import (
    Context,
    Format,
    Mapped,
    Problems,
    finish,
    missing_columns,
    share_present,
    with_names,
)
from experiments.data.formats.parsing import (
    local_dates,
    market_codes,
    numbers,
    per_distinct,
    whole_numbers,
)
from experiments.data.formats.sources import Sheet

NAME = "shopify_orders"
COLUMNS = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Country", "Shipping Country",
    "Cancelled at", "Refunded Amount", "Id", "Lineitem discount",
)
SIGNATURE = ("Name", "Financial Status", "Currency", "Created at", "Lineitem quantity",
             "Lineitem name", "Lineitem price", "Lineitem sku", "Shipping Country")
REQUIRED = ("Name", "Currency", "Created at", "Lineitem quantity", "Lineitem price",
            "Lineitem sku", "Shipping Country")
ORDER_LEVEL = ("Currency", "Created at", "Shipping Country", "Billing Country", "Cancelled at")
READ = (*REQUIRED, *ORDER_LEVEL, "Lineitem discount")
SOURCE = {"order_id": "Name", "order_date": "Created at", "market": "Shipping Country",
          "sku": "Lineitem sku", "quantity": "Lineitem quantity", "unit_price": "Lineitem price",
          "currency": "Currency", "promotion_discount": "Lineitem discount"}
"""The export's column each orders column comes from (named in problems)."""


def score(sheet: Sheet) -> float:
    return share_present(sheet.header, SIGNATURE)


def read(sheet: Sheet, context: Context) -> Mapped:
    frame = with_names(sheet.frame, READ)
    problems = Problems(sheet)
    if missing_columns(frame, REQUIRED, problems):
        return finish(sheet, NAME, "orders", pd.DataFrame(index=frame.index), problems, context)
    frame = _order_level_filled(frame)
    out = pd.DataFrame(index=frame.index)
    out["order_id"] = frame["Name"]
    country = frame["Shipping Country"]
    if "Billing Country" in frame.columns:
        country = country.fillna(frame["Billing Country"])
    out["market"] = market_codes(country, frozenset(context.markets))
    out["order_date"], bad = local_dates(frame["Created at"], context.timezones(out["market"]))
    problems.reject(bad, "Created at", "bad date", frame["Created at"])
    out["sku"] = frame["Lineitem sku"]
    quantity, bad = numbers(frame["Lineitem quantity"])
    problems.reject(bad, "Lineitem quantity", "not a number", frame["Lineitem quantity"])
    problems.reject(problems.open(whole_numbers(quantity)), "Lineitem quantity",
                    "not a whole number", frame["Lineitem quantity"])
    out["quantity"] = quantity
    price, bad = numbers(frame["Lineitem price"])
    problems.reject(bad, "Lineitem price", "not a number", frame["Lineitem price"])
    discount = pd.Series(0.0, index=frame.index)
    if "Lineitem discount" in frame.columns:
        given, bad = numbers(frame["Lineitem discount"])
        problems.reject(bad, "Lineitem discount", "not a number", frame["Lineitem discount"])
        discount = given.abs().fillna(0.0)
    out["unit_price"] = price - (discount / quantity.where(quantity > 0)).fillna(0.0)
    out["currency"] = per_distinct(frame["Currency"], lambda c: c.str.upper())
    out["fulfilment"] = "direct"
    out["promotion_discount"] = discount
    cancelled = frame["Cancelled at"].notna() if "Cancelled at" in frame.columns else False
    out["status"] = np.where(cancelled, "cancelled", "shipped")
    return finish(sheet, NAME, "orders", out, problems, context, SOURCE)


def _order_level_filled(frame: pd.DataFrame) -> pd.DataFrame:
    """Order-level cells copied from an order's first row to its other line-item rows."""
    columns = [c for c in ORDER_LEVEL if c in frame.columns]
    continued = frame["Name"].duplicated() & frame["Name"].notna()
    if not continued.any():
        return frame
    firsts = frame.groupby("Name", sort=False)[columns].transform("first")
    out = frame.copy()
    for column in columns:
        out[column] = out[column].where(~continued | out[column].notna(), firsts[column])
    return out


FORMAT = Format(NAME, score, read)
