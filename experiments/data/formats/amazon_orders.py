"""Amazon Seller Central "All Orders" report (tab-separated flat file) to ``orders``.

One report row is one order item. The mapping, column by column:

- ``order_id`` = amazon-order-id; ``sku`` = sku; ``currency`` = currency.
- ``market`` from sales-channel (``Amazon.com`` -> US, ``Amazon.de`` -> DE,
  ``Amazon.co.uk`` -> UK, ... see ``SALES_CHANNELS``); any other channel (``Non-Amazon``:
  multi-channel fulfilment) falls back on ship-country (``GB`` -> UK).
- ``order_date`` = purchase-date (a timestamp with a UTC offset) as the market's local date.
- ``quantity`` = quantity. Cancelled items report quantity 0 and no price; they are kept.
- item-price is the line total, VAT included (EU; US sales tax is apart in item-tax), before
  the promotion: ``promotion_discount`` = |item-promotion-discount| and
  ``unit_price`` = (item-price - promotion_discount) / quantity, after the discount as the
  orders table defines it. A line with no item-price (pending orders) is rejected unless
  cancelled.
- ``status`` = cancelled when order-status (or item-status) is Cancelled, else shipped.
- ``fulfilment``: fulfillment-channel Amazon (FBA) -> the market's overseas warehouse when
  the warehouses table or the base scenario names one, else ``AFN``; Merchant -> ``direct``.
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

NAME = "amazon_orders"
COLUMNS = (
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
    "order-status", "fulfillment-channel", "sales-channel", "order-channel",
    "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity", "currency",
    "item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price",
    "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order",
    "purchase-order-number", "price-designation",
)
SIGNATURE = ("amazon-order-id", "purchase-date", "order-status", "fulfillment-channel",
             "sales-channel", "sku", "asin", "quantity", "currency", "item-price")
REQUIRED = ("amazon-order-id", "purchase-date", "order-status", "fulfillment-channel", "sku",
            "quantity", "currency", "item-price")
READ = (*REQUIRED, "sales-channel", "ship-country", "item-status", "item-promotion-discount")
SALES_CHANNELS = {
    "amazon.com": "US", "amazon.ca": "CA", "amazon.com.mx": "MX", "amazon.com.br": "BR",
    "amazon.co.uk": "UK", "amazon.de": "DE", "amazon.fr": "FR", "amazon.it": "IT",
    "amazon.es": "ES", "amazon.nl": "NL", "amazon.com.be": "BE", "amazon.se": "SE",
    "amazon.pl": "PL", "amazon.ie": "IE", "amazon.com.tr": "TR", "amazon.ae": "AE",
    "amazon.sa": "SA", "amazon.eg": "EG", "amazon.in": "IN", "amazon.co.jp": "JP",
    "amazon.sg": "SG", "amazon.com.au": "AU",
}
"""Amazon marketplace -> market code (the marketplace a sale was made on)."""
AMAZON_FULFILLED = "AFN"
SOURCE = {"order_id": "amazon-order-id", "order_date": "purchase-date",
          "market": "sales-channel", "quantity": "quantity", "unit_price": "item-price",
          "currency": "currency", "fulfilment": "fulfillment-channel", "status": "order-status",
          "promotion_discount": "item-promotion-discount"}
"""The report's column each orders column comes from (named in problems)."""


def score(sheet: Sheet) -> float:
    return share_present(sheet.header, SIGNATURE)


