"""``report.html``: one self-contained page per result directory, with the sections its data
allows, figures as embedded PNG, and nothing that points outside the page.

Results come from the commands themselves on the tiny scenario (a few days, serial backend),
which write the report as their last step; ``xbsim report DIR`` rewrites it.
"""

from __future__ import annotations

import base64
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_cli import run_cli

from experiments.report import write_report
from experiments.report.landed import LEDGER_STEPS, ROUTE_STEPS, per_route

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"
SERIAL = ["--backend", "serial"]
PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Section ids, images, links and every URL-like attribute of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if "id" in values:
            self.ids.add(values["id"])
            if tag == "section":
                self.sections.append(values["id"])
        if tag == "img":
            self.images.append(values["src"])
        for name in ("href", "src", "action", "data", "poster", "srcset"):
            if name in values and tag != "img":
                self.links.append(values[name])


def command(*argv) -> str:
    code, stdout, stderr = run_cli([str(a) for a in argv])
    assert code == 0, stderr
    return stdout


def make_results(base: Path) -> dict[str, tuple[Path, str]]:
    """Every kind of result directory under ``base``, each made by its command:
    (directory, stdout)."""
    sweep = base / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "report_morris", "scenario": str(TINY), "days": 10, "seed": 1,
        "replications": 2, "design": {"kind": "morris", "samples": 2, "levels": 4},
        "parameters": {"markets.US.duty_rate": {"low": 0.05, "high": 0.3},
                       "service.agents": {"low": 1, "high": 3, "integer": True}},
        "kpis": ["contribution_margin_cny", "fill_rate"]}), encoding="utf-8")
    commands = {
        "run": ["run", TINY, "--days", 20],
        "replications": ["run", TINY, "--days", 10, "--replications", 3, *SERIAL],
        "compare": ["compare", TINY, "--variant", "tariff", "markets.US.duty_rate=0.3",
                    "--replications", 3, "--days", 10, *SERIAL],
        "sweep": ["sweep", sweep, *SERIAL],
        "tune": ["tune", TINY, "--param", "policies.replenishment.0.policy.reorder_point=15:55",
                 "--objective", "contribution_margin_cny", "--constraint", "fill_rate>=0.5",
                 "--budget", 2, "--replications", 2, "--days", 10, *SERIAL],
        "frontier": ["optimize", "frontier", TINY, "--points", 3],
        "ads": ["optimize", "ads", TINY],
        "channels": ["optimize", "channels", TINY],
        "peak": ["optimize", "peak", TINY],
        "evaluation": ["evaluate", TINY, "--plan", base / "channels" / "plan.yaml",
                       "--replications", 3, "--days", 14, *SERIAL],
    }
    return {kind: (base / kind, command(*argv, "--out", base / kind))
            for kind, argv in commands.items()}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    return make_results(tmp_path_factory.mktemp("results"))


SECTIONS = {
    "run": ["kpis", "markets", "skus", "traffic", "stock", "delivery", "landed-cost", "cash",
            "service", "appendix"],
    "replications": ["kpis", "replications"],
    "compare": ["kpis", "differences", "ranking", "costs"],
    "sweep": ["design", "response", "sensitivity"],
    "tune": ["best", "trials"],
    "frontier": ["plan", "frontier", "solver"],
    "ads": ["plan", "ads", "solver"],
    "channels": ["plan", "channels", "solver"],
    "peak": ["plan", "peak", "solver"],
    "evaluation": ["verdict", "prediction", "differences", "kpis", "replications"],
}


@pytest.mark.parametrize("kind", list(SECTIONS))
def test_each_command_writes_a_report_with_every_section_that_applies(results, kind):
    directory, stdout = results[kind]
    report = directory / "report.html"
    assert stdout.rstrip().endswith(f"report: {report}")
    page = Page(report.read_text(encoding="utf-8"))
    assert page.sections == SECTIONS[kind]
    assert len(page.sections) == len(set(page.sections))


@pytest.mark.parametrize("kind", [k for k in SECTIONS if k != "tune"])
def test_figures_are_embedded_png_images_also_written_to_figures(results, kind):
    directory, _ = results[kind]
    page = Page((directory / "report.html").read_text(encoding="utf-8"))
    assert page.images
    embedded = []
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert data.startswith(PNG) and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 400 and height >= 200 and len(data) > 5_000
        embedded.append(data)
    on_disk = sorted((directory / "figures").glob("*.png"))
    assert sorted(p.read_bytes() for p in on_disk) == sorted(embedded)


