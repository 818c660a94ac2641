"""Round trips of the ads, lead-time and returns fitters on simulated histories.

A scenario with known parameters is simulated, written as a seller's history and fitted;
the fit must find the parameters again: Hill half-saturation within 20 %, suppliers'
lead-time mean within 5 % and CV within 15 %, return probabilities within 1 point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.data.calibrate.ads import fit_ads
from experiments.data.calibrate.lead_durations import fit_duration
from experiments.data.calibrate.lead_times import fit_lead_times
from experiments.data.calibrate.returns import fit_returns
from experiments.data.history import history_tables
from sim.loader import load_scenario
from sim.model import simulate
from sim.scenario import Scenario
from tests.conftest import ROOT

BASELINE = ROOT / "scenarios" / "baseline.yaml"


def varied_spend(seed: int) -> list[str]:
    """Overrides holding each channel's spend at a new level every week (0.1-2.5 x K)."""
    base = load_scenario(BASELINE)
    rng = np.random.default_rng(seed)
    out = []
    for name, spec in base.ad_channels.items():
        half = spec.half_saturation_spend_per_day
        weeks = {w: round(float(half * rng.uniform(0.1, 2.5)), 1) for w in range(1, 54)}
        out.append(f"policies.ad_spend.{name}.weekly_spend_per_day={weeks}")
    return out


@pytest.fixture(scope="module")
def varied() -> tuple[Scenario, dict[str, pd.DataFrame]]:
    scenario = load_scenario(BASELINE, varied_spend(7))
    return scenario, history_tables(simulate(scenario, 1))


def half_saturation(values: dict, name: str) -> float:
    """K per day from the fitted values, whichever convention was written."""
    path = f"ad_channels.{name}"
    if values.get(f"{path}.cost_per_click") is not None:
        return values[f"{path}.cost_per_click"] * values[f"{path}.max_sessions_per_day"]
    return values[f"{path}.half_saturation_spend_per_week"] / 7.0


def test_ads_round_trip_with_noisy_sessions(varied):
    scenario, tables = varied
    rng = np.random.default_rng(3)
    spend = tables["ad_spend"].copy()
    spend["sessions"] *= np.exp(rng.normal(0.0, 0.1, len(spend)))
    fit = fit_ads({"ad_spend": spend}, scenario)
    for name, spec in scenario.ad_channels.items():
        truth = spec.half_saturation_spend_per_day
        assert half_saturation(fit.values, name) == pytest.approx(truth, rel=0.2), name
        assert fit.values[f"ad_channels.{name}.hill_exponent"] == pytest.approx(
            spec.hill_exponent, rel=0.2)
        assert fit.values[f"ad_channels.{name}.carryover"] == pytest.approx(
            spec.carryover, abs=0.1)
        assert fit.values[f"ad_channels.{name}.half_saturation_spend_per_week"] is None
        shares = fit.values[f"ad_channels.{name}.market_shares"]
        assert sum(shares.values()) == pytest.approx(1.0)
        for market, share in spec.market_shares.items():
            assert shares[market] == pytest.approx(share, abs=0.02)
    table = fit.tables["ads"]
    assert (table["low"] <= table["estimate"]).all() and (table["estimate"] <= table["high"]).all()


def test_ads_weekly_convention_is_kept(varied):
    scenario, tables = varied
    weekly = load_scenario(BASELINE, [*varied_spend(7),
                                      "ad_channels.social_ads.cost_per_click=null",
                                      "ad_channels.social_ads.half_saturation_spend_per_week=4200",
                                      "ad_channels.social_ads.carryover=null",
                                      "ad_channels.social_ads.weekly_carryover=0.3"])
    fit = fit_ads(tables, weekly)
    path = "ad_channels.social_ads"
    assert fit.values[f"{path}.cost_per_click"] is None
    assert fit.values[f"{path}.carryover"] is None
    truth = scenario.ad_channels["social_ads"]
    assert fit.values[f"{path}.half_saturation_spend_per_week"] == pytest.approx(
        7 * truth.half_saturation_spend_per_day, rel=0.2)
    assert fit.values[f"{path}.weekly_carryover"] == pytest.approx(truth.carryover**7, abs=0.01)