def read(sheet: Sheet, context: Context) -> Mapped:
    frame = with_names(sheet.frame, READ)
    problems = Problems(sheet)
    if missing_columns(frame, REQUIRED, problems) or _no_market_column(frame, problems):
        return finish(sheet, NAME, "orders", pd.DataFrame(index=frame.index), problems, context)
    out = pd.DataFrame(index=frame.index)
    out["order_id"] = frame["amazon-order-id"]
    out["market"] = _markets(frame, context, problems)
    out["order_date"], bad = local_dates(frame["purchase-date"],
                                         context.timezones(out["market"]))
    problems.reject(bad, "purchase-date", "bad date", frame["purchase-date"])
    out["sku"] = frame["sku"]
    quantity, bad = numbers(frame["quantity"])
    problems.reject(bad, "quantity", "not a number", frame["quantity"])
    problems.reject(problems.open(whole_numbers(quantity)), "quantity", "not a whole number",
                    frame["quantity"])
    out["quantity"] = quantity
    cancelled = _cancelled(frame)
    price, bad = numbers(frame["item-price"])
    problems.reject(bad, "item-price", "not a number", frame["item-price"])
    problems.reject(problems.open(price.isna() & ~cancelled), "item-price",
                    "no item-price (order not priced yet)")
    discount = pd.Series(0.0, index=frame.index)
    if "item-promotion-discount" in frame.columns:
        given, bad = numbers(frame["item-promotion-discount"])
        problems.reject(bad, "item-promotion-discount", "not a number",
                        frame["item-promotion-discount"])
        discount = given.abs().fillna(0.0)
    line = (price.fillna(0.0) - discount)
    out["unit_price"] = (line / quantity.where(quantity > 0)).fillna(0.0)
    out["currency"] = per_distinct(frame["currency"], lambda c: c.str.upper())
    out["fulfilment"] = _fulfilment(frame, out["market"], context, problems)
    out["promotion_discount"] = discount
    out["status"] = np.where(cancelled, "cancelled", "shipped")
    return finish(sheet, NAME, "orders", out, problems, context, SOURCE)


def _no_market_column(frame: pd.DataFrame, problems: Problems) -> bool:
    if "sales-channel" in frame.columns or "ship-country" in frame.columns:
        return False
    problems.note("sales-channel", "missing required column", rejects=True,
                  detail="(or ship-country)")
    return True


def _markets(frame: pd.DataFrame, context: Context, problems: Problems) -> pd.Series:
    known = frozenset(context.markets)
    market = pd.Series(pd.NA, index=frame.index, dtype="str")
    if "sales-channel" in frame.columns:
        channels = SALES_CHANNELS
        if "GB" in known and "UK" not in known:
            channels = {k: "GB" if v == "UK" else v for k, v in channels.items()}
        market = per_distinct(frame["sales-channel"],
                              lambda c: c.str.lower().map(channels).astype("str"))
    if "ship-country" in frame.columns:
        market = market.fillna(market_codes(frame["ship-country"], known))
    channel = frame.get("sales-channel", pd.Series(pd.NA, index=frame.index))
    problems.reject(market.isna(), "sales-channel", "no market: unknown sales-channel and no "
                    "ship-country", channel)
    return market


def _cancelled(frame: pd.DataFrame) -> pd.Series:
    statuses = [frame[c] for c in ("order-status", "item-status") if c in frame.columns]
    cancelled = [per_distinct(s, lambda c: c.str.lower() == "cancelled") for s in statuses]
    return pd.concat(cancelled, axis=1).fillna(False).astype(bool).any(axis=1)


def _fulfilment(frame: pd.DataFrame, market: pd.Series, context: Context,
                problems: Problems) -> pd.Series:
    channel = per_distinct(frame["fulfillment-channel"], lambda c: c.str.lower())
    amazon = channel.isin(["amazon", "afn"])
    merchant = channel.isin(["merchant", "mfn"])
    problems.reject(problems.open(channel.notna() & ~amazon & ~merchant),
                    "fulfillment-channel", "unknown fulfillment-channel (Amazon or Merchant)",
                    frame["fulfillment-channel"])
    fulfilment = pd.Series(pd.NA, index=frame.index, dtype="str")
    fulfilment[merchant] = "direct"
    served = market[amazon].map(dict(context.overseas)).astype("str")
    fulfilment[amazon] = served.fillna(AMAZON_FULFILLED)
    return fulfilment


FORMAT = Format(NAME, score, read)
