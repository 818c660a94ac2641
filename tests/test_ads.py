"""The ad allocation model against closed forms, brute force and a local NLP solver.

Hand-built instances use one week without carry-over, where the model reduces to the
textbook problem: split a daily budget B over channels with response f_c(x) = S_c x^n /
(x^n + K_c^n). For n = 1 the equal-marginal-return condition g_c S_c K_c / (x_c + K_c)^2 = mu
gives x_c = sqrt(K_c S_c g_c / mu) - K_c, with mu found by bisection to spend B.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import load
from scipy.optimize import minimize

from optimize.ads import (
    AdData,
    HillCurve,
    ad_data,
    build_ads_model,
    optimize_ads,
    solve_ads,
    weekly_response,
)
from optimize.solve import Infeasible, Solver
from sim.loader import ScenarioError
from sim.plan import load_plan, save_plan

K = np.array([1000.0, 2000.0, 1500.0])       # half-saturation spend, CNY/day
S = np.array([500.0, 800.0, 600.0])          # max sessions/day
V = np.array([40.0, 30.0, 45.0])             # revenue per paid session, CNY
MARGIN_SHARE = 0.5                           # margin = half of revenue, every channel


def three_channels(exponent: float = 1.0, budget_per_day: float = 2500.0, **changes) -> AdData:
    fields = dict(
        channels=("ppc", "search", "social"), weeks=1,
        half_saturation_cny=K, max_sessions=S, exponent=np.full(3, exponent),
        carryover=np.zeros(3), orders_per_session=V / 200.0,
        revenue_per_session_cny=V, margin_per_session_cny=MARGIN_SHARE * V,
        total_budget_cny=7.0 * budget_per_day, breakpoints=200)
    fields.update(changes)
    return AdData(**fields)


def equal_marginal_return(budget: float) -> tuple[np.ndarray, float]:
    """Closed form for n = 1: the spend per channel and the multiplier mu that spends it."""
    g = MARGIN_SHARE * V
    lo, hi = 1e-9, 1e3
    for _ in range(200):
        mu = 0.5 * (lo + hi)
        x = np.maximum(np.sqrt(K * S * g / mu) - K, 0.0)
        lo, hi = (mu, hi) if x.sum() > budget else (lo, mu)
    return x, mu


def margin_per_day(data: AdData, x: np.ndarray) -> float:
    """Exact margin per day (before spend) of a one-week plan x [channel]."""
    return float(data.margin_per_session_cny @ weekly_response(data, x.reshape(-1, 1))[:, 0])


def slsqp(data: AdData, start: np.ndarray, budget: float, objective=None) -> np.ndarray:
    """A local NLP solution from ``start`` (scipy SLSQP), spend per day per channel."""
    if objective is None:
        def objective(x):
            return margin_per_day(data, x) - x.sum()
    found = minimize(lambda x: -objective(x), start, method="SLSQP",
                     bounds=[(0.0, None)] * len(start),
                     constraints=[{"type": "ineq", "fun": lambda x: budget - x.sum()}],
                     options={"ftol": 1e-12, "maxiter": 500})
    return found.x


# ----------------------------------------------------------------------------- curves
@pytest.mark.parametrize("exponent", [0.5, 0.8, 1.0, 1.8, 3.0])
def test_curve_model_stays_within_its_reported_gap(exponent):
    curve = HillCurve.fit(1000.0, 500.0, exponent, cap=20000.0, count=24)
    a = np.linspace(0.0, 20000.0, 20001)
    error = curve.model(a) - curve.sessions(a)
    assert np.abs(error).max() <= curve.gap() * (1 + 1e-6) + 1e-9
    assert np.all(np.abs(error) <= curve.gap_at(a) * (1 + 1e-6) + 1e-9)
    if exponent <= 1:
        assert error.min() >= -1e-9          # tangents bound a concave curve from above
    assert curve.gap() < 0.01 * 500.0        # 24 points: within 1 % of the maximum


# ----------------------------------------------------------------------------- 1. concave
def test_concave_channels_match_closed_form_equal_marginal_return():
    data = three_channels(1.0)
    out = solve_ads(data)
    x = out.tables["allocation"].to_numpy()[0]
    best, mu = equal_marginal_return(2500.0)
    assert mu > 1.0                                            # the budget binds
    assert x.sum() == pytest.approx(2500.0, rel=1e-6)
    truth = margin_per_day(data, best)
    assert margin_per_day(data, x) == pytest.approx(truth, rel=0.005)
    assert np.abs(x - best).max() < 0.02 * best.max()
    # marginal ROAS: the same in every unbounded channel and equal to the analytic one
    analytic = mu / MARGIN_SHARE             # revenue per CNY where margin per CNY = mu
    marginal = out.tables["channels"]["marginal_roas"].to_numpy()
    assert np.all((x > 0) & (x < data.cap(0)))
    assert marginal == pytest.approx(np.full(3, analytic), rel=0.02)
    assert marginal.max() / marginal.min() < 1.02
    assert out.summary["budget_dual"] == pytest.approx(mu - 1.0, rel=0.02)
    # the outer approximation can only overstate, by at most the reported bound
    model_sessions = out.summary["paid_sessions"] / 7.0
    exact_sessions = weekly_response(data, x.reshape(-1, 1)).sum()
    assert 0 <= model_sessions - exact_sessions <= out.summary["pwl_gap_sessions_per_day"] * 3


def test_concave_n08_matches_scipy_and_default_breakpoints_are_close_enough():
    data = three_channels(0.8, breakpoints=24)
    x = solve_ads(data).tables["allocation"].to_numpy()[0]
    starts = [np.full(3, 2500.0 / 3), np.array([2400.0, 50.0, 50.0]),
              np.array([50.0, 50.0, 2400.0])]
    local = max((slsqp(data, s, 2500.0) for s in starts), key=lambda y: margin_per_day(data, y))
    assert local.sum() == pytest.approx(2500.0, rel=1e-4)
    assert margin_per_day(data, x) == pytest.approx(margin_per_day(data, local), rel=0.005)


def test_bounded_channel_sits_at_its_cap_and_others_share_the_rest():
    best, _ = equal_marginal_return(2500.0)
    cap = 0.5 * best[0]
    data = three_channels(1.0, max_spend_cny_per_day={"ppc": cap})
    out = solve_ads(data)
    x = out.tables["allocation"].to_numpy()[0]
    assert x[0] == pytest.approx(cap)
    marginal = out.tables["channels"]["marginal_roas"].to_numpy()
    assert marginal[0] > 1.05 * max(marginal[1:])              # the capped one earns more
    assert marginal[1] == pytest.approx(marginal[2], rel=0.02)


# ----------------------------------------------------------------------------- 2. S-shape
def s_shaped_pair(budget_per_day: float = 3000.0) -> AdData:
    return AdData(
        channels=("search", "influencer"), weeks=1,
        half_saturation_cny=np.array([1000.0, 2000.0]), max_sessions=np.array([300.0, 1500.0]),
        exponent=np.array([1.0, 2.5]), carryover=np.zeros(2),
        orders_per_session=np.array([0.05, 0.05]),
        revenue_per_session_cny=np.array([8.0, 8.0]), margin_per_session_cny=np.array([4.0, 4.0]),
        total_budget_cny=7.0 * budget_per_day, breakpoints=48)


def test_s_shaped_channel_milp_finds_the_global_optimum_a_local_nlp_misses():
    data = s_shaped_pair()
    out = solve_ads(data)
    assert out.plan.solver["binaries"] > 0
    x = out.tables["allocation"].to_numpy()[0]

    def contribution(y):
        return margin_per_day(data, np.asarray(y)) - float(np.sum(y))

    grid = np.linspace(0.0, 3000.0, 301)
    split = [(a, b) for a in grid for b in grid if a + b <= 3000.0 + 1e-9]
    brute = max(split, key=contribution)
    assert contribution(x) == pytest.approx(contribution(brute), rel=0.005)
    assert contribution(x) >= contribution(brute) - 0.005 * abs(contribution(brute))
    assert x[1] > 1000.0                                        # the S-shaped channel runs
    for start in (np.array([3000.0, 0.0]), np.array([500.0, 0.0])):
        local = slsqp(data, start, 3000.0)
        assert local[1] == pytest.approx(0.0, abs=1e-6)         # stuck at zero
        assert contribution(local) < 0.5 * contribution(x)


# ----------------------------------------------------------------------------- 3. objectives
def test_orders_objective_spends_until_average_roas_meets_target():
    target = 4.0
    data = three_channels(1.0, objective="orders", target_roas=target,
                          total_budget_cny=7.0 * 4 * 50000.0, weeks=4, tail_weeks=2,
                          carryover=np.array([0.3, 0.5, 0.6]))
    out = solve_ads(data)
    s = out.summary
    assert s["spend_cny"] < 0.9 * 7.0 * 4 * 50000.0            # the budget does not bind
    assert s["revenue_cny"] / s["spend_cny"] == pytest.approx(target, rel=1e-6)
    x = out.tables["allocation"].to_numpy().T
    exact_revenue = 7.0 * float(V @ weekly_response(data, x).sum(axis=1))
    assert exact_revenue / s["spend_cny"] >= target * (1 - s["pwl_gap_pct"] / 100) - 1e-9
    tight = solve_ads(dataclasses.replace(data, total_budget_cny=7.0 * 4 * 1000.0))
    assert tight.summary["spend_cny"] == pytest.approx(7.0 * 4 * 1000.0, rel=1e-6)
    assert tight.summary["roas"] > target


def test_marginal_roas_objective_stops_where_marginal_roas_is_the_target():
    target = 5.0
    value = np.array([40.0, 30.0, 10.0])   # social: 10 x 600/1500 = 4 < 5 at its first CNY
    data = three_channels(1.0, objective="marginal_roas", target_roas=target,
                          total_budget_cny=None, revenue_per_session_cny=value,
                          margin_per_session_cny=0.5 * value, weeks=3)
    out = solve_ads(data)
    channels = out.tables["channels"]
    assert channels.loc["social", "spend_cny"] == pytest.approx(0.0, abs=1e-6)
    active = channels[channels["spend_cny"] > 0]
    assert list(active.index) == ["ppc", "search"]
    assert active["marginal_roas"].to_numpy() == pytest.approx([target, target], rel=0.02)
    assert active["marginal_roas_best_week"].to_numpy() == pytest.approx([target, target],
                                                                         rel=0.02)
    # closed form: v S K / (x + K)^2 = target
    closed = np.sqrt(value[:2] * S[:2] * K[:2] / target) - K[:2]
    assert active["spend_cny_per_day"].to_numpy() == pytest.approx(closed, rel=0.02)
    assert out.summary["budget_dual"] == pytest.approx(0.0, abs=1e-9)


def test_budget_is_a_mutable_parameter_of_one_persistent_model():
    data = three_channels(1.0)
    model = build_ads_model(data).model
    solver = Solver()
    first = solver.solve(model).objective
    model.budget = 7.0 * 3000.0
    again = solver.solve(model)
    assert again.handoff_s == 0.0                              # nothing was re-sent
    fresh = Solver().solve(
        build_ads_model(three_channels(1.0, budget_per_day=3000.0)).model)
    assert again.objective == pytest.approx(fresh.objective, rel=1e-9)
    assert again.objective > first


# ----------------------------------------------------------------------------- 4. baseline
def test_baseline_plan_respects_every_limit_and_round_trips(tmp_path):
    scenario = load(
        "baseline",
        "planning.ads.total_budget_cny=1500000",
        "planning.ads.weekly_budget_cny=40000",
        "planning.ads.max_spend_cny_per_day.marketplace_ppc=1000",
        "planning.ads.min_spend_cny_per_day.search_ads=300",
        "planning.ads.min_spend_if_active_cny_per_day.social_ads=800",
        "planning.ads.fixed_spend_cny_per_day.influencer=1500",
    )
    out = optimize_ads(scenario)
    x = out.tables["allocation"]
    assert list(x.columns) == ["marketplace_ppc", "search_ads", "social_ads", "influencer"]
    assert len(x) == 52
    tol = 1e-6
    assert 7 * x.to_numpy().sum() <= 1_500_000 * (1 + tol)
    assert (7 * x.sum(axis=1) <= 40_000 * (1 + tol)).all()
    assert (x["marketplace_ppc"] <= 1000 + tol).all()
    assert (x["search_ads"] >= 300 - tol).all()
    social = x["social_ads"]
    assert ((social <= tol) | (social >= 800 - tol)).all()
    assert np.allclose(x["influencer"], 1500)
    assert (x.to_numpy() >= -tol).all()
    s = out.summary
    assert s["paid_orders_daily"] == pytest.approx(s["paid_orders_hill"], rel=0.02)
    assert s["pwl_error_pct"] <= s["pwl_gap_pct"] + 1e-9
    for suffix in ("yaml", "json"):
        path = save_plan(out.plan, tmp_path / f"ads.{suffix}")
        assert load_plan(path) == out.plan
    lines = {(line.week, line.channel): line.spend_cny_per_day for line in out.plan.ad_spend}
    assert lines[(48, "search_ads")] == pytest.approx(x.loc[48, "search_ads"])


def test_baseline_default_plan_beats_the_current_schedule():
    scenario = load("baseline")
    data = ad_data(scenario)
    assert data.weeks == 52 and data.tail_weeks == 8
    assert data.total_budget_cny == pytest.approx(7 * data.current_spend_cny.sum())
    out = optimize_ads(scenario)
    s = out.summary
    assert s["spend_cny"] <= data.total_budget_cny * (1 + 1e-9)
    assert s["contribution_hill_cny"] > s["current_contribution_cny"]
    assert out.plan.kind == "ads" and out.plan.weeks == 52
    assert set(out.tables) == {"allocation", "channels", "curves", "marginal_roas"}
    report = out.report
    assert report.build_s > 0 and report.highs_s > 0


# ----------------------------------------------------------------------------- 5. infeasible
def test_minimum_spends_above_the_budget_are_explained_in_words(tiny):
    scenario = load("tiny", "planning.ads.total_budget_cny=500000",
                    "planning.ads.min_spend_cny_per_day.ppc=10000")
    with pytest.raises(Infeasible) as caught:
        optimize_ads(scenario)
    message = str(caught.value)
    # 8 weeks x 7 days x 10,000 CNY = 560,000 CNY against 500,000
    assert "total ad budget short by 60,000 CNY" in message
    assert "560,000 CNY over 8 weeks" in message
    assert "HiGHS" not in message and "constraint" not in message


def test_contradictory_channel_limits_are_explained_in_words():
    data = three_channels(1.0, min_spend_cny_per_day={"ppc": 900},
                          max_spend_cny_per_day={"ppc": 500})
    with pytest.raises(Infeasible, match="ppc: minimum spend 900 CNY/day is above its "
                                         "maximum 500 CNY/day"):
        solve_ads(data)


def test_weekly_budget_shortfall_names_the_week():
    data = three_channels(1.0, weeks=2, weekly_budget_cny=5000.0,
                          fixed_spend_cny_per_day={"search": 1000.0})
    with pytest.raises(Infeasible, match=r"week 1 ad budget short by 2,000 CNY"):
        solve_ads(data)


def test_model_components_mirror_the_docstring():
    model = build_ads_model(s_shaped_pair()).model
    for name in ("spend", "adstock", "sessions", "fill", "filled", "carry_over", "tangent",
                 "on_segments", "segment_sessions", "total_budget", "budget"):
        assert hasattr(model, name), name
    assert isinstance(model.budget, pyo.Param) and model.budget.mutable


# ----------------------------------------------------------------------------- 6. calendar
def exact_revenue(data: AdData, x: np.ndarray, value: np.ndarray) -> float:
    """Revenue (or margin, with ``value`` per session) of a plan x [channel, week], written
    out independently of the module: weekly carry-over L = r^7, calendar M[c,w], Hill."""
    lam = np.asarray(data.carryover, dtype=float) ** 7
    n, k = data.exponent, data.half_saturation_cny
    level = data.carry_in.copy()
    total = 0.0
    for w in range(data.total_weeks):
        spend = x[:, w] if w < data.weeks else 0.0
        level = (1 - lam) * spend + lam * level
        share = level**n / (level**n + k**n)
        total += 7.0 * float(value @ (data.appetite[:, w] * data.max_sessions * share))
    return total


def peak_fortnight(**changes) -> AdData:
    """Two weeks, the second a x1.6 peak, carry-over into a two-week tail (no peak)."""
    fields = dict(weeks=2, tail_weeks=2, carryover=np.array([0.3, 0.5, 0.6]),
                  calendar=np.tile([1.0, 1.6, 1.0, 1.0], (3, 1)), breakpoints=24,
                  total_budget_cny=2 * 7.0 * 2500.0)
    return three_channels(1.0, **(fields | changes))


def test_paid_peak_pulls_spend_into_the_peak_week_and_reaches_the_optimum():
    data = peak_fortnight()
    out = solve_ads(data)
    x = out.tables["allocation"].to_numpy().T                  # [channel, week]
    g = data.margin_per_session_cny
    budget = data.total_budget_cny / 7.0

    def contribution(flat):
        y = flat.reshape(3, 2)
        return exact_revenue(data, y, g) - 7.0 * y.sum()

    starts = [np.full(6, budget / 6), np.tile([0.2, 0.8], 3) * budget / 3,
              np.tile([0.8, 0.2], 3) * budget / 3]
    found = [minimize(lambda f: -contribution(f), s, method="SLSQP",
                      bounds=[(0.0, None)] * 6,
                      constraints=[{"type": "ineq", "fun": lambda f: budget - f.sum()}],
                      options={"ftol": 1e-12, "maxiter": 1000}).x for s in starts]
    best = max(found, key=contribution).reshape(3, 2)
    assert x[:, 1].sum() > 1.3 * x[:, 0].sum()                 # money moves into the peak
    assert best[:, 1].sum() > 1.3 * best[:, 0].sum()
    assert contribution(x.ravel()) >= contribution(best.ravel()) * (1 - 0.005)
    assert np.abs(x - best).sum() <= 0.02 * best.sum()
    assert out.summary["allocation_change_pct"] < 0.5
    # without the peak the same budget is spread almost evenly
    flat = solve_ads(peak_fortnight(calendar=None)).tables["allocation"].to_numpy().T
    assert flat[:, 1].sum() < 1.15 * flat[:, 0].sum()


def test_marginal_roas_is_the_derivative_of_the_exact_revenue_at_the_plan():
    data = peak_fortnight()
    out = solve_ads(data)
    x = out.tables["allocation"].to_numpy().T
    v = data.revenue_per_session_cny
    reported = out.tables["channels"]["marginal_roas"].to_numpy()
    h = 1.0                                                     # CNY over the horizon
    for c in range(3):
        direction = np.zeros_like(x)
        direction[c] = x[c] / x[c].sum() * h / 7.0               # CNY/day, the plan's timing
        slope = (exact_revenue(data, x + direction, v)
                 - exact_revenue(data, x - direction, v)) / (2 * h)
        assert reported[c] == pytest.approx(slope, rel=0.01)
    week = out.tables["marginal_roas"].to_numpy().T
    direction = np.zeros_like(x)
    direction[0, 1] = h / 7.0
    slope = (exact_revenue(data, x + direction, v) - exact_revenue(data, x - direction, v)) / 2
    assert week[0, 1] == pytest.approx(slope, rel=0.01)


def test_switched_off_s_shaped_channel_reports_its_true_zero_derivative():
    out = solve_ads(s_shaped_pair(budget_per_day=400.0))
    channels = out.tables["channels"]
    assert channels.loc["influencer", "spend_cny"] == pytest.approx(0.0, abs=1e-6)
    assert channels.loc["influencer", "marginal_roas"] == 0.0   # n = 2.5: f'(0) = 0
    assert channels.loc["search", "marginal_roas"] > 1.0


def test_scenario_peak_lifts_the_ad_models_appetite_and_the_simulated_paid_sessions(tiny):
    data = ad_data(tiny)
    # tiny: January seasonality 1, a x2 flash sale on Jan 20-22 (days 19-21: weeks 3 and 4)
    assert data.calendar[0, 0] == pytest.approx(1.0)
    assert data.calendar[0, 2] == pytest.approx(1.0 + 2.0 / 7.0)
    assert data.calendar[0, 3] == pytest.approx(1.0 + 1.0 / 7.0)
    off = ad_data(load("tiny", "ad_channels.ppc.follows_calendar=false"))
    assert np.allclose(off.calendar, 1.0)
    from sim.calendar import Timeline
    from sim.demand import DemandModel, paid_sessions
    from sim.rng import Streams
    markets, skus = list(tiny.markets), list(tiny.skus)
    timeline = Timeline.build(tiny, markets, list(tiny.modes))
    model = DemandModel(tiny, markets, skus, timeline, Streams(0))
    flat = paid_sessions(tiny, ["ppc"], markets, model.ad_spend)    # no calendar
    lift = model.paid_sessions / np.where(flat > 0, flat, np.nan)
    assert np.nanmax(np.abs(lift[0, :, :19] - 1.0)) < 1e-12
    assert lift[0, :, 19:22] == pytest.approx(2.0, rel=1e-12)    # the flash sale
    assert np.nanmax(np.abs(lift[0, :, 22:31] - 1.0)) < 1e-12


def test_weekly_carryover_and_half_saturation_simulate_as_daily_carryover_and_cpc(tiny):
    from sim.model import simulate
    daily = load("tiny", f"ad_channels.ppc.carryover={0.5 ** (1 / 7)!r}")
    weekly = load("tiny", "ad_channels.ppc.carryover=null",
                  "ad_channels.ppc.weekly_carryover=0.5",
                  "ad_channels.ppc.cost_per_click=null",
                  "ad_channels.ppc.half_saturation_spend_per_week=8400")  # 0.8 x 1500 x 7
    a, b = daily.ad_channels["ppc"], weekly.ad_channels["ppc"]
    assert a.daily_carryover == b.daily_carryover
    assert a.half_saturation_spend_per_day == b.half_saturation_spend_per_day
    first, second = simulate(daily, seed=3, days=60), simulate(weekly, seed=3, days=60)
    assert first.summary == second.summary
    with pytest.raises(ScenarioError, match="exactly one of carryover"):
        load("tiny", "ad_channels.ppc.weekly_carryover=0.5")
    with pytest.raises(ScenarioError, match="exactly one of cost_per_click"):
        load("tiny", "ad_channels.ppc.cost_per_click=null")
