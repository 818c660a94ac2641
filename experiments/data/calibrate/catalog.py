"""The catalogue a seller sells: SKUs, their suppliers, markets and warehouses, as the master
tables say.

The ``skus`` table is the source of the SKU list (category, supplier, cost, weight, volume and
the ``price_<MARKET>`` columns). A market without a price column takes the median price paid
in ``orders``, converted to the market's currency at the scenario's FX. Popularity and return
probability belong to the demand and returns fitters; until they fill them a SKU keeps the
base's values (by name, else the mean of its category in the base). Suppliers named in the
table are the base's by name, else a copy of a base supplier delivering to the same origin
warehouse (assumed, and said so). Markets and warehouses change only where their master
tables exist. Without a ``skus`` table the SKU list comes from ``orders`` and what the base
knows of each name, with a warning for everything assumed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from experiments.data.calibrate.fit import Fit
from experiments.data.tables import TABLES, pattern_regex
from experiments.errors import ExperimentError
from sim.scenario import Scenario

PRICE_RANGE = (0.1, 0.9)
"""Quantiles of prices paid shown as the interval of a price taken from orders."""
MARKET_FIELDS = ("currency", "fx_to_cny", "vat_rate", "duty_rate")
WAREHOUSE_FIELDS = ("kind", "market", "currency", "storage_fee_per_m3_day",
                    "pick_pack_fee_per_order", "inbound_fee_per_unit")
SUPPLIER_FIELDS = ("warehouse", "moq_units", "capacity_units_per_day", "payment_terms_days")


UNFITTED_LEVERS = {
    "ranking": ("velocity_elasticity", "stockout_penalty", "rating_elasticity",
                "review_elasticity"),
    "customers": ("repurchase_probability", "on_time_bonus"),
}
"""Levers the fit does not estimate, by the fields that make them act (all zero: neutral)."""


def _neutral_levers(base: Scenario, fit: Fit) -> None:
    """The history's levels were fitted with the ranking the seller had and with its
    returning buyers among its orders; the fit estimates neither lever, so carrying the
    base's on top would count them twice: the calibrated scenario starts with both
    neutral, and says so."""
    for lever, fields in UNFITTED_LEVERS.items():
        spec = getattr(base, lever)
        if any(getattr(spec, name) for name in fields):
            fit.values.update({f"{lever}.{name}": 0.0 for name in fields})
            fit.warnings.append(f"the {lever} lever is not fitted: it is neutral in the "
                                f"calibrated scenario (set {lever}.* to turn it on)")


def fit_catalog(tables: Mapping[str, pd.DataFrame], base: Scenario) -> Fit:
    """SKUs, suppliers, markets and warehouses by dotted path (each a whole mapping)."""
    fit = Fit("catalog")
    markets = _markets(tables, base, fit)
    warehouses = _warehouses(tables, base, fit)
    orders = _shipped_orders(tables)
    fx = _fx(markets)
    skus, prices = _skus(tables, orders, base, markets, fx, fit)
    suppliers = _suppliers(tables, skus, base, warehouses, fit)
    fit.values = {"skus": skus, "suppliers": suppliers}
    if "markets" in tables:
        fit.values["markets"] = markets
    if "warehouses" in tables:
        fit.values["warehouses"] = warehouses
    _neutral_levers(base, fit)
    fit.tables = {"parameters": prices,
                  "price_by_month": _price_by_month(orders, skus, markets, fx)}
    source = "skus table" if "skus" in tables else "orders (no skus table)"
    from_orders = int((prices["source"] == "orders: median paid").sum())
    fit.comment = (f"catalog: {len(skus)} SKUs, {len(suppliers)} suppliers, {len(markets)} "
                   f"markets from the {source}; {len(prices) - from_orders} prices from price "
                   f"columns or the base, {from_orders} from prices paid"
                   + (f"; {len(fit.warnings)} warning(s)" if fit.warnings else ""))
    return fit


def _shipped_orders(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    orders = tables.get("orders")
    if orders is None or orders.empty:
        return pd.DataFrame(columns=[c.name for c in TABLES["orders"].columns])
    return orders[orders["status"].fillna("shipped") != "cancelled"]


def _dump(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(by_alias=True, exclude_none=True))


def _markets(tables: Mapping[str, pd.DataFrame], base: Scenario,
             fit: Fit) -> dict[str, dict[str, Any]]:
    """The base's markets, or those of the ``markets`` table with its currency, FX and taxes
    (customs, traffic and stock-out rule stay the base's: no master table holds them)."""
    table = tables.get("markets")
    if table is None:
        return {name: _dump(spec) for name, spec in base.markets.items()}
    out = {}
    for row in table.to_dict("records"):
        name = str(row["market"])
        if name not in base.markets:
            raise ExperimentError(f"market '{name}' of the markets table is not in the base "
                                  "scenario: add it there first (customs, traffic, fulfilment)")
        out[name] = _dump(base.markets[name]) | _given(row, MARKET_FIELDS)
    dropped = sorted(set(base.markets) - set(out))
    if dropped:
        fit.warnings.append(f"base markets {', '.join(dropped)} are not in the markets table: "
                            "left out, with the routes, shares and events that name them")
    return out


def _warehouses(tables: Mapping[str, pd.DataFrame], base: Scenario,
                fit: Fit) -> dict[str, dict[str, Any]]:
    """The base's warehouses, or those of the ``warehouses`` table with its fees (capacity
    and opening stock stay the base's)."""
    table = tables.get("warehouses")
    if table is None:
        return {name: _dump(spec) for name, spec in base.warehouses.items()}
    out, unknown = {}, []
    for row in table.to_dict("records"):
        name = str(row["warehouse"])
        if name not in base.warehouses:
            unknown.append(name)
            continue
        spec = _dump(base.warehouses[name]) | _given(row, WAREHOUSE_FIELDS)
        if spec["kind"] == "origin":
            spec.pop("market", None)
        out[name] = spec
    if unknown:
        fit.warnings.append(f"warehouses {', '.join(unknown)} are not in the base scenario: "
                            "left out (add their lanes and routes to the base to use them)")
    dropped = sorted(set(base.warehouses) - set(out))
    if dropped:
        fit.warnings.append(f"base warehouses {', '.join(dropped)} are not in the warehouses "
                            "table: left out, with their lanes and replenishment rules")
    return out


def _given(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The row's non-empty values of ``fields``, as plain Python values."""
    out = {}
    for name in fields:
        value = row.get(name)
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        out[name] = value.item() if isinstance(value, np.generic) else value
    return out


def _fx(markets: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """CNY per unit of each currency the markets trade in."""
    return {"CNY": 1.0} | {str(m["currency"]): float(m["fx_to_cny"]) for m in markets.values()}


def _skus(tables: Mapping[str, pd.DataFrame], orders: pd.DataFrame, base: Scenario,
          markets: Mapping[str, Mapping[str, Any]], fx: Mapping[str, float],
          fit: Fit) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Every SKU's scenario entry, and the table of its prices with where each came from."""
    master = tables.get("skus")
    rows = _master_rows(master, orders, base, fit)
    paid = _paid_prices(orders, markets, fx, fit)
    price_columns = {} if master is None else _price_columns(master)
    defaults = _base_defaults(base)
    skus: dict[str, dict[str, Any]] = {}
    records = []
    for row in rows:
        name = str(row["sku"])
        prices: dict[str, float] = {}
        for market, spec in markets.items():
            price, low, high, source = _price(row, name, market, price_columns, paid, base)
            if price is None:
                continue
            prices[market] = round(price, 2)
            records.append({"parameter": f"skus.{name}.price.{market}", "estimate": price,
                            "low": low, "high": high, "unit": spec["currency"],
                            "source": source})
        if not prices:
            raise ExperimentError(f"SKU '{name}' has no price in any market: give a price_<MARKET>"
                                  " column in the skus table or orders that sold it")
        for market in [m for m in markets if m not in prices]:
            prices[market] = round(_converted_price(prices, markets, market), 2)
            records.append({"parameter": f"skus.{name}.price.{market}",
                            "estimate": prices[market], "low": np.nan, "high": np.nan,
                            "unit": markets[market]["currency"], "source": "other market, FX"})
        skus[name] = _sku_entry(row, name, prices, base, defaults)
    converted = sum(r["source"] == "other market, FX" for r in records)
    if converted:
        fit.warnings.append(f"{converted} prices had neither a price column nor sales in their "
                            "market: converted from the SKU's price in another market at FX")
    return skus, pd.DataFrame.from_records(
        records, columns=["parameter", "estimate", "low", "high", "unit", "source"])


def _master_rows(master: pd.DataFrame | None, orders: pd.DataFrame, base: Scenario,
                 fit: Fit) -> list[dict[str, Any]]:
    """One record per SKU: the skus table's rows, or SKUs sold in orders with what the base
    knows of them."""
    sold = sorted(set(orders["sku"].dropna().astype(str)))
    if master is not None:
        names = set(master["sku"].astype(str))
        unlisted = [s for s in sold if s not in names]
        if unlisted:
            fit.warnings.append(f"{len(unlisted)} SKUs sold in orders are not in the skus table "
                                f"and are left out: {_few(unlisted)}")
        unsold = sorted(names - set(sold))
        if unsold and sold:
            fit.warnings.append(f"{len(unsold)} SKUs of the skus table have no orders: "
                                f"{_few(unsold)}")
        return list(master.to_dict("records"))
    if not sold:
        raise ExperimentError("no skus table and no orders: nothing to take the catalogue from")
    known = [s for s in sold if s in base.skus]
    new = [s for s in sold if s not in base.skus]
    fit.warnings.append(f"no skus table: the {len(sold)} SKUs sold in orders are the catalogue; "
                        f"{len(known)} take category, supplier, cost, weight and volume from the "
                        "base by name")
    if new:
        fit.warnings.append(f"{len(new)} SKUs are not in the base ({_few(new)}): category "
                            "'uncategorised', the base's most common supplier and its median "
                            "cost, weight and volume are assumed")
    suppliers = Counter(s.supplier for s in base.skus.values())
    median = {f: float(np.median([getattr(s, f) for s in base.skus.values()]))
              for f in ("unit_cost_cny", "weight_kg", "volume_m3")}
    rows = []
    for name in sold:
        spec = base.skus.get(name)
        if spec is not None:
            rows.append({"sku": name, "category": spec.category, "supplier": spec.supplier,
                         "unit_cost_cny": spec.unit_cost_cny, "weight_kg": spec.weight_kg,
                         "volume_m3": spec.volume_m3})
        else:
            rows.append({"sku": name, "category": "uncategorised",
                         "supplier": suppliers.most_common(1)[0][0], **median})
    return rows


def _few(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _price_columns(master: pd.DataFrame) -> dict[str, str]:
    """Market -> its ``price_<MARKET>`` column."""
    pattern = TABLES["skus"].pattern
    assert pattern is not None
    regex = pattern_regex(pattern)
    out = {}
    for column in master.columns:
        match = regex.fullmatch(str(column))
        if match:
            out[match.group("MARKET")] = str(column)
    return out


def _paid_prices(orders: pd.DataFrame, markets: Mapping[str, Mapping[str, Any]],
                 fx: Mapping[str, float], fit: Fit) -> pd.DataFrame:
    """Order lines with ``price`` in their market's currency (converted at the FX when the
    export is in another currency)."""
    lines = orders[orders["market"].astype(str).isin(list(markets))].copy()
    if lines.empty:
        return lines.assign(price=pd.Series(dtype=float))
    market_currency = lines["market"].astype(str).map(
        {m: str(s["currency"]) for m, s in markets.items()})
    currency = lines["currency"].astype(str)
    unknown = sorted(set(currency) - set(fx))
    if unknown:
        fit.warnings.append(f"order prices in {', '.join(unknown)} (no market trades in it) "
                            "are left out of the prices paid")
    rate = currency.map(fx) / market_currency.map(fx)
    lines["price"] = lines["unit_price"].astype(float) * rate
    converted = int((currency != market_currency).sum())
    if converted:
        fit.warnings.append(f"{converted} order lines were paid in another currency than their "
                            "market's: converted at the scenario's FX")
    return lines[lines["price"].notna()]


def _price(row: Mapping[str, Any], sku: str, market: str, columns: Mapping[str, str],
           paid: pd.DataFrame, base: Scenario
           ) -> tuple[float | None, float, float, str]:
    """(price, low, high, source): the price column, else the median paid, else the base's."""
    column = columns.get(market)
    if column is not None and pd.notna(row.get(column)):
        return float(row[column]), np.nan, np.nan, "skus table"
    prices = paid.loc[(paid["sku"].astype(str) == sku) & (paid["market"].astype(str) == market),
                      "price"]
    if len(prices):
        low, high = np.quantile(prices, PRICE_RANGE)
        return float(prices.median()), float(low), float(high), "orders: median paid"
    spec = base.skus.get(sku)
    if spec is not None and market in spec.price:
        return float(spec.price[market]), np.nan, np.nan, "base (no price, no sales)"
    return None, np.nan, np.nan, ""


def _converted_price(prices: Mapping[str, float], markets: Mapping[str, Mapping[str, Any]],
                     market: str) -> float:
    """The SKU's price in the first market it has one in, at FX."""
    other = next(iter(prices))
    cny = prices[other] * float(markets[other]["fx_to_cny"])
    return cny / float(markets[market]["fx_to_cny"])


def _base_defaults(base: Scenario) -> dict[str, dict[str, float]]:
    """Mean popularity and return probability per base category, and overall (key '')."""
    out: dict[str, dict[str, float]] = {}
    groups: dict[str, list[Any]] = {"": list(base.skus.values())}
    for spec in base.skus.values():
        groups.setdefault(spec.category, []).append(spec)
    for category, specs in groups.items():
        out[category] = {
            "popularity": float(np.mean([s.popularity for s in specs])),
            "base_return_probability": float(np.mean([s.base_return_probability
                                                      for s in specs]))}
    return out


def _sku_entry(row: Mapping[str, Any], name: str, prices: dict[str, float], base: Scenario,
               defaults: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    category = str(row["category"])
    spec = base.skus.get(name)
    fallback = defaults.get(category, defaults[""])
    returns = row.get("return_probability")
    entry: dict[str, Any] = {
        "category": category, "supplier": str(row["supplier"]),
        "unit_cost_cny": float(row["unit_cost_cny"]), "price": prices,
        "weight_kg": float(row["weight_kg"]), "volume_m3": float(row["volume_m3"]),
        "popularity": spec.popularity if spec else round(fallback["popularity"], 4),
        "base_return_probability": (
            float(returns) if returns is not None and pd.notna(returns)
            else spec.base_return_probability if spec
            else round(fallback["base_return_probability"], 4)),
    }
    return entry


def _suppliers(tables: Mapping[str, pd.DataFrame], skus: Mapping[str, Mapping[str, Any]],
               base: Scenario, warehouses: Mapping[str, Mapping[str, Any]],
               fit: Fit) -> dict[str, dict[str, Any]]:
    """The suppliers the SKUs name: the base's by name, else a copy of the base supplier that
    delivers to the same origin warehouse and makes the most of the same categories."""
    table = tables.get("suppliers")
    given = {} if table is None else {str(r["supplier"]): _given(r, SUPPLIER_FIELDS)
                                      for r in table.to_dict("records")}
    origins = [n for n, w in warehouses.items() if w["kind"] == "origin"]
    if not origins:
        raise ExperimentError("the catalogue has no origin warehouse for suppliers to deliver to")
    out = {}
    for name in sorted({str(s["supplier"]) for s in skus.values()}):
        if name in base.suppliers:
            spec = _dump(base.suppliers[name]) | given.get(name, {})
        else:
            categories = {str(s["category"]) for s in skus.values() if s["supplier"] == name}
            warehouse = given.get(name, {}).get("warehouse", origins[0])
            template = _template(base, str(warehouse), categories)
            spec = _dump(base.suppliers[template]) | given.get(name, {})
            fit.warnings.append(f"supplier {name} is not in the base: lead times, reliability "
                                f"and terms copied from base supplier {template} (assumed until "
                                "fitted)")
        if spec["warehouse"] not in origins:
            fit.warnings.append(f"supplier {name} delivered to {spec['warehouse']}, not an "
                                f"origin warehouse of the catalogue: set to {origins[0]}")
            spec["warehouse"] = origins[0]
        out[name] = spec
    return out


def _template(base: Scenario, warehouse: str, categories: set[str]) -> str:
    """The base supplier most like a new one: same warehouse, most SKUs in its categories."""
    def score(name: str) -> tuple[bool, int]:
        made = sum(s.supplier == name and s.category in categories for s in base.skus.values())
        return base.suppliers[name].warehouse == warehouse, made

    return max(base.suppliers, key=score)


def _price_by_month(orders: pd.DataFrame, skus: Mapping[str, Mapping[str, Any]],
                    markets: Mapping[str, Mapping[str, Any]],
                    fx: Mapping[str, float]) -> pd.DataFrame:
    """Observed against fitted per market and month: the mean price paid per unit, and the
    mean fitted list price of the same units (a gap is discounts or price changes)."""
    columns = ["market", "month", "measure", "observed", "fitted"]
    lines = orders[orders["sku"].astype(str).isin(list(skus))
                   & orders["market"].astype(str).isin(list(markets))]
    if lines.empty:
        return pd.DataFrame(columns=columns)
    market = lines["market"].astype(str)
    rate = lines["currency"].astype(str).map(fx) / market.map(
        {m: fx[str(s["currency"])] for m, s in markets.items()})
    units = lines["quantity"].astype(float)
    frame = pd.DataFrame({
        "market": market,
        "month": lines["order_date"].dt.strftime("%Y-%m"),
        "paid": units * lines["unit_price"].astype(float) * rate,
        "listed": units * [float(skus[s]["price"][m])
                           for s, m in zip(lines["sku"].astype(str), market, strict=True)],
        "units": units})
    sums = frame.groupby(["market", "month"], as_index=False)[["paid", "listed", "units"]].sum()
    return pd.DataFrame({"market": sums["market"], "month": sums["month"],
                         "measure": "mean price per unit [market currency]",
                         "observed": sums["paid"] / sums["units"],
                         "fitted": sums["listed"] / sums["units"]})[columns]