def test_flat_ad_spend_keeps_the_base_curve_and_says_so():
    channels = ("marketplace_ppc", "search_ads", "social_ads", "influencer")
    scenario = load_scenario(BASELINE, ["horizon.days=120", *(
        f"policies.ad_spend.{c}.weekly_spend_per_day={{}}" for c in channels)])
    fit = fit_ads(history_tables(simulate(scenario, 2)), scenario)
    for name in channels:
        assert any(name in w and "does not vary" in w for w in fit.warnings)
        spec = scenario.ad_channels[name]
        assert half_saturation(fit.values, name) == pytest.approx(
            spec.half_saturation_spend_per_day, rel=1e-3)
        assert f"ad_channels.{name}.hill_exponent" not in fit.values


def test_lead_times_round_trip_separates_late_orders_and_shutdowns():
    suppliers = ("GZ_APPAREL", "YW_HOME", "SZ_ELECTRONICS", "GZ_BEAUTY")
    scenario = load_scenario(BASELINE, [
        "horizon.days=1095", "policies.replenishment.0.review_days=1",
        "policies.replenishment.0.policy={type: sS, unit: days, reorder_point: 35, "
        "order_up_to: 37}", *(f"suppliers.{s}.moq_units=0" for s in suppliers)])
    fit = fit_lead_times(history_tables(simulate(scenario, 3)), scenario)
    for name in suppliers:
        truth = scenario.suppliers[name].lead_time_days
        fitted = fit.values[f"suppliers.{name}.lead_time_days"]
        assert fitted["mean"] == pytest.approx(truth.mean(), rel=0.05), name
        assert fitted["cv"] == pytest.approx(truth.cv, rel=0.15), name
    rail = fit.values["modes.rail.transit_days"]
    assert rail["mean"] == pytest.approx(scenario.modes["rail"].transit_days.mean(), rel=0.1)
    table = fit.tables["lead_times"]
    assert set(table.columns) >= {"parameter", "estimate", "low", "high"}


def test_duration_fit_removes_known_extras_and_day_rounding():
    rng = np.random.default_rng(0)
    sigma = np.sqrt(np.log1p(0.25**2))
    production = rng.lognormal(np.log(20.0) - sigma**2 / 2, sigma, 4000)
    start = rng.uniform(0, 1, 4000)
    extra = rng.uniform(2, 4, 4000)
    days = np.floor(start + production + extra) - np.floor(start)
    fit = fit_duration(days, 3.0, 1.0 / 3.0, "gamma")
    assert fit.mean == pytest.approx(20.0, rel=0.02)
    assert fit.cv == pytest.approx(0.25, rel=0.05)
    assert fit.mean_interval[0] < 20.0 < fit.mean_interval[1]
    assert fit.dist["dist"] in ("lognormal", "gamma")


def test_returns_round_trip(varied):
    scenario, tables = varied
    fit = fit_returns(tables, scenario)
    orders = tables["orders"]
    units = orders.groupby("sku")["quantity"].sum()
    for category in {spec.category for spec in scenario.skus.values()}:
        skus = [s for s, spec in scenario.skus.items() if spec.category == category]
        weights = units.reindex(skus).fillna(0).to_numpy()
        truth = np.average([scenario.skus[s].base_return_probability for s in skus],
                           weights=weights)
        fitted = fit.values[f"skus.{skus[0]}.base_return_probability"]
        assert fitted == pytest.approx(truth, abs=0.01), category
        assert all(fit.values[f"skus.{s}.base_return_probability"] == fitted for s in skus)
    assert fit.values["returns.late_multiplier"] == pytest.approx(
        scenario.returns.late_multiplier, abs=0.4)
    for mode in ("us_last_mile", "dedicated_line"):
        spec = scenario.modes[mode]
        assert fit.values[f"modes.{mode}.loss_probability"] == pytest.approx(
            spec.loss_probability, rel=0.4)
        assert fit.values[f"modes.{mode}.damage_probability"] == pytest.approx(
            spec.damage_probability, rel=0.4)
