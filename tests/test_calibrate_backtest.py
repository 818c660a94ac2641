"""Calibration and backtests: the catalogue fit gives a scenario that runs, the written file
says what was fitted and loads, and a scenario reproduces its own simulated history (and so
does one calibrated from it) within the measured error and interval coverage."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli.backtest import add_arguments as backtest_arguments
from experiments.cli.backtest import backtest_command
from experiments.data.backtest import Backtest, backtest, write_backtest
from experiments.data.backtest_report import write_backtest_report
from experiments.data.calibrate.catalog import fit_catalog
from experiments.data.calibrate.fit import Fit
from experiments.data.calibrate.scenario_file import assemble, header_lines, write_scenario
from experiments.data.history import history_tables, write_history
from experiments.data.tables import write_table
from experiments.engine.backends import open_backend
from sim.loader import load_scenario, resolve_document
from sim.model import simulate
from sim.scenario import Scenario

ROOT = Path(__file__).parent.parent
TINY = ROOT / "tests" / "data" / "tiny.yaml"
BASELINE = ROOT / "tests" / "data" / "calibration_truth.yaml"
"""The baseline without the levers the fit does not estimate (see the file)."""
HISTORY_SEED = 100
REPLICATIONS = 20


def skus_table(scenario: Scenario, supplier: dict[str, str] | None = None) -> pd.DataFrame:
    """The scenario's SKUs as the seller's master table, prices for its first market only
    (the others come from prices paid)."""
    first = next(iter(scenario.markets))
    return pd.DataFrame([{
        "sku": name, "category": s.category, "supplier": (supplier or {}).get(name, s.supplier),
        "unit_cost_cny": s.unit_cost_cny, "weight_kg": s.weight_kg, "volume_m3": s.volume_m3,
        f"price_{first}": s.price[first]} for name, s in scenario.skus.items()])


@pytest.fixture(scope="module")
def tiny_tables() -> dict[str, pd.DataFrame]:
    tiny = load_scenario(TINY)
    tables = history_tables(simulate(tiny, seed=HISTORY_SEED))
    master = skus_table(tiny, {"LAMP": "NEW_FACTORY"})
    tables["skus"] = master[master["sku"] != "CABLE"]
    return tables


def test_catalog_from_a_skus_table_simulates_with_units_conserved(tiny_tables):
    tiny = load_scenario(TINY)
    fit = fit_catalog(tiny_tables, tiny)
    scenario = assemble(resolve_document(TINY), [fit], "mine", "test", "mine.yaml").scenario
    assert set(scenario.skus) == {"TEE", "LAMP"}
    assert scenario.skus["TEE"].price["US"] == tiny.skus["TEE"].price["US"]
    paid = tiny_tables["orders"].query("sku == 'LAMP' and market == 'DE'")["unit_price"]
    assert scenario.skus["LAMP"].price["DE"] == pytest.approx(paid.median())
    assert scenario.suppliers["NEW_FACTORY"].lead_time_days == tiny.suppliers["ACME"].lead_time_days
    assert any("NEW_FACTORY" in w for w in fit.warnings)
    assert any("CABLE" in w for w in fit.warnings)  # sold but not in the catalogue
    rules = scenario.policies.replenishment
    assert all("CABLE" not in (rule.skus or []) for rule in rules)
    run = simulate(scenario, seed=3)
    assert run.conservation["units_residual"] == 0
    assert run.conservation["units_in"] > 0
    assert set(run.orders["sku"].astype(str)) == {"TEE", "LAMP"}


def test_written_file_has_a_comment_per_group_and_loads(tiny_tables, tmp_path):
    tiny = load_scenario(TINY)
    base = resolve_document(TINY)
    catalog = fit_catalog(tiny_tables, tiny)
    demand = Fit("demand", {"markets.US.organic_sessions_per_day": 1234.0},
                 "demand: organic sessions from a test")
    header = header_lines(tmp_path, tiny_tables, tiny.horizon.start_date,
                          tiny.horizon.start_date)
    out = tmp_path / "mine.yaml"
    assembled = assemble(base, [catalog, demand], "mine", "test", out)
    extends = write_scenario(out, TINY, base, assembled, [catalog, demand], header, True)
    text = out.read_text()
    assert not extends  # the base's CABLE cannot be removed by a file that extends it
    lines = text.splitlines()
    comments = " ".join(line.removeprefix("# ") for line in lines if line.startswith("#"))
    assert "not remove the base's skus.CABLE" in comments
    assert lines[0].startswith("# Calibrated scenario") and "Source data" in lines[1]
    for fit in (catalog, demand):
        comment = next(i for i, line in enumerate(lines) if line.startswith(f"# {fit.group}:"))
        assert not lines[comment + 1].startswith(("#", " ")), "the comment heads a group"
    loaded = load_scenario(out)
    assert loaded == assembled.scenario
    assert loaded.markets["US"].organic_sessions_per_day == 1234.0

    same = tiny_tables | {"skus": skus_table(tiny)}
    catalog = fit_catalog(same, tiny)
    assembled = assemble(base, [catalog, demand], "same", "test", out)
    assert write_scenario(out, TINY, base, assembled, [catalog, demand], header, True)
    text = out.read_text()
    assert "\nextends: " in text and "# demand: organic sessions" in text
    assert load_scenario(out) == assembled.scenario


@pytest.fixture(scope="module")
def baseline_history(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("actuals")
    run = simulate(load_scenario(BASELINE), seed=HISTORY_SEED)
    write_history(run, directory)
    write_table(directory, "skus", skus_table(run.scenario))
    return directory


def run_backtest(scenario: Path, actuals: Path) -> Backtest:
    with open_backend("local", 2) as pool:
        result = backtest(scenario, actuals, REPLICATIONS, pool, root_seed=7)
    assert HISTORY_SEED not in result.seeds, "the history's own seed would be cheating"
    return result


def orders_score(result: Backtest) -> pd.Series:
    scores = result.scores.set_index(["breakdown", "measure"])
    return scores.loc[("market", "orders")]


def test_a_scenario_reproduces_its_own_history(baseline_history, tmp_path):
    result = run_backtest(BASELINE, baseline_history)
    orders = orders_score(result)
    assert orders["cells"] == 36  # 3 markets x 12 months
    assert orders["wape"] <= 0.08
    assert 0.80 <= orders["coverage"] <= 0.98
    assert result.verdicts()[0].startswith("orders: WAPE")
    assert set(result.cells["measure"]) >= {"orders", "units", "revenue_cny", "returns",
                                            "po_lead_days", "transit_days"}
    assert set(result.class_scores["group"]) == {"A", "B", "C"}
    written = write_backtest(tmp_path, result)
    assert "cells.parquet" in written and "scores.csv" in written
    page = write_backtest_report(tmp_path, result).read_text()
    assert result.verdicts()[0] in page and "data:image/png;base64" in page


def test_a_calibrated_scenario_reproduces_the_history(baseline_history, tmp_path):
    for fitter in ("demand", "ads", "lead_times", "returns"):
        pytest.importorskip(f"experiments.data.calibrate.{fitter}")
    from experiments.data.calibrate.run import calibrate

    out = tmp_path / "mine.yaml"
    calibration = calibrate(baseline_history, out, BASELINE, extends=True)
    assert (tmp_path / "report.html").is_file() and calibration.tables
    report = calibration.report.read_text()
    assert "Observed against fitted" in report and "data:image/png;base64" in report
    simulate(load_scenario(out), seed=1, days=30)
    orders = orders_score(run_backtest(out, baseline_history))
    assert orders["wape"] <= 0.08
    assert abs(orders["bias"]) <= 0.05
    assert 0.80 <= orders["coverage"] <= 0.98


def command(add, args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(args)


def test_bad_input_is_one_line_and_exit_2(tmp_path, tiny_tables, capsys):
    write_table(tmp_path / "no_orders", "skus", tiny_tables["skus"])
    for actuals, message in ((tmp_path / "missing", "no such data directory"),
                             (tmp_path / "no_orders", "no orders table")):
        code = backtest_command(command(backtest_arguments, [
            str(TINY), "--actuals", str(actuals), "--backend", "serial"]))
        err = capsys.readouterr().err
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    for fitter in ("demand", "ads", "lead_times", "returns"):
        pytest.importorskip(f"experiments.data.calibrate.{fitter}")
    from experiments.cli.calibrate import add_arguments, calibrate_command

    write_table(tmp_path / "data", "orders", tiny_tables["orders"])
    for args, message in (([str(tmp_path / "missing")], "no such data directory"),
                          ([str(tmp_path / "no_orders")], "no orders table"),
                          ([str(tmp_path / "data"), "--extends", "nowhere.yaml"], "no such file")):
        code = calibrate_command(command(add_arguments, [*args, "--out",
                                                         str(tmp_path / "out.yaml")]))
        err = capsys.readouterr().err
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
