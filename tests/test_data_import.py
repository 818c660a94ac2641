"""``xbsim import``: each export format maps to the canonical values a hand reading of the
file gives (local dates, prices, markets), and every problem names its file, row and column.

Each test writes its files from small frames, in the export's own layout.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli.data_import import add_arguments, import_command
from experiments.data.formats.amazon_orders import COLUMNS as AMAZON_COLUMNS
from experiments.data.imports import import_sources
from experiments.data.tables import read_tables
from sim.loader import load_scenario

TINY = Path(__file__).parent / "data" / "tiny.yaml"
DAY = pd.Timestamp


def run(out: Path, *argv: str | Path) -> tuple[int, str, str]:
    """Run ``xbsim import ARGV --out OUT``: (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(a) for a in argv] + ["--out", str(out)])
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = import_command(args)
    return code, stdout.getvalue(), stderr.getvalue()


def problems(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "import_problems.csv", dtype={"row": "Int64"})


def summary(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "import_summary.csv")


def canonical_orders(path: Path, rows: list[list[object]]) -> Path:
    columns = ["order_id", "order_date", "market", "sku", "quantity", "unit_price", "currency",
               "fulfilment", "ship_date", "delivery_date", "promotion_discount", "status"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def order(order_id: str, date: str, sku: str = "TEE", market: str = "US", quantity: object = 1,
          status: str = "shipped", currency: str = "USD") -> list[object]:
    return [order_id, date, market, sku, quantity, 19.99, currency, "US_WH", "", "", 0, status]


def amazon_report(path: Path, rows: list[dict[str, object]],
                  drop: tuple[str, ...] = ()) -> Path:
    """An All Orders report: every documented column, tab-separated."""
    frame = pd.DataFrame([{c: row.get(c, "") for c in AMAZON_COLUMNS} for row in rows])
    frame.drop(columns=list(drop)).to_csv(path, sep="\t", index=False)
    return path


def amazon_line(order_id: str, **cells: object) -> dict[str, object]:
    line: dict[str, object] = {
        "amazon-order-id": order_id, "purchase-date": "2026-01-10T18:00:00+00:00",
        "last-updated-date": "2026-01-11T02:00:00+00:00", "order-status": "Shipped",
        "fulfillment-channel": "Amazon", "sales-channel": "Amazon.com", "order-channel": "",
        "ship-service-level": "Standard", "product-name": "T-shirt", "sku": "TEE",
        "asin": "B000TEE001", "item-status": "Shipped", "quantity": 1, "currency": "USD",
        "item-price": "19.99", "item-tax": "1.60", "shipping-price": "0.00",
        "shipping-tax": "0.00", "gift-wrap-price": "0.00", "gift-wrap-tax": "0.00",
        "item-promotion-discount": "0.00", "ship-promotion-discount": "0.00",
        "ship-city": "Seattle", "ship-state": "WA", "ship-postal-code": "98101",
        "ship-country": "US", "promotion-ids": "", "is-business-order": "false",
        "purchase-order-number": "", "price-designation": ""}
    line.update(cells)
    return line


SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
    "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
    "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Id,Tags,Risk Level,"
    "Source,Lineitem discount").split(",")


