"""Pages a manager reads: each opens with its answer (a sentence and five to seven figures),
the P&L adds up, numbers print for people (no float noise, no exponent, rates in [0, 100 %],
differences of rates in points) and stock-outs name their SKUs and dates."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report import SECTIONS, make_results

from experiments.report.numbers import money, points, rate_interval
from experiments.report.pnl import statement
from experiments.report.skus import StockBySku, stockouts


class Headline(HTMLParser):
    """The headline block's sentence and its figures (label, value, comparison)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sentence = ""
        self.stats: list[dict[str, str]] = []
        self._field: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "p" and cls == "answer":
            self._field = "sentence"
        elif tag == "div" and cls.split()[:1] == ["stat"]:
            self.stats.append({})
        elif tag == "div" and cls in ("label", "value", "compare"):
            self._field = cls

    def handle_endtag(self, tag: str) -> None:
        self._field = None

    def handle_data(self, data: str) -> None:
        if self._field == "sentence":
            self.sentence += data
        elif self._field:
            self.stats[-1][self._field] = self.stats[-1].get(self._field, "") + data


class Tables(HTMLParser):
    """Every table: its title (the h3 before it), header and rows, with subtotal rows
    marked."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._title = ""
        self._in: str | None = None
        self._row: list[str] | None = None
        self._total = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h3":
            self._in, self._title = "h3", ""
        elif tag == "table":
            self.tables.append({"title": self._title, "headers": [], "rows": []})
            self._title = ""
        elif tag == "tr":
            self._row, self._total = [], dict(attrs).get("class") == "total"
        elif tag in ("td", "th"):
            self._in = "cell"
            assert self._row is not None
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if not table["headers"]:
                table["headers"] = self._row
            else:
                table["rows"].append((self._row, self._total))
            self._row = None
        elif tag in ("td", "th", "h3"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h3":
            self._title += data
        elif self._in == "cell" and self._row is not None:
            self._row[-1] += unescape(data)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    made = make_results(tmp_path_factory.mktemp("pages"))
    return {kind: directory for kind, (directory, _) in made.items()}


def text_of(directory: Path) -> str:
    """The page as a reader sees it: no images, style or script."""
    html = (directory / "report.html").read_text(encoding="utf-8")
    html = re.sub(r'src="data:image/png;base64,[^"]*"', "", html)
    return re.sub(r"<(style|script)>.*?</\1>", "", html, flags=re.S)


@pytest.mark.parametrize("kind", list(SECTIONS))
def test_every_page_opens_with_a_sentence_and_five_to_seven_figures(pages, kind):
    text = text_of(pages[kind])
    assert text.index('class="headline"') < text.index("<section")
    headline = Headline(text)
    assert len(headline.sentence.split()) >= 8 and headline.sentence.rstrip().endswith(".")
    assert 5 <= len(headline.stats) <= 7, headline.stats
    for stat in headline.stats:
        assert stat.get("label") and stat.get("value")
    assert sum(bool(s.get("compare")) for s in headline.stats) >= 4


def test_the_statement_adds_up_to_each_subtotal_exactly():
    pnl = {"sales": 1000.4, "vat": -100.4, "refund": -50.3, "cogs": 300.3, "write_off": 10.3,
           "commission": -100.3, "ads": -200.3, "liquidation": 5.3, "purchase": -999.0}
    lines = statement(pnl)
    assert [(line.label, line.value) for line in lines if line.total] == [
        ("Net revenue (ex VAT)", 900), ("Gross margin", 539), ("Contribution margin", 244),
        ("Operating profit", 244)]
    assert all(line.value <= 0 for line in lines[3:6] if not line.total)
    assert "Purchases from suppliers" not in [line.label for line in lines]


def test_the_run_pages_pnl_adds_up_to_contribution_and_operating_profit(pages):
    summary = json.loads((pages["run"] / "summary.json").read_text(encoding="utf-8"))
    tables = Tables(text_of(pages["run"])).tables
    statements = [t for t in tables if t["title"] in ("Profit and loss",
                                                       "Profit and loss by market [CNY]")]
    assert len(statements) == 2
    for table in statements:
        columns = len(table["headers"]) - (1 if table["headers"][-1] != "% of net revenue"
                                           else 2)
        for c in range(1, columns + 1):
            running = 0
            subtotals = []
            for row, total in table["rows"]:
                if not row[c].lstrip("-").replace(",", "").isdigit():
                    continue
                value = int(row[c].replace(",", ""))
                if total:
                    assert value == running, (table["title"], row)
                    subtotals.append(value)
                else:
                    running += value
            assert len(subtotals) == 4
    statement_table = next(t for t in tables if t["title"] == "Profit and loss")
    margin, operating = [row for row, total in statement_table["rows"] if total][-2:]
    assert margin[0] == "Contribution margin"
    assert int(margin[1].replace(",", "")) == round(summary["contribution_margin_cny"])
    assert operating[0] == "Operating profit"
    assert int(operating[1].replace(",", "")) == round(summary["operating_profit_cny"])


@pytest.mark.parametrize("kind", list(SECTIONS))
def test_no_number_carries_float_noise_or_an_exponent(pages, kind):
    text = re.sub(r"<[^>]+>", " ", text_of(pages[kind]))
    assert not re.search(r"\d\.\d*e[+-]?\d", text), kind
    assert not re.search(r"\d\.\d{5,}", text), re.search(r"\d\.\d{5,}", text)
    assert not re.search(r"(?<!per )units?\]?\s*\[CNY\]", text)
    for value in re.findall(r"(-?[\d,]+\.?\d*) CNY\b", text):
        assert "e" not in value


def test_differences_of_rates_are_in_points(pages):
    for kind in ("compare", "evaluation", "tune"):
        text = text_of(pages[kind])
        tables = Tables(text).tables
        rows = [row for t in tables for row, _ in t["rows"]
                if row and row[0].startswith("Fill rate")]
        assert rows, kind
        headline = Headline(text)
        fill = [s for s in headline.stats if s["label"].startswith("Fill rate")]
        assert fill and all("pts" in s.get("compare", "") for s in fill), kind
    compare = Tables(text_of(pages["compare"])).tables
    differences = next(t for t in compare if t["title"].startswith("Paired differences"))
    fill = [row for row, _ in differences["rows"] if row[0].startswith("Fill rate")]
    assert fill and all(row[2].endswith("pts") and "%" not in row[2] for row in fill)
    assert all(row[5] in ("none", "-") or row[5].endswith("%") and not row[5].startswith("-")
               for row, _ in differences["rows"])


def test_rate_intervals_are_clipped_to_0_100(pages):
    assert rate_interval(0.986, 0.106) == "98.6 % (88.0 to 100.0 %)"
    assert rate_interval(0.02, 0.05) == "2.0 % (0.0 to 7.0 %)"
    assert points(-0.0424) == "-4.2 pts" and money(2.676e-13) == "0 CNY"
    for kind in ("replications", "compare", "evaluation"):
        text = re.sub(r"<[^>]+>", " ", text_of(pages[kind]))
        for low, high in re.findall(r"\(([\d.]+) to ([\d.]+) %\)", text):
            assert 0.0 <= float(low) <= float(high) <= 100.0


def test_the_stockout_table_names_each_sku_and_its_dates():
    dates = pd.date_range("2026-03-01", periods=6)
    on_hand = np.array([[[5, 0, 0, 4, 0, 3], [2, 2, 2, 2, 2, 2]]], dtype=float)
    stock = StockBySku(["US_WH"], ["CABLE", "LAMP"], on_hand, np.array([[3.0, 1.0]]),
                       ["US_WH"], dates)
    daily = pd.DataFrame({"lost_sales_units": [0, 4, 6, 0, 2, 0]})
    orders = pd.DataFrame({"warehouse": ["US_WH", "US_WH"], "sku": ["CABLE", "LAMP"],
                           "units": [12, 6]})
    table = stockouts(stock, daily, orders)
    assert table[["sku", "warehouse", "days_out"]].values.tolist() == [["CABLE", "US_WH", 3]]
    assert table.at[0, "dates"] == "2026-03-02 to 03-03, 2026-03-05"
    assert table.at[0, "lost_units"] == pytest.approx(12.0)


def test_the_run_page_names_the_skus_that_ran_out_with_their_dates(pages):
    tables = Tables(text_of(pages["run"])).tables
    skus = next(t for t in tables if t["title"].startswith("Direct margin by SKU"))
    named = {row[0] for row, _ in skus["rows"]}
    assert named and all(re.fullmatch(r"[A-Z_0-9]+", sku) for sku in named)
    outs = [t for t in tables if t["title"].startswith("SKUs that ran out")]
    for row, _ in (outs[0]["rows"] if outs else []):
        assert row[0] in named | {row[0]} and re.match(r"\d{4}-\d\d-\d\d", row[3])
        assert re.match(r"\d{4}-\d\d-\d\d", row[7])
    reorder = next(t for t in tables if t["title"].startswith("Stock on hand against"))
    assert "days below reorder point" in reorder["headers"]
    market = next(t for t in tables if t["title"].startswith("On-time delivery by market"))
    assert market["headers"][:2] == ["market", "mode"]
