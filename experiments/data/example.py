"""The worked example shipped in ``scenarios/example_seller``: a year of a seller's history
drawn from known parameters, so that calibration can be tried, and checked, on it.

    python -m experiments.data.example --out scenarios/example_seller

300 SKUs sold in the US, Germany and the UK in 2025, named as in ``scenarios/baseline.yaml``
(markets, currencies, suppliers, warehouses, ad channels), written as compressed canonical
CSVs with ``truth.json`` (the parameters drawn from) and a README describing both.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from experiments.data.synthetic import Truth, example_truth, generate, truth_to_json, write_csv
from experiments.data.tables import TABLES

SKUS = 300
MARKETS = ("US", "DE", "UK")
START = date(2025, 1, 1)
DAYS = 365
SEED = 2025


def write_example(out: Path, seed: int = SEED) -> list[Path]:
    """Generate the example history and write it, its truth and its README into ``out``."""
    truth = example_truth(SKUS, MARKETS, years=DAYS / 365, seed=seed, start=START)
    tables = generate(truth, START, DAYS, seed)
    paths = write_csv(tables, out, compress=True)
    for name, text in (("truth.json", truth_to_json(truth)),
                       ("README.md", readme(truth, tables, seed))):
        (out / name).write_text(text)
        paths.append(out / name)
    return paths


def csv_text(path: Path) -> bytes:
    """A written file's content, decompressed if it is gzipped."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def readme(truth: Truth, tables: dict[str, pd.DataFrame], seed: int) -> str:
    """What the folder holds and the true parameters behind it, in Markdown."""
    parts = [_intro(truth, tables, seed), _files(tables), _parameters(truth)]
    return "\n\n".join(parts) + "\n"


def _intro(truth: Truth, tables: dict[str, pd.DataFrame], seed: int) -> str:
    orders = tables["orders"]
    po_days = ", ".join(sorted({str(s.po_every_days) for s in truth.suppliers}))
    lane_days = ", ".join(sorted({str(lane.departs_every_days) for lane in truth.lanes}))
    low, high = truth.return_days
    return f"""# Example seller: a year of history with known parameters

A China-based cross-border seller of {SKUS} SKUs (apparel, home, electronics, beauty) in the
US, Germany and the UK, {START.isoformat()} to {orders["order_date"].max():%Y-%m-%d}:
{len(orders):,} order lines. The history was drawn by `experiments.data.synthetic` (a
generator independent of the simulator) from the parameters below, also in `truth.json`,
so a calibration fitted to these files can be checked against the truth. Names match
`scenarios/baseline.yaml` (markets, currencies, suppliers, warehouses `SZ`, `US_WH`,
`EU_WH`, ad channels), so a fitted scenario can extend it.

Regenerate (same seed, same bytes):

    python -m experiments.data.example --out scenarios/example_seller --seed {seed}

How it was drawn: organic orders a day = level x seasonality of the month x running peak
multipliers x Gamma noise (negative-binomial counts); each ad channel's paid sessions a day
= S a^n / (a^n + K^n) with adstock a_t = (1 - r) spend_t + r a_(t-1), split by market shares
and scaled by the same season; paid orders = sessions x the channel's conversion. Orders
go to SKUs by popularity; each order is one line of 1 + Poisson units. Some SKU-market-weeks
are out of stock: their demand is lost and not in `orders` (censored). Each supplier gets a
PO every {po_days} days (one lognormal lead time per PO, order to receipt); each bulk lane
departs every {lane_days} days (one gamma transit time per departure). Lines are returned
whole, with their category's probability, {low}-{high} days after delivery. Nothing after
the last day is shown: receipts, arrivals, deliveries and returns still to come are empty
or absent."""