def shopify_export(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame([{c: row.get(c, "") for c in SHOPIFY_HEADER} for row in rows]).to_csv(
        path, index=False)
    return path


AD_HEADER = ["Date", "Portfolio name", "Currency", "Campaign Name", "Ad Group Name",
             "Advertised SKU", "Advertised ASIN", "Impressions", "Click-Thru Rate (CTR)",
             "Clicks", "Cost Per Click (CPC)", "Spend", "7 Day Total Sales",
             "Total Advertising Cost of Sales (ACOS)", "7 Day Total Orders (#)"]


def ad_report(path: Path, rows: list[list[object]]) -> Path:
    frame = pd.DataFrame(rows, columns=["Date", "Currency", "Campaign Name", "Clicks", "Spend",
                                        "7 Day Total Sales"])
    for column in AD_HEADER:
        if column not in frame.columns:
            frame[column] = "x" if "Name" in column or "ASIN" in column else 1
    frame[AD_HEADER].to_csv(path, index=False)
    return path


# --- each format reads and maps to the right canonical values ---------------------------

def test_canonical_csv_maps_every_column_and_converts_offset_timestamps(tmp_path):
    source = canonical_orders(tmp_path / "my orders.csv", [
        ["O1", "2026-01-05", "US", "TEE", 2, 19.99, "USD", "US_WH", "2026-01-06", "2026-01-09",
         1.5, "Shipped"],
        ["O2", "2026-01-07T06:00:00+00:00", "DE", "LAMP", 1, 37.99, "EUR", "direct", "", "",
         0, "cancelled"],
        ["O3", "2026-01-07T06:00:00+00:00", "US", "CABLE", 3, 9.99, "USD", "US_WH", "", "", 0,
         "shipped"]])
    out = tmp_path / "out"
    code, _, _ = run(out, source, "--scenario", TINY)
    assert code == 0
    orders = read_tables(out)["orders"]
    assert orders["order_id"].tolist() == ["O1", "O2", "O3"]
    # 06:00 UTC is 07:00 in Berlin (same day) and 22:00 the day before in Los Angeles
    assert orders["order_date"].tolist() == [DAY("2026-01-05"), DAY("2026-01-07"),
                                             DAY("2026-01-06")]
    assert orders["quantity"].tolist() == [2, 1, 3]
    assert orders["unit_price"].tolist() == [19.99, 37.99, 9.99]
    assert orders["status"].tolist() == ["shipped", "cancelled", "shipped"]
    assert orders["ship_date"].iloc[0] == DAY("2026-01-06")
    assert orders["promotion_discount"].tolist() == [1.5, 0.0, 0.0]
    row = summary(out).iloc[0]
    assert (row["format"], row["table"], row["rows_read"], row["rows_used"],
            row["rows_rejected"]) == ("canonical", "orders", 3, 3, 0)


def test_a_markets_table_sets_the_time_zone_of_its_market(tmp_path):
    markets = tmp_path / "markets.csv"
    pd.DataFrame({"market": ["US"], "currency": ["USD"], "fx_to_cny": [7.1], "vat_rate": [0],
                  "duty_rate": [0.1], "timezone": ["America/New_York"]}).to_csv(markets,
                                                                               index=False)
    source = canonical_orders(tmp_path / "orders.csv",
                              [order("O1", "2026-01-07T06:00:00+00:00")])
    out = tmp_path / "out"
    assert run(out, source, markets)[0] == 0
    tables = read_tables(out)
    assert tables["orders"]["order_date"].tolist() == [DAY("2026-01-07")]  # 01:00 in New York
    assert tables["markets"]["timezone"].tolist() == ["America/New_York"]


def test_canonical_workbook_reads_one_sheet_per_table_and_checks_skus_against_its_skus(
        tmp_path):
    book = tmp_path / "template filled.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"About": ["fill in one sheet per table"]}).to_excel(
            writer, sheet_name="README", index=False)
        pd.DataFrame({"sku": ["TEE", "CABLE"], "category": ["apparel", "electronics"],
                      "supplier": ["ACME", "ACME"], "unit_cost_cny": [25, 8],
                      "weight_kg": [0.25, 0.08], "volume_m3": [0.002, 0.0005],
                      "price_US": [19.99, 9.99]}).to_excel(writer, sheet_name="skus", index=False)
        pd.DataFrame({"order_id": ["W1", "W2"],
                      "order_date": [pd.Timestamp("2026-02-01"), pd.Timestamp("2026-02-02")],
                      "market": ["US", "US"], "sku": ["TEE", "LAMP"], "quantity": [4, 1],
                      "unit_price": [18.5, 39.99], "currency": ["USD", "USD"],
                      "fulfilment": ["direct", "direct"], "status": ["shipped", "shipped"]}
                     ).to_excel(writer, sheet_name="orders", index=False)
    out = tmp_path / "out"
    code, printed, _ = run(out, book)
    assert code == 0
    tables = read_tables(out)
    assert tables["skus"]["sku"].tolist() == ["TEE", "CABLE"]
    assert tables["skus"]["price_US"].tolist() == [19.99, 9.99]
    orders = tables["orders"]
    assert orders[["order_id", "order_date", "quantity", "unit_price"]].values.tolist() == [
        ["W1", DAY("2026-02-01"), 4, 18.5]]
    found = problems(out)
    unknown = found[found["problem"].str.startswith("unknown SKU 'LAMP'")]
    assert unknown[["file", "row", "column"]].values.tolist() == [
        [f"{book}[orders]", 2, "sku"]]
    assert "README" not in printed  # the template's guide is not data


