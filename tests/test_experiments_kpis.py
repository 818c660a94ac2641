"""The KPI registry against what a run really writes: every registered KPI is in a run's
summary.json and in its report with its unit, and every KPI the run writes is registered."""

from __future__ import annotations

import json
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_cli import run_cli

from experiments import api
from experiments.errors import ExperimentError
from experiments.kpis import FAMILIES, HEADLINE_KPIS, KPIS, check_scenario_kpis, describe, lookup

TINY = Path(__file__).resolve().parent / "data" / "tiny.yaml"
NOT_KPIS = {"conservation"}
"""What ``xbsim run`` adds to the summary besides the KPIs: the conservation residuals."""


class Tables(HTMLParser):
    """Every table of a page as (headers, rows of cell texts)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._cells: list[str] | None = None
        self._text = ""
        self._cell = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self._cells = []
        elif tag in ("td", "th"):
            self._cell, self._text = True, ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cells is not None:
            self._cells.append(unescape(self._text))
            self._cell = False
        elif tag == "tr" and self._cells is not None:
            headers, rows = self.tables[-1]
            if headers:
                rows.append(self._cells)
            else:
                headers.extend(self._cells)
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cell:
            self._text += data


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[dict, Tables]:
    out = tmp_path_factory.mktemp("kpis") / "run"
    code, _, stderr = run_cli(["run", str(TINY), "--days", "20", "--out", str(out)])
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary, Tables((out / "report.html").read_text(encoding="utf-8"))


def test_every_registered_kpi_is_in_the_summary(run):
    summary, _ = run
    assert [k for k in KPIS if k not in summary] == []
    for family in FAMILIES:
        assert isinstance(summary[family], dict) and summary[family]


def test_every_kpi_in_the_summary_is_registered(run):
    summary, _ = run
    scalars = {k for k, v in summary.items() if not isinstance(v, dict)}
    nested = {k for k, v in summary.items() if isinstance(v, dict)}
    assert scalars == set(KPIS)
    assert nested == set(FAMILIES) | NOT_KPIS
    for family in FAMILIES:
        assert all(lookup(f"{family}.{member}") is not None for member in summary[family])


def test_the_run_report_shows_every_kpi_with_its_value_and_unit(run):
    summary, page = run
    kpi_rows = next(rows for headers, rows in page.tables if headers == ["KPI", "value", "unit"])
    for kpi in KPIS.values():
        assert [kpi.label, kpi.format.format(summary[kpi.name]), kpi.unit] in kpi_rows, kpi.name
    landed = FAMILIES["landed_cost_per_unit_cny"]
    for route, cost in summary[landed.name].items():
        member = landed.member(route)
        assert [member.label, f"{cost:,.2f}", "CNY"] in kpi_rows
    pnl = FAMILIES["profit_and_loss_cny"]
    pnl_rows = next(rows for headers, rows in page.tables if headers == ["line", pnl.unit])
    for line, value in summary[pnl.name].items():
        assert [line, f"{value:,.0f}"] in pnl_rows


def test_directions_labels_and_headlines():
    assert HEADLINE_KPIS == ("orders", "net_revenue_cny", "contribution_margin_cny",
                             "fill_rate", "on_time_rate", "mean_delivery_days", "return_rate",
                             "final_cash_cny")
    assert describe("contribution_margin_cny").direction == 1
    assert describe("lost_sales_units").direction == -1
    assert describe("ad_spend_cny").direction == 0 and describe("days_of_cover").direction == 0
    assert describe("landed_cost_per_unit_cny.US direct express").direction == -1
    assert describe("profit_and_loss_cny.sales").direction == 1
    assert describe("profit_and_loss_cny.cogs").direction == -1
    assert describe("profit_and_loss_cny.write_off").direction == -1
    assert describe("landed_cost_per_unit_cny.DE direct postal").label == \
        "Landed cost per unit: DE direct postal"
    assert describe("fill_rate").percent and not describe("orders").percent
    assert describe("my_model_output").unit == "" and lookup("my_model_output") is None


def test_an_unknown_kpi_is_refused_with_the_closest_name():
    check_scenario_kpis(["fill_rate", "profit_and_loss_cny.cogs"])
    with pytest.raises(ExperimentError, match=r"unknown KPI 'fill_rte' \(did you mean "
                                              r"fill_rate\?\)"):
        check_scenario_kpis(["fill_rte"])


def test_the_api_lists_the_registry_and_refuses_unknown_kpis():
    table = api.kpis()
    assert list(table.index[:len(KPIS)]) == list(KPIS)
    assert table.loc["fill_rate", "unit"] == "%" and table.loc["fill_rate", "headline"]
    assert table.loc["profit_and_loss_cny.*", "label"] == "P&L: *"
    with pytest.raises(ExperimentError, match="unknown KPI 'fill_rte'"):
        api.replicate(TINY, replications=2, days=5, kpis=["fill_rte"], backend="serial")
    with pytest.raises(ExperimentError, match="unknown KPI 'margin'"):
        api.compare(TINY, variants={"v": ["markets.US.duty_rate=0.3"]}, replications=2,
                    days=5, kpis=["margin"], backend="serial")