@pytest.mark.parametrize("kind", list(SECTIONS))
def test_the_page_references_nothing_outside_itself(results, kind):
    """Nothing is fetched: the one script (sorting tables) is inline, with no source."""
    directory, _ = results[kind]
    text = (directory / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert not page.tags & {"link", "iframe", "object", "embed", "base"}
    assert text.count("<script") == 1 and "<script>" in text
    for link in page.links:
        assert link.startswith("#") and link[1:] in page.ids, link
    assert "url(" not in text and "@import" not in text
    for scheme in ("http:", "https:", "file:", "//"):
        assert all(not src.startswith(scheme) for src in page.images)
    assert "http://" not in text and "https://" not in text


def test_run_report_shows_the_kpis_with_units_and_the_landed_cost_per_route(results):
    directory, _ = results["run"]
    text = (directory / "report.html").read_text(encoding="utf-8")
    for words in ("Contribution margin", "<td>CNY</td>", "Fill rate (units from stock)",
                  "US warehouse us_last_mile", "DE direct postal", "commission &amp; fees"):
        assert words in text


def test_replicated_and_compared_kpis_carry_confidence_intervals(results):
    reps = (results["replications"][0] / "report.html").read_text(encoding="utf-8")
    assert "95% CI" in reps and "± " in reps
    compare = (results["compare"][0] / "report.html").read_text(encoding="utf-8")
    assert "tariff - tiny" in compare and "Bonferroni" in compare and "± " in compare


def test_evaluation_puts_the_plans_predictions_beside_the_simulation(results):
    text = (results["evaluation"][0] / "report.html").read_text(encoding="utf-8")
    assert "plan predicted" in text and "simulated (95% CI)" in text
    assert "Logistics cost per unit sold [CNY]" in text


def test_landed_cost_shares_every_ledger_cost_among_the_routes(results):
    """Allocation by revenue and units moves money between routes, never creates or loses it."""
    directory, _ = results["run"]
    orders = pd.read_parquet(directory / "orders.parquet")
    ledger = pd.read_parquet(directory / "ledger.parquet")
    table = per_route(orders, ledger)
    units = table["units"].to_numpy()
    booked = ledger.groupby("category", observed=True)["amount_cny"].sum()
    for step, categories in LEDGER_STEPS.items():
        allocated = float((table[step] * units).sum())
        expected = -sum(float(booked.get(c, 0.0)) for c in categories)
        if step == "duties & VAT":
            expected += float(orders["import_duty_cny"].sum())
        assert allocated == pytest.approx(expected, rel=1e-9, abs=1e-6), step
    assert (table["product"] * units).sum() == pytest.approx(orders["product_cost_cny"].sum())
    assert np.allclose(table["total"], table[list(ROUTE_STEPS)].sum(axis=1))


def test_report_command_rewrites_the_page_and_drops_stale_figures(results):
    directory, _ = results["replications"]
    stale = directory / "figures" / "old.png"
    stale.write_bytes(PNG)
    before = (directory / "report.html").read_bytes()
    code, stdout, stderr = run_cli(["report", directory])
    assert code == 0, stderr
    assert stdout == f"report: {directory / 'report.html'}\n"
    assert (directory / "report.html").read_bytes() == before
    assert not stale.exists()


def test_no_report_leaves_the_results_alone(tmp_path):
    command("run", TINY, "--days", 5, "--out", tmp_path / "run", "--no-report")
    assert not (tmp_path / "run" / "report.html").exists()
    assert not (tmp_path / "run" / "figures").exists()


def test_write_report_returns_the_page(results):
    directory, _ = results["peak"]
    assert write_report(directory) == directory / "report.html"


@pytest.mark.parametrize("make, reason", [
    (lambda d: d / "missing", "no such directory"),
    (lambda d: (d / "file.txt", (d / "file.txt").write_text("x"))[0], "not a directory"),
    (lambda d: (d / "other", (d / "other").mkdir(), (d / "other" / "x.csv").write_text("1"))[0],
     "holds no xbsim result (no manifest.json or plan.yaml)"),
    (lambda d: (d / "bad", (d / "bad").mkdir(), (d / "bad" / "manifest.json").write_text("{"))
     [0], "manifest.json cannot be read"),
])
def test_a_directory_without_results_is_one_line_and_exit_code_2(tmp_path, make, reason):
    directory = make(tmp_path)
    code, stdout, stderr = run_cli(["report", directory])
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr
    assert lines[0].startswith(f"error: {directory}: {reason}")


def test_a_run_missing_a_table_is_refused(results, tmp_path):
    directory, _ = results["run"]
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("manifest.json", "summary.json", "daily.parquet"):
        (partial / name).write_bytes((directory / name).read_bytes())
    code, _, stderr = run_cli(["report", partial])
    assert code == 2
    assert stderr.startswith(f"error: {partial}: holds an xbsim run result without ")