def test_amazon_all_orders_report_maps_market_local_date_price_and_fulfilment(tmp_path):
    source = amazon_report(tmp_path / "report-1234.txt", [
        # 05:00 UTC on the 10th is 21:00 on the 9th in Los Angeles
        amazon_line("111-0000001-0000001", **{"purchase-date": "2026-01-10T05:00:00+00:00",
                    "quantity": 2, "item-price": "39.98",
                    "item-promotion-discount": "-4.00"}),
        # 23:30 UTC on the 9th is 00:30 on the 10th in Berlin
        amazon_line("302-0000002-0000002", **{"purchase-date": "2026-01-09T23:30:00+00:00",
                    "sales-channel": "Amazon.de", "ship-country": "DE", "currency": "EUR",
                    "sku": "LAMP", "item-price": "37.99", "fulfillment-channel": "Merchant"}),
        amazon_line("111-0000003-0000003", **{"order-status": "Cancelled",
                    "item-status": "Cancelled", "quantity": 0, "item-price": ""}),
    ])
    out = tmp_path / "out"
    code, printed, _ = run(out, source, "--scenario", TINY)
    assert code == 0
    orders = read_tables(out)["orders"]
    assert orders["market"].tolist() == ["US", "DE", "US"]
    assert orders["order_date"].tolist()[:2] == [DAY("2026-01-09"), DAY("2026-01-10")]
    assert orders["unit_price"].tolist()[:2] == [pytest.approx(17.99), 37.99]
    assert orders["promotion_discount"].tolist()[:2] == [4.0, 0.0]
    assert orders["currency"].tolist()[:2] == ["USD", "EUR"]
    assert orders["fulfilment"].tolist()[:2] == ["US_WH", "direct"]  # tiny's US warehouse
    assert orders["status"].tolist() == ["shipped", "shipped", "cancelled"]
    row = summary(out).iloc[0]
    assert (row["format"], row["rows_used"]) == ("amazon_orders", 3)
    assert "(1 cancelled)" in printed


def test_amazon_without_a_scenario_ships_fba_from_afn_and_reads_uk(tmp_path):
    source = amazon_report(tmp_path / "orders.tsv", [
        amazon_line("203-1", **{"sales-channel": "Amazon.co.uk", "ship-country": "GB",
                    "currency": "GBP", "purchase-date": "2026-07-01T23:30:00+00:00",
                    "item-status": ""}),
        amazon_line("999-2", **{"sales-channel": "Non-Amazon", "ship-country": "GB",
                    "currency": "GBP", "item-status": ""})])
    out = tmp_path / "out"
    assert run(out, source)[0] == 0
    orders = read_tables(out)["orders"]
    assert orders["market"].tolist() == ["UK", "UK"]
    assert orders["fulfilment"].tolist() == ["AFN", "AFN"]
    assert orders["order_date"].iloc[0] == DAY("2026-07-02")  # 00:30 in London (summer time)


