"""Round trips: simulate a scenario whose demand parameters are known, write its history,
fit the demand model to it and compare with the truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from experiments.data.calibrate.demand import fit_demand
from experiments.data.calibrate.fit import Fit
from experiments.data.history import history_tables
from sim.demand import popularity_shares
from sim.loader import load_scenario
from sim.model import simulate
from sim.scenario import Scenario

BASELINE = "tests/data/calibration_truth.yaml"
"""The baseline without the levers the fit does not estimate (see the file)."""
OUT_OF_STOCK_SKU = "APP_HOODIE"
OUT_OF_STOCK = (pd.Timestamp("2026-03-01"), pd.Timestamp("2026-05-24"))
PRICE_TEST_START = pd.Timestamp("2026-01-05")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def history(scenario: Scenario) -> dict[str, pd.DataFrame]:
    return history_tables(simulate(scenario, seed=1))


@pytest.fixture(scope="module")
def fit(history: dict[str, pd.DataFrame], scenario: Scenario) -> Fit:
    return fit_demand(history, scenario)


def fitted_shares(fit: Fit, scenario: Scenario) -> pd.Series:
    weights = pd.Series({s: fit.values[f"skus.{s}.popularity"] for s in scenario.skus})
    return weights / weights.sum()


def share_errors(fit: Fit, scenario: Scenario, orders: pd.DataFrame) -> pd.Series:
    """Relative error of each SKU's share, for SKUs that sold 500 units or more."""
    truth = pd.Series(popularity_shares(scenario, list(scenario.skus)), index=list(scenario.skus))
    units = orders.groupby("sku")["quantity"].sum().reindex(truth.index, fill_value=0)
    error = fitted_shares(fit, scenario) / truth - 1.0
    return error[units >= 500]


def test_seasonality_is_recovered_within_5_percent(fit: Fit, scenario: Scenario) -> None:
    truth = np.array(scenario.calendar.seasonality_by_month)
    fitted = np.array(fit.values["calendar.seasonality_by_month"])
    assert fitted.mean() == pytest.approx(1.0)
    assert np.max(np.abs(fitted / (truth / truth.mean()) - 1.0)) < 0.05


def test_peak_multipliers_are_recovered_within_10_percent(fit: Fit, scenario: Scenario) -> None:
    events = fit.values["calendar.peak_events"]
    assert [e["name"] for e in events] == [e.name for e in scenario.calendar.peak_events]
    for event, truth in zip(events, scenario.calendar.peak_events, strict=True):
        assert event["demand_multiplier"] == pytest.approx(truth.demand_multiplier, rel=0.10)


def test_popularity_is_recovered_within_10_percent(fit: Fit, scenario: Scenario,
                                                   history: dict[str, pd.DataFrame]) -> None:
    """Within 10 %, or 4.5 Poisson standard errors (1 / sqrt(units)) for the SKUs that sold
    too few units for 10 % to be more than noise (the Poisson error alone understates that of
    a SKU whose stock-outs censor its demand); the typical SKU within 3 %."""
    errors = share_errors(fit, scenario, history["orders"])
    units = history["orders"].groupby("sku")["quantity"].sum().reindex(errors.index)
    assert len(errors) >= 30
    assert (errors.abs() < np.maximum(0.10, 4.5 / np.sqrt(units))).all()
    assert errors.abs().median() < 0.03


def test_levels_and_conversion_come_from_the_traffic(fit: Fit, scenario: Scenario) -> None:
    for market, spec in scenario.markets.items():
        assert fit.values[f"markets.{market}.organic_sessions_per_day"] == pytest.approx(
            spec.organic_sessions_per_day, rel=0.03)
        assert fit.values[f"markets.{market}.base_conversion_rate"] == pytest.approx(
            spec.base_conversion_rate, rel=0.06)