_NOTES = {
    "orders": "one line per order; `promotion_discount` is the line's discount "
              "(list price - unit_price) x quantity; ~1 % cancelled (no ship or delivery date)",
    "ad_spend": "channel spend split by market share (USD); `sessions` the paid sessions",
    "purchase_orders": "`received_date` empty while the PO is still open",
    "shipments": "`lane` as ORIGIN>DESTINATION; `arrival_date` empty while at sea or on rail",
    "returns": "whole lines; return opened on `return_date`",
    "skus": "`price_<MARKET>` list prices, VAT included",
}


def _files(tables: dict[str, pd.DataFrame]) -> str:
    rows = ["| file | rows | holds |", "|---|---:|---|"]
    for name, frame in tables.items():
        note = _NOTES.get(name, "")
        holds = TABLES[name].description + (f" ({note})" if note else "")
        rows.append(f"| `{name}.csv.gz` | {len(frame):,} | {holds} |")
    rows.append("| `truth.json` | | the parameters the history was drawn from "
                "(`experiments.data.synthetic.truth_from_json` reads it) |")
    return "## Files\n\nCanonical tables (`experiments.data.tables`), gzipped CSV, dates " \
           "as YYYY-MM-DD.\n\n" + "\n".join(rows)


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _parameters(truth: Truth) -> str:
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    popularity = sorted(truth.skus, key=lambda s: -s.popularity)[:10]
    total = sum(s.popularity for s in truth.skus)
    sections = [
        ("Markets", _table(
            ["market", "currency", "organic orders/day", "organic conversion", "fulfilment",
             "delivery days"],
            [[m.name, m.currency, m.organic_orders_per_day, m.conversion_rate, m.fulfilment,
              f"{m.delivery_days[0]}-{m.delivery_days[1]}"] for m in truth.markets])),
        ("Seasonality by month (mean 1)", _table(
            months, [[f"{x:.4f}" for x in truth.seasonality_by_month]])),
        ("Peak events", _table(
            ["event", "start", "days", "multiplier", "markets"],
            [[e.name, e.start.isoformat(), e.days, e.multiplier, ", ".join(e.markets)]
             for e in truth.peak_events])),
        ("Ad channels (USD a day)", _table(
            ["channel", "K", "S sessions/day", "n", "r", "conversion", "mean spend",
             "market shares"],
            [[c.name, c.half_saturation_per_day, c.max_sessions_per_day, c.hill_exponent,
              c.carryover, c.conversion_rate, c.spend_per_day,
              ", ".join(f"{m} {v}" for m, v in c.market_shares.items())]
             for c in truth.ad_channels])),
        ("Supplier lead times (order to receipt, lognormal)", _table(
            ["supplier", "mean days", "cv", "PO every days"],
            [[s.name, s.lead_time_mean_days, s.lead_time_cv, s.po_every_days]
             for s in truth.suppliers])),
        ("Lane transit (ship to arrival, gamma)", _table(
            ["lane", "mode", "mean days", "cv"],
            [[lane.name, lane.mode, lane.transit_mean_days, lane.transit_cv]
             for lane in truth.lanes])),
        ("Return probability per category (per line)", _table(
            ["category", "probability"], [[k, v] for k, v in truth.return_probability.items()])),
        ("Most popular SKUs (share of units; all in truth.json)", _table(
            ["sku", "category", "share"],
            [[s.sku, s.category, f"{s.popularity / total:.4f}"] for s in popularity])),
        ("Other", _table(["parameter", "value"], [
            ["units per line", f"1 + Poisson({truth.extra_units_mean})"],
            ["cancelled orders", truth.cancel_probability],
            ["SKU-market-weeks on promotion", truth.promotion_probability],
            ["promotion discounts", ", ".join(str(d) for d in truth.promotion_discounts)],
            ["SKU-market-weeks out of stock (censored)", truth.stockout_share],
            ["return after delivery, days", f"{truth.return_days[0]}-{truth.return_days[1]}"],
        ])),
    ]
    return "## True parameters\n\n" + "\n\n".join(f"### {title}\n\n{body}"
                                                  for title, body in sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("scenarios/example_seller"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    paths = write_example(args.out, args.seed)
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