def test_shopify_export_carries_order_fields_to_every_line_item(tmp_path):
    source = shopify_export(tmp_path / "orders_export_1.csv", [
        {"Name": "#1001", "Financial Status": "paid", "Currency": "USD",
         "Created at": "2026-01-10 01:30:00 -0500", "Lineitem quantity": 2,
         "Lineitem name": "T-shirt", "Lineitem price": "19.99", "Lineitem sku": "TEE",
         "Shipping Country": "US", "Lineitem discount": "4.00"},
        {"Name": "#1001", "Lineitem quantity": 1, "Lineitem name": "Cable",
         "Lineitem price": "9.99", "Lineitem sku": "CABLE"},
        {"Name": "#1002", "Financial Status": "voided", "Currency": "EUR",
         "Created at": "2026-01-10 23:30:00 +0100", "Lineitem quantity": 1,
         "Lineitem price": "37.99", "Lineitem sku": "LAMP", "Shipping Country": "DE",
         "Cancelled at": "2026-01-11 09:00:00 +0100"},
    ])
    out = tmp_path / "out"
    assert run(out, source, "--scenario", TINY)[0] == 0
    orders = read_tables(out)["orders"]
    assert orders["order_id"].tolist() == ["#1001", "#1001", "#1002"]
    assert orders["sku"].tolist() == ["TEE", "CABLE", "LAMP"]
    assert orders["market"].tolist() == ["US", "US", "DE"]
    # 01:30 at -05:00 is 06:30 UTC, 22:30 the day before in Los Angeles
    assert orders["order_date"].tolist() == [DAY("2026-01-09"), DAY("2026-01-09"),
                                             DAY("2026-01-10")]
    assert orders["unit_price"].tolist() == [pytest.approx(17.99), 9.99, 37.99]
    assert orders["currency"].tolist() == ["USD", "USD", "EUR"]
    assert orders["status"].tolist() == ["shipped", "shipped", "cancelled"]
    assert summary(out).iloc[0]["format"] == "shopify_orders"


def test_ad_report_sums_campaigns_per_day_and_market_under_the_named_channel(tmp_path):
    source = ad_report(tmp_path / "Sponsored_Products_Advertised_product_report.csv", [
        ["Jan 10, 2026", "USD", "TEE - auto", 30, "$12.50", "80.00"],
        ["Jan 10, 2026", "USD", "CABLE - exact", 10, "4.50", "20.00"],
        ["2026-01-10", "EUR", "DE | LAMP manual", 7, "3,20", "0"],
        ["2026-01-11", "EUR", "LAMP manual", 5, "2.00", "0"],  # which euro market?
    ])
    out = tmp_path / "out"
    code, _, _ = run(out, source, "--ad-channel", "ppc")
    assert code == 0
    spend = read_tables(out)["ad_spend"].sort_values("market").reset_index(drop=True)
    assert spend[["date", "channel", "market", "currency"]].values.tolist() == [
        [DAY("2026-01-10"), "ppc", "DE", "EUR"], [DAY("2026-01-10"), "ppc", "US", "USD"]]
    assert spend["spend"].tolist() == [3.2, 17.0]
    assert spend["clicks"].tolist() == [7, 40]
    assert spend["sessions"].tolist() == [7, 40]
    assert spend["attributed_sales"].tolist() == [0.0, 100.0]
    row = summary(out).iloc[0]
    assert (row["format"], row["table"], row["rows_read"], row["rows_used"],
            row["rows_rejected"]) == ("ad_report", "ad_spend", 4, 3, 1)
    found = problems(out)
    assert found[["row", "column"]].values.tolist() == [[4, "Campaign Name"]]


def test_ad_report_currency_of_a_single_scenario_market_tells_the_market(tmp_path):
    source = ad_report(tmp_path / "ads.csv", [["2026-01-11", "EUR", "LAMP manual", 5, "2", "0"]])
    out = tmp_path / "out"
    assert run(out, source, "--scenario", TINY)[0] == 0
    assert read_tables(out)["ad_spend"]["market"].tolist() == ["DE"]  # tiny's only EUR market


def test_ad_channel_defaults_to_marketplace_ppc_and_a_channel_unknown_to_the_scenario_is_said(
        tmp_path):
    source = ad_report(tmp_path / "ads.csv", [["2026-01-10", "USD", "US auto", 3, "1", "0"]])
    out = tmp_path / "out"
    assert run(out, source, "--scenario", TINY)[0] == 0
    assert read_tables(out)["ad_spend"]["channel"].tolist() == ["marketplace_ppc"]
    assert problems(out)["problem"].str.contains("ad channel not in the scenario").any()


