"""Scale scenarios: the baseline business grown to N SKUs, M markets and a chosen volume.

The issue's scale figures (10 M orders a year, 10,000 SKUs x 3 markets) need scenarios anyone
can rebuild. ``scale_scenario`` derives one from ``scenarios/baseline.yaml``:

* SKUs: the baseline's 40 SKUs first, as they are, then copies of them in turn
  (``APP_TEE_BASIC_00040`` is the tee's 2nd copy), perturbed deterministically from
  ``seed``: unit cost and every price by one lognormal factor (sigma 0.15, so each copy
  keeps its template's margin), weight and volume by another (sigma 0.15), popularity by a
  third (sigma 0.5, keeping the ABC-like spread); a copy has no reference price (it is its
  price), so no copy starts over- or under-priced.
* Markets: the baseline's first M (US, DE, UK), M <= 3; whatever names a dropped market or
  trades in its currency only (its warehouse, last-mile mode, lanes, overheads, ad shares,
  rules) is dropped with it.
* Reviews: each listing opens with the base's reviews in proportion to its sales.
* Volume: organic sessions, paid channels' maximum sessions and their spend are scaled by
  one factor so that the expected demand day by day (``sim.demand.expected_units_by_day``:
  seasonality, peaks, promotions) gives ``orders_per_year``; the capacities that would
  starve that flow (suppliers, parcel carriers, air departures, warehouse m3, packing lines)
  scale with it. The rating, returning buyers, stock-outs and the ranking move the simulated
  count off it: by a few per cent for listings selling hundreds of orders a year, more for
  thinner ones (``tests/test_generate.py``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from experiments.errors import ExperimentError
from sim.demand import expected_units_by_day
from sim.loader import resolve_document, validate
from sim.scenario import BASE_CURRENCY, MAX_SKUS

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
MAX_ORDERS_PER_YEAR = 1.5e7
"""Below the run-size budget of ``sim.limits`` (2e7 orders at the busiest rating)."""
PRICE_SIGMA = 0.15
SIZE_SIGMA = 0.15
POPULARITY_SIGMA = 0.5


def scale_scenario(skus: int, markets: int = 3, orders_per_year: float | None = None,
                   seed: int = 0, base: Path = BASELINE) -> dict[str, Any]:
    """The scenario document of the ``base`` business with ``skus`` SKUs and its first
    ``markets`` markets, demand scaled to ``orders_per_year`` (None keeps the base's
    sessions); the same arguments give the same document."""
    doc = resolve_document(base)
    _check(skus, markets, orders_per_year, len(doc["markets"]))
    kept = list(doc["markets"])[:markets]
    _keep_markets(doc, kept)
    doc["skus"], renamed = _replicated_skus(doc["skus"], kept, skus, seed)
    _keep_skus(doc, renamed)
    doc["name"] = f"scale_{skus}skus_{markets}markets"
    doc["description"] = (f"{base.name} grown to {skus} SKUs x {markets} markets (seed {seed})"
                          + (f", ~{orders_per_year:,.0f} orders a year" if orders_per_year
                             else ""))
    expected = expected_orders_per_year(doc)
    if orders_per_year is not None:
        _scale_volume(doc, orders_per_year / expected)
    _scale_reviews(doc, (orders_per_year or expected) / (skus * markets), base)
    return doc


def expected_orders_per_year(doc: dict[str, Any]) -> float:
    """Orders a year of scenario document ``doc`` at its expected demand day by day
    (seasonality, peaks, promotions; ``sim.demand.expected_units_by_day``)."""
    sc = validate(copy.deepcopy(doc))
    units = float(expected_units_by_day(sc).sum())
    return units / (1.0 + sc.conversion.extra_units_per_order_mean) * 365 / sc.horizon.days


def _check(skus: int, markets: int, orders_per_year: float | None, base_markets: int) -> None:
    if not 1 <= skus <= MAX_SKUS:
        raise ExperimentError(f"--skus must be 1 to {MAX_SKUS} (got {skus})")
    if not 1 <= markets <= base_markets:
        raise ExperimentError(f"--markets must be 1 to {base_markets}, the baseline's markets "
                              f"(got {markets})")
    if orders_per_year is not None and not 1 <= orders_per_year <= MAX_ORDERS_PER_YEAR:
        raise ExperimentError(f"--orders-per-year must be 1 to {MAX_ORDERS_PER_YEAR:g} "
                              f"(got {orders_per_year:g})")


def _replicated_skus(base: dict[str, Any], markets: list[str], n: int, seed: int
                     ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """``n`` SKUs cycling through ``base``'s, perturbed; and each base name's copies."""
    names = list(base)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    price, size, popularity = (np.concatenate([np.ones(len(names)), rng.lognormal(
        0.0, sigma, max(n - len(names), 0))]) for sigma in (PRICE_SIGMA, SIZE_SIGMA,
                                                             POPULARITY_SIGMA))
    out: dict[str, Any] = {}
    renamed: dict[str, list[str]] = {name: [] for name in names}
    for i in range(n):
        template = names[i % len(names)]
        spec = copy.deepcopy(base[template])
        spec.pop("reference_price", None)
        prices = {m: round(float(spec["price"][m] * price[i]), 2) for m in markets}
        spec.update(
            unit_cost_cny=round(float(spec["unit_cost_cny"] * price[i]), 2), price=prices,
            weight_kg=round(float(spec["weight_kg"] * size[i]), 4),
            volume_m3=round(float(spec["volume_m3"] * size[i]), 6),
            popularity=round(float(spec["popularity"] * popularity[i]), 4))
        name = template if i < len(names) else f"{template}_{i:05d}"
        out[name] = spec
        renamed[template].append(name)
    return out, renamed


def _keep_skus(doc: dict[str, Any], renamed: dict[str, list[str]]) -> None:
    """Rules naming a base SKU name its copies; entries naming only categories no SKU is
    in go (a small catalogue may lack some)."""
    categories = {spec["category"] for spec in doc["skus"].values()}
    rules = []
    for rule in doc["policies"]["replenishment"]:
        if rule.get("skus"):
            rule["skus"] = [name for base in rule["skus"] for name in renamed[base]]
        if rule.get("categories"):
            rule["categories"] = [c for c in rule["categories"] if c in categories]
        if all(rule.get(field) is None or rule[field] for field in ("skus", "categories")):
            rules.append(rule)
    doc["policies"]["replenishment"] = rules
    rebate = doc["finance"].get("export_rebate")
    if rebate is not None:
        rebate["rate_by_category"] = {c: r for c, r in rebate["rate_by_category"].items()
                                      if c in categories}
    pricing = doc.get("pricing", {})
    for kind in ("changes", "promotions"):
        entries = []
        for entry in pricing.get(kind, []):
            if entry.get("categories"):
                entry["categories"] = [c for c in entry["categories"] if c in categories]
                if not entry["categories"] and not entry.get("skus"):
                    continue
            entries.append(entry)
        pricing[kind] = entries


def _keep_markets(doc: dict[str, Any], kept: list[str]) -> None:
    """Drop the markets not ``kept`` and everything that names them or trades only in
    their currencies."""
    doc["markets"] = {m: doc["markets"][m] for m in kept}
    currencies = {doc["markets"][m]["currency"] for m in kept} | {BASE_CURRENCY}

    def traded(spec: dict[str, Any]) -> bool:
        return spec.get("currency", BASE_CURRENCY) in currencies

    doc["warehouses"] = {w: s for w, s in doc["warehouses"].items()
                         if traded(s) and s.get("market", kept[0]) in kept}
    doc["modes"] = {k: s for k, s in doc["modes"].items() if traded(s)}
    places = set(doc["warehouses"]) | set(kept)
    lanes = {}
    for name, lane in doc["lanes"].items():
        lane["modes"] = [k for k in lane["modes"] if k in doc["modes"]]
        if lane["origin"] in places and lane["destination"] in places and lane["modes"]:
            lanes[name] = lane
    doc["lanes"] = lanes
    channels = {}
    for name, channel in doc["ad_channels"].items():
        shares = {m: s for m, s in channel["market_shares"].items() if m in kept}
        if traded(channel) and sum(shares.values()) > 0:
            total = sum(shares.values())
            channel["market_shares"] = {m: s / total for m, s in shares.items()}
            channels[name] = channel
    doc["ad_channels"] = channels
    _drop_references(doc, kept, set(doc["warehouses"]), set(doc["modes"]), set(channels))
    doc["finance"]["overheads"] = [o for o in doc["finance"].get("overheads", []) if traded(o)]


def _drop_references(doc: dict[str, Any], kept: list[str], warehouses: set[str],
                     modes: set[str], channels: set[str]) -> None:
    """Entries naming a dropped market, warehouse, mode or channel go with it."""
    events = []
    for event in doc["calendar"].get("peak_events", []):
        if event.get("markets") is not None:
            event["markets"] = [m for m in event["markets"] if m in kept]
            if not event["markets"]:
                continue
        events.append(event)
    doc["calendar"]["peak_events"] = events
    policies = doc["policies"]
    policies["fulfilment"] = {m: f for m, f in policies["fulfilment"].items() if m in kept}
    policies["replenishment"] = [r for r in policies["replenishment"]
                                 if r["warehouse"] in warehouses and r.get("mode", None)
                                 in modes | {None}]
    policies["ad_spend"] = {c: s for c, s in policies.get("ad_spend", {}).items()
                            if c in channels}
    ageing = doc.get("ageing", {})
    ageing["surcharges"] = {w: s for w, s in ageing.get("surcharges", {}).items()
                            if w in warehouses}
    exceptions = doc.get("exceptions", {})
    exceptions["lost_parcels_by_market"] = {
        m: a for m, a in exceptions.get("lost_parcels_by_market", {}).items() if m in kept}
    exceptions["undeliverable"] = {k: u for k, u in exceptions.get("undeliverable", {}).items()
                                   if k in modes}
    peak = doc.get("planning", {}).get("peak")
    if peak is not None:
        for field in ("commit_modes", "expedite_modes"):
            peak[field] = [k for k in peak.get(field, []) if k in modes]


def _scale_reviews(doc: dict[str, Any], orders_per_listing: float, base: Path) -> None:
    """Opening reviews in proportion to each listing's sales against the base's: reviews
    lift organic traffic by their growth over the opening count (``sim.ranking``), so a
    listing selling 100x the base's starts with 100x its reviews and grows them at its
    pace, and the asked volume is not overshot by review growth alone."""
    ranking = doc.get("ranking")
    if ranking is None or "initial_reviews" not in ranking:
        return
    base_doc = resolve_document(base)
    listings = len(base_doc["skus"]) * len(base_doc["markets"])
    ratio = orders_per_listing / (expected_orders_per_year(base_doc) / listings)
    ranking["initial_reviews"] = round(ranking["initial_reviews"] * ratio)


def _scale_volume(doc: dict[str, Any], factor: float) -> None:
    """Sessions, paid reach and spend x ``factor`` (paid sessions scale with it exactly:
    the Hill curve's half-saturation spend is cost per click x max sessions), and the
    capacities that would starve the flow."""
    for market in doc["markets"].values():
        market["organic_sessions_per_day"] *= factor
    for channel in doc["ad_channels"].values():
        channel["max_sessions_per_day"] *= factor
    for spend in doc["policies"].get("ad_spend", {}).values():
        spend["spend_per_day"] *= factor
        spend["weekly_spend_per_day"] = {week: value * factor for week, value
                                         in spend.get("weekly_spend_per_day", {}).items()}
    for supplier in doc["suppliers"].values():
        if supplier.get("capacity_units_per_day"):
            supplier["capacity_units_per_day"] *= factor
    for mode in doc["modes"].values():
        for field in ("capacity_units_per_day", "capacity_per_departure_m3"):
            if mode.get(field) is not None:
                mode[field] *= factor
    for warehouse in doc["warehouses"].values():
        if warehouse.get("capacity_m3") is not None:
            warehouse["capacity_m3"] *= factor
        if warehouse.get("picking") is not None:
            warehouse["picking"]["units_per_day"] *= factor