def test_a_sku_out_of_stock_for_weeks_keeps_its_popularity(
        history: dict[str, pd.DataFrame], scenario: Scenario) -> None:
    orders = history["orders"]
    gone = ((orders["sku"] == OUT_OF_STOCK_SKU) & (orders["order_date"] >= OUT_OF_STOCK[0])
            & (orders["order_date"] < OUT_OF_STOCK[1]))
    censored = fit_demand({**history, "orders": orders[~gone]}, scenario)
    errors = share_errors(censored, scenario, orders[~gone])
    assert abs(errors[OUT_OF_STOCK_SKU]) < 0.10
    stockouts = censored.tables["demand_stockouts"]
    days = stockouts.loc[stockouts["sku"] == OUT_OF_STOCK_SKU, "censored_days"]
    assert len(days) == len(scenario.markets)
    assert (days >= 75).all()
    assert any("out of stock" in w for w in censored.warnings)


def test_elasticity_is_kept_with_a_warning_when_prices_never_moved(fit: Fit) -> None:
    assert "conversion.price_elasticity" not in fit.values
    assert any("price elasticity is the base scenario's" in w for w in fit.warnings)


def test_elasticity_is_fitted_from_price_changes(history: dict[str, pd.DataFrame],
                                                 scenario: Scenario) -> None:
    """Every other four weeks prices are 25 % higher and, with elasticity 1.5, each order
    survives with probability 1.25^-1.5 (Poisson thinning): the history a price test with
    the scenario's elasticity would have left."""
    orders = history["orders"]
    raised = ((orders["order_date"] - PRICE_TEST_START).dt.days // 28 % 2 == 1).to_numpy()
    keep = ~raised | (np.random.default_rng(7).random(len(orders)) < 1.25 ** -1.5)
    tested = orders[keep].assign(unit_price=np.where(raised[keep], 1.25, 1.0)
                                 * orders["unit_price"][keep])
    fitted = fit_demand({**history, "orders": tested}, scenario)
    assert fitted.values["conversion.price_elasticity"] == pytest.approx(
        scenario.conversion.price_elasticity, abs=0.25)


def test_without_traffic_levels_come_from_orders_with_a_warning(
        history: dict[str, pd.DataFrame], scenario: Scenario) -> None:
    orders_only = fit_demand({"orders": history["orders"], "ad_spend": history["ad_spend"]},
                             scenario)
    for market, spec in scenario.markets.items():
        assert orders_only.values[f"markets.{market}.organic_sessions_per_day"] == \
            pytest.approx(spec.organic_sessions_per_day, rel=0.05)
        assert f"markets.{market}.base_conversion_rate" not in orders_only.values
    assert any("no organic sessions in traffic" in w for w in orders_only.warnings)


def test_values_make_a_valid_scenario(fit: Fit, scenario: Scenario) -> None:
    data = scenario.model_dump(mode="json")
    for path, value in fit.values.items():
        *parents, leaf = path.split(".")
        node: Any = data
        for key in parents:
            node = node[key]
        node[leaf] = value
    fitted = Scenario.model_validate(data)
    assert [e.start for e in fitted.calendar.peak_events] == [
        e.start for e in scenario.calendar.peak_events]


def test_tables_report_estimates_and_observed_against_fitted(
        fit: Fit, history: dict[str, pd.DataFrame]) -> None:
    parameters = fit.tables["demand_parameters"]
    assert list(parameters.columns) == ["parameter", "estimate", "low", "high"]
    assert (parameters["low"] <= parameters["estimate"]).all()
    assert (parameters["estimate"] <= parameters["high"]).all()
    monthly = fit.tables["demand_observed_vs_fitted"]
    assert list(monthly.columns) == ["market", "month", "observed", "fitted"]
    assert len(monthly) == 12 * len(fit.tables["demand_seasonality_by_market"]["market"]
                                     .unique())
    assert monthly["observed"].sum() == len(history["orders"])
    assert monthly["fitted"].sum() == pytest.approx(monthly["observed"].sum(), rel=0.02)
    assert any("under 13 months" in w for w in fit.warnings)