# --- each problem names its file, row and column, or its reason -------------------------

def test_a_missing_column_is_reported_and_rejects_the_file(tmp_path):
    source = amazon_report(tmp_path / "orders.txt", [amazon_line("1")], drop=("currency",))
    out = tmp_path / "out"
    code, _, err = run(out, source)
    assert code == 2
    assert err.startswith("error: nothing usable imported") and "\n" not in err.strip()
    found = problems(out)
    assert found[["file", "column"]].values.tolist() == [[str(source), "currency"]]
    assert found["problem"].iloc[0].startswith("missing required column")
    assert summary(out)[["rows_read", "rows_used", "rows_rejected"]].values.tolist() == [
        [1, 0, 1]]


@pytest.mark.parametrize("write, column", [
    (lambda path: canonical_orders(path, [order("O1", "2026-01-05")]), "currency"),
    (lambda path: amazon_report(path, [amazon_line("1")]), "item-price"),
    (lambda path: shopify_export(path, [{"Name": "#1", "Currency": "USD",
                                         "Created at": "2026-01-05 10:00:00 +0000",
                                         "Lineitem quantity": 1, "Lineitem price": "5",
                                         "Lineitem sku": "TEE", "Shipping Country": "US"}]),
     "Lineitem sku"),
    (lambda path: ad_report(path, [["2026-01-10", "USD", "auto", 3, "1", "0"]]), "Spend"),
])
def test_each_format_names_its_missing_column(tmp_path, write, column):
    source = write(tmp_path / "export.csv")
    frame = pd.read_csv(source, sep=None, engine="python", dtype=str)
    frame.drop(columns=[column]).to_csv(source, index=False)
    out = tmp_path / "out"
    assert run(out, source)[0] == 2
    found = problems(out)
    assert found[["column", "problem"]].values.tolist() == [
        [column, "missing required column (file not used)"]]


def test_a_bad_date_is_rejected_on_its_row_counting_blank_rows(tmp_path):
    source = canonical_orders(tmp_path / "orders.csv", [
        order("O1", "2026-01-05"), order("O2", "2026-02-30"), order("O3", "2026-01-06")])
    text = source.read_text().splitlines()
    source.write_text("\n".join([text[0], text[1], "", *text[2:]]) + "\n")
    out = tmp_path / "out"
    code, printed, _ = run(out, source)
    assert code == 0
    found = problems(out)
    bad = found[found["problem"].str.startswith("bad date")]
    assert bad[["row", "column", "problem"]].values.tolist() == [
        [3, "order_date", "bad date '2026-02-30' (row rejected)"]]
    assert "2 used" in printed and "1 rejected: 1 bad date" in printed
    assert read_tables(out)["orders"]["order_id"].tolist() == ["O1", "O3"]


def test_an_unknown_sku_is_rejected_against_the_scenario(tmp_path):
    source = amazon_report(tmp_path / "orders.txt", [
        amazon_line("1"), amazon_line("2", sku="MUG")])
    out = tmp_path / "out"
    assert run(out, source, "--scenario", TINY)[0] == 0
    found = problems(out)
    assert found[["row", "column", "problem"]].values.tolist() == [
        [2, "sku", "unknown SKU 'MUG' (row rejected)"]]
    assert summary(out)["rows_rejected"].tolist() == [1]


def test_a_duplicated_order_line_is_rejected_after_its_first_sight_even_in_another_file(
        tmp_path):
    first = canonical_orders(tmp_path / "a.csv", [order("O1", "2026-01-05"),
                                                  order("O2", "2026-01-05")])
    second = canonical_orders(tmp_path / "b.csv", [order("O3", "2026-01-05"),
                                                   order("O1", "2026-01-05")])
    out = tmp_path / "out"
    assert run(out, first, second)[0] == 0
    found = problems(out)
    assert found[["file", "row", "problem"]].values.tolist() == [
        [str(second), 2, f"duplicate line: same order_id and sku as {first} row 1 "
                         "(row rejected)"]]
    assert summary(out)["rows_used"].tolist() == [2, 1]
    assert sorted(read_tables(out)["orders"]["order_id"]) == ["O1", "O2", "O3"]


