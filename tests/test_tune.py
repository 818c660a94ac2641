"""``xbsim tune``: optuna's TPE on common random numbers finds a known optimum, gives the same
trials on any backend, and keeps out of an infeasible region."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats
from test_cli import run_cli

from experiments import api
from experiments.errors import ExperimentError
from experiments.report import write_report
from sim.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "tests" / "data" / "single_sku.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"
LEVEL = "policies.replenishment.0.policy.level"

# The single-SKU case as a newsvendor: Poisson(5) orders a day of one unit each, lost when
# there is no stock, a supplier lead time of zero (an order raised in the evening is on the
# shelf before the next day's demand, so every day starts at the base-stock level S) and a
# storage fee on the stock left at the end of the day.
RATE = 5.0
STORAGE_FEE_PER_M3_DAY = 7174.0
NEWSVENDOR = ["horizon.days=120", "horizon.warmup_days=0", "markets.US.stockout=lost_sales",
              f"markets.US.organic_sessions_per_day={RATE / 0.02:g}",
              "suppliers.FACTORY.lead_time_days.value=0",
              f"warehouses.SZ.storage_fee_per_m3_day={STORAGE_FEE_PER_M3_DAY:g}",
              "warehouses.SZ.initial_stock_days=1.4",
              "service.tickets.inquiries_per_1000_sessions=0"]


def newsvendor_level() -> tuple[int, float]:
    """Optimal base-stock level from the critical fractile, independently of the simulator.

    A unit sold earns price x FX less commission and payment fee, less its cost and parcel
    freight (no VAT, duty or returns in this scenario): the underage cost cu. A unit left at
    night pays the storage fee on its volume: the overage cost co. Each day is a newsvendor
    with demand D ~ Poisson(RATE) (the demand over the lead time plus the one-day review
    period), so the level that maximises contribution is the smallest S with
    P(D <= S) >= cu / (cu + co).
    """
    sc = load_scenario(SINGLE, NEWSVENDOR)
    sku, market = sc.skus["ITEM"], sc.markets["US"]
    price = sku.price["US"] * market.fx_to_cny
    underage = price * (1 - sc.finance.commission_rate - sc.finance.payment_fee_rate) \
        - sku.unit_cost_cny - sc.modes["line"].cost_per_unit
    overage = STORAGE_FEE_PER_M3_DAY * sku.volume_m3
    fractile = underage / (underage + overage)
    level = int(stats.poisson.ppf(fractile, RATE))
    return level, fractile


def test_tune_finds_the_newsvendor_base_stock_level_within_one_unit(tmp_path):
    level, fractile = newsvendor_level()
    # the fractile is well inside its step of the CDF, so the optimum is not a near tie
    assert stats.poisson.cdf(level - 1, RATE) + 0.03 < fractile < \
        stats.poisson.cdf(level, RATE) - 0.03
    result = api.tune(SINGLE, {LEVEL: (1, 15)}, "contribution_margin_cny", budget=12,
                      replications=3, overrides=NEWSVENDOR, backend="serial",
                      out=tmp_path / "nv")
    best = result.best[LEVEL]
    assert isinstance(best, int)
    assert abs(best - level) <= 1, (best, level, result.trials)
    # common random numbers: every trial ran on the same seeds
    assert result.samples.groupby("replication")["seed"].nunique().eq(1).all()
    assert set(result.samples["seed"]) == set(result.search_seeds)
    assert not set(result.validation_seeds) & set(result.search_seeds)
    # far better than the scenario's own level (110 units of a 5-a-day item)
    advantage = result.advantage()
    assert advantage["ci_low"] > 0 and advantage["better"] == "best"
    tuned = load_scenario(tmp_path / "nv" / "tuned.yaml")
    assert tuned.policies.replenishment[0].policy.level == best
    manifest = json.loads((tmp_path / "nv" / "manifest.json").read_text())
    assert manifest["kind"] == "tune" and manifest["best"] == {LEVEL: best}
    assert (tmp_path / "nv" / "trials.csv").is_file()
    page = write_report(tmp_path / "nv").read_text()
    assert "Best setting" in page and "Trials" in page


def _tiny_tune(out: Path, backend: str, workers: int | None) -> bytes:
    api.tune(TINY, ["policies.replenishment.0.policy.reorder_point=15:55",
                    "markets.US.organic_sessions_per_day=500:1500"],
             "contribution_margin_cny", budget=6, replications=2, days=15, seed=3,
             batch_trials=3, backend=backend, workers=workers, out=out)
    return (out / "trials.parquet").read_bytes()


def test_trials_are_byte_identical_on_serial_and_two_local_workers(tmp_path):
    serial = _tiny_tune(tmp_path / "serial", "serial", None)
    local = _tiny_tune(tmp_path / "local", "local", 2)
    assert serial == local
    trials = pd.read_parquet(tmp_path / "serial" / "trials.parquet")
    assert trials["policies.replenishment.0.policy.reorder_point"].dtype == "int64"
    assert trials["markets.US.organic_sessions_per_day"].dtype == "int64"


def bowl(params, seed):
    """Best at x = 7 without a constraint; 'load' = x, so load <= 4 keeps x out of [4, 10]."""
    x = params["x"]
    noise = (seed % 1000) / 1000.0
    return {"score": -(x - 7.0) ** 2 + noise, "load": x}


def test_an_infeasible_region_is_avoided():
    free = api.tune(bowl, {"x": (0.0, 10.0)}, "score", budget=16, replications=2,
                    maximize=True, start={"x": 1.0}, backend="serial", seed=5)
    assert abs(free.best["x"] - 7.0) < 1.5
    held = api.tune(bowl, {"x": (0.0, 10.0)}, "score", budget=16, replications=2,
                    maximize=True, constraints=["load<=4"], start={"x": 1.0},
                    backend="serial", seed=5)
    assert held.feasible and held.best["x"] <= 4.0
    assert held.best["x"] > 3.0  # ... and still goes as far as it may
    trials = held.trials
    assert (trials["feasible"] == (trials["load_mean"] <= 4.0)).all()
    assert held.best_trial in set(trials.loc[trials["feasible"], "trial"])


def test_objectives_need_a_known_kpi_and_a_direction(tmp_path):
    with pytest.raises(ExperimentError, match="did you mean contribution_margin_pct"):
        api.tune(TINY, {"markets.US.duty_rate": (0.0, 0.2)}, "contribution_margin",
                 budget=2, replications=2, backend="serial")
    with pytest.raises(ExperimentError, match="--minimize or --maximize"):
        api.tune(TINY, {"markets.US.duty_rate": (0.0, 0.2)}, "days_of_cover",
                 budget=2, replications=2, backend="serial")
    code, _, err = run_cli(["tune", TINY, "--param", "markets.US.duty_rate=0:0.2",
                            "--objective", "fill_rate", "--constraint", "orders>>3",
                            "--budget", "2"])
    assert code == 2 and "--constraint must look like" in err