def test_cancelled_orders_are_kept_and_counted(tmp_path):
    source = canonical_orders(tmp_path / "orders.csv", [
        order("O1", "2026-01-05"), order("O2", "2026-01-05", status="cancelled")])
    out = tmp_path / "out"
    code, printed, _ = run(out, source)
    assert code == 0
    assert read_tables(out)["orders"]["status"].tolist() == ["shipped", "cancelled"]
    assert "2 used (1 cancelled), 0 rejected" in printed
    found = problems(out)
    assert found["problem"].tolist() == ["cancelled orders (1 line kept with status cancelled)"]


def test_negative_quantities_and_gaps_and_mixed_currencies_are_reported(tmp_path):
    source = canonical_orders(tmp_path / "orders.csv", [
        order("O1", "2026-01-01"), order("O2", "2026-01-02", quantity=-2),
        order("O3", "2026-01-05", market="DE", currency="EUR"),
        order("O4", "2026-01-05", market="DE", currency="GBP")])
    out = tmp_path / "out"
    assert run(out, source)[0] == 0
    found = problems(out).set_index("problem")
    assert found.loc["negative quantity '-2' (row rejected)", "row"] == 2
    texts = found.index.tolist()
    assert "days without orders from 2026-01-02 to 2026-01-04 (3 days)" in texts
    assert any(t.startswith("mixed currencies in market DE: EUR 1 line") for t in texts)


def test_a_file_matching_no_format_is_reported_and_nothing_usable_exits_2(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("colour,size\nred,L\n")
    out = tmp_path / "out"
    code, printed, err = run(out, notes)
    assert code == 2
    assert "no file holds a known table or export" in err
    assert problems(out)["problem"].iloc[0].startswith("header matches no known format")
    assert "notes.csv: unknown file" in printed


def test_anything_usable_exits_0_beside_unusable_files(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("colour,size\nred,L\n")
    good = canonical_orders(tmp_path / "orders.csv", [order("O1", "2026-01-05")])
    assert run(tmp_path / "out", notes, tmp_path / "missing.csv", good)[0] == 0


def test_every_row_rejected_exits_2(tmp_path):
    source = canonical_orders(tmp_path / "orders.csv", [order("O1", "someday")])
    code, _, err = run(tmp_path / "out", source)
    assert code == 2 and "every row was rejected" in err


def test_printed_problems_stop_at_twenty_with_the_count_of_the_rest(tmp_path):
    source = canonical_orders(tmp_path / "orders.csv",
                              [order(f"O{i}", "2026-01-05", sku="MUG") for i in range(25)]
                              + [order("OK", "2026-01-05")])
    code, printed, _ = run(tmp_path / "out", source, "--scenario", TINY)
    assert code == 0
    assert printed.count("unknown SKU 'MUG'") == 20
    assert "... and 5 more in import_problems.csv" in printed


def test_a_new_import_leaves_no_table_of_an_earlier_one(tmp_path):
    out = tmp_path / "out"
    ads = ad_report(tmp_path / "ads.csv", [["2026-01-10", "USD", "auto", 3, "1", "0"]])
    orders = canonical_orders(tmp_path / "orders.csv", [order("O1", "2026-01-05")])
    assert run(out, ads, orders)[0] == 0
    assert run(out, orders)[0] == 0
    assert set(read_tables(out)) == {"orders"}
    unusable = canonical_orders(tmp_path / "bad.csv", [order("O1", "someday")])
    assert run(out, unusable)[0] == 2
    assert set(read_tables(out)) == {"orders"}  # a failed import keeps the last good one


def test_the_library_returns_the_tables_without_writing(tmp_path):
    source = canonical_orders(tmp_path / "orders.csv", [order("O1", "2026-01-05")])
    result = import_sources([source], load_scenario(TINY))
    assert result.usable and list(result.tables) == ["orders"]
    assert list(tmp_path.iterdir()) == [source]
