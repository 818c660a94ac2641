"""Ad budget allocation: how much to spend on each paid channel, week by week.

A seller buys sessions from a few paid channels: marketplace PPC, search ads, social ads,
influencers. Every channel saturates (the next yuan buys fewer sessions than the last) and
lingers (a post seen today still sells next week), so the question is not only how much to
spend but where and when. The model follows the simulator's demand model (``sim.demand``):
a Hill curve of carried-over spend gives paid sessions, sessions convert at the market's
rate times the channel's multiplier, and orders bring revenue and margin.

Indices: c ad channel, w week. Weeks 1..W are the horizon (W = horizon days // 7); weeks
W+1..W+T are a tail with no spend, so the carry-over of late spend is valued. Money in CNY.

    x[c,w]  spend, CNY per day (the week's average), w <= W         m.spend
    a[c,w]  adstock (carried-over spend), CNY per day               m.adstock
    r[c,w]  paid sessions per day                                   m.sessions
    y[c,w]  1 if the channel runs in week w (min spend if active)   m.use_channel
    d[c,w,i] share of segment i of an S-shaped curve in use         m.fill
    z[c,w,i] 1 if segment i is full                                  m.filled

    carry-over   a[c,w] = (1 - L_c) x[c,w] + L_c a[c,w-1],  L_c = r_c ** 7 (r_c the daily
                 carry-over; a weekly_carryover alpha gives L_c = alpha exactly),
                 a[c,0] = the current schedule's spend per day          m.carry_over
    response     f_c(a) = S_c a^n / (a^n + K_c^n),  K_c = the half-saturation spend x FX
                 (cost_per_click x S_c, or half_saturation_spend_per_week / 7)
    calendar     M[c,w] = sum_m share_cm (1/7) sum_{t in week w} season_m(t), season_m(t) =
                 seasonality(month of t) x peaks of market m on day t (sim.demand); M = 1 for
                 a channel with follows_calendar false. Week w's sessions are M[c,w] f_c(a):
      n_c <= 1:  r[c,w] <= M[c,w] (f_c(b) + f_c'(b) (a[c,w] - b))  at each tangent b  m.tangent
      n_c > 1:   a[c,w] = sum_i d[c,w,i] (b_i - b_i-1)                          m.on_segments
                 r[c,w] <= M[c,w] sum_i d[c,w,i] (f_c(b_i) - f_c(b_i-1))       m.segment_sessions
                 z[c,w,i] <= d[c,w,i];  d[c,w,i] <= z[c,w,min(i-1, p_c-1)] (i >= 2)
                 (m.filled_means_full, m.fill_in_order), p_c = the steepest segment
    budget       sum_{c,w<=W} 7 x[c,w] <= B        m.total_budget (B: mutable m.budget)
                 sum_c 7 x[c,w] <= B_week          m.week_budget (if set; m.weekly_budget)
    spend        lo_c <= x[c,w] <= hi_c (min/max; a fixed spend sets lo = hi);
                 m_c y[c,w] <= x[c,w] <= hi_c y[c,w]  (m.min_if_active, m.off_if_inactive)
    value        orders O = sum 7 o_c r, revenue R = sum 7 v_c r, margin G = sum 7 g_c r,
                 summed over horizon and tail; spend X = sum 7 x
    objective    contribution:   max G - X
                 orders:         max O  s.t.  R - rho X >= 0                  m.roas_floor
                 marginal_roas:  max R - rho X  (spend until marginal ROAS = rho)

Per paid session, o_c = multiplier_c sum_m share_cm conv_m orders (conv_m: the market's
conversion at its average SKU mix, ``static_conversion`` weighted by ``popularity_shares``);
v_c and g_c weight each market's revenue and margin per order the same way. Revenue per
order is the price ex VAT (as the simulator's ROAS counts it); margin per order is the net
revenue (ex VAT, less commission and payment fee, which the simulator charges on the
VAT-inclusive price) less the unit cost, the fulfilment mode's freight per unit and the
warehouse's pick-and-pack fee. Main-leg freight, duty and returns are left out: this is the
margin a marketer compares ad spend against, not the full landed cost.

Approximations, each measured and reported:

- Weekly carry-over. The simulator carries spend over day by day with rate r; holding a
  week's spend constant, the end-of-week adstock obeys the recursion above with
  L = r^7 exactly. The model applies the Hill curve to that end-of-week value for the whole
  week, which shifts response a few days earlier; both recursions conserve total adstock
  (sum a = sum x). ``daily_response`` replays a plan through the daily recursion and the
  summary reports the difference (``paid_orders_daily``).
- Concave curves (n <= 1) are bounded from above by tangents (an outer approximation), so
  the model can only overstate sessions, by at most the gap between the cut envelope and the
  curve. Its maximum, exact at the tangent intersections, is reported per channel
  (``pwl_gap_sessions_per_day``); the gap of the piece each week's adstock lies on, summed
  and divided by the plan's sessions, bounds the plan's error (``pwl_gap_pct``), next to the
  error actually made (``pwl_error_pct``, the model against the exact curve).
- S-shaped curves (n > 1) are interpolated by chords through breakpoints from 0, with the
  incremental (delta) formulation: segments up to the steepest carry binaries that force
  them to fill in order; past it the slopes fall, so the LP fills them in order by itself.
  HiGHS has no SOS constraints, hence the binaries.
- Breakpoints are placed greedily where the gap is largest, over [0, the spend that buys
  ``SATURATION`` of the channel's maximum sessions]; spend is capped there. Then they are
  refined: points (tangents or chord ends) are added at the adstocks the plan chose, where
  the model is furthest from the curve, and the model re-solved, until the allocation x[c,w]
  moves by less than 0.5 % (sum |x_new - x_old| / sum x_old) or after 6 re-solves. The
  summary reports ``refinements`` and the last ``allocation_change_pct``.
- Calendar. The simulator scales a channel's maximum sessions by season_m(t) day by day;
  the model uses its weekly mean M[c,w], so within a week response is moved between days
  (``daily_response`` also applies the weekly M). A channel reaching markets with
  different peaks gets one value per session v_c: exact when its markets share a calendar
  (the baseline's peaks cover all markets), an approximation otherwise.

Marginal ROAS per channel is read from the exact Hill curves at the plan, not from a segment
slope or a dual: one more CNY in channel c in week w earns
mr[c,w] = v_c sum_{u >= w} (1 - L_c) L_c^(u - w) M[c,u] f_c'(a[c,u])   (``marginal_revenue``,
the 'marginal_roas' table), and the channel's marginal ROAS is that CNY spent the way the
plan spends it, sum_w (x[c,w] / sum_u x[c,u]) mr[c,w] (``marginal_roas``; evenly over the
weeks for a channel that is off, so an S-shaped channel at zero adstock reports
f'(0) = 0). ``marginal_roas_best_week`` is max_w mr[c,w]. The dual of the total budget row
(on the piecewise-linear model; binaries fixed for a MILP) is reported as ``budget_dual``.
Margins per session are assumed positive (the model may leave sessions unused, not pay to
have fewer).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimize.ads_stock import (
    DAYS,
    StockLimits,
    expected_sales,
    route_margins,
    serving_routes,
    stock_rows,
)
from optimize.outcome import Outcome
from optimize.solve import (
    BuiltModel,
    Infeasible,
    SolveOptions,
    Solver,
    SolveReport,
    solve_or_explain,
)
from sim import economics
from sim.calendar import Timeline
from sim.demand import (
    ad_spend_schedule,
    calendar_multiplier,
    hill,
    popularity_shares,
    static_conversion,
)
from sim.loader import scenario_hash
from sim.model import simulate
from sim.network import Network, compile_network
from sim.plan import AdSpendLine, Plan, PlanFileError, load_plan, with_ads
from sim.scenario import Scenario
from sim.state import OpeningState

SATURATION = 0.98
"""Curves are modelled up to the spend that buys this share of a channel's maximum."""
ALLOCATION_TOL = 0.005
"""Breakpoints are refined until the allocation moves by less than this between solves."""
MAX_REFINEMENTS = 6
REFINE_POINTS = 12
"""Breakpoints added per curve and refinement, at most (at the plan's adstocks)."""
DEFAULT_OPTIONS = SolveOptions()
AdObjective = Literal["contribution", "orders", "marginal_roas"]


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class AdData:
    """Everything the ad model needs, one entry per channel; money in CNY, per day.

    Build it from a scenario with ``ad_data``, or by hand for a hand-solvable instance.
    ``total_budget_cny`` None means no total budget.
    """

    channels: tuple[str, ...]
    weeks: int
    half_saturation_cny: np.ndarray
    """K_c, CNY per day: at this adstock the channel gives half its maximum sessions."""
    max_sessions: np.ndarray
    """S_c, paid sessions per day at saturation."""
    exponent: np.ndarray
    """n_c: <= 1 concave, > 1 S-shaped."""
    carryover: np.ndarray
    """Daily carry-over rate r_c of the adstock (the weekly rate is r_c ** 7)."""
    orders_per_session: np.ndarray
    """o_c, orders per paid session."""
    revenue_per_session_cny: np.ndarray
    """v_c, revenue (ex VAT) per paid session."""
    margin_per_session_cny: np.ndarray
    """g_c, margin (before ad spend) per paid session."""
    carry_in_cny: np.ndarray | None = None
    """a[c,0], adstock before week 1; None means none."""
    calendar: np.ndarray | None = None
    """M[c,w] [channel, week incl. tail]: the week's mean calendar multiplier of the channel's
    maximum sessions (seasonality x peaks of its markets, weighted by its market shares);
    None means 1 every week."""
    current_spend_cny: np.ndarray | None = None
    """[channel, week] the scenario's own schedule, for comparison; None means zero."""
    tail_weeks: int = 0
    objective: AdObjective = "contribution"
    total_budget_cny: float | None = None
    weekly_budget_cny: float | None = None
    target_roas: float = 3.0
    min_spend_cny_per_day: Mapping[str, float] = field(default_factory=dict)
    max_spend_cny_per_day: Mapping[str, float] = field(default_factory=dict)
    min_spend_if_active_cny_per_day: Mapping[str, float] = field(default_factory=dict)
    fixed_spend_cny_per_day: Mapping[str, float] = field(default_factory=dict)
    breakpoints: int = 24
    stock: StockLimits | None = None
    """What the logistics deliver, for stock-aware planning (``optimize.ads_stock``)."""
    scenario: str = ""
    scenario_hash: str = ""

    def __post_init__(self) -> None:
        if self.weeks < 1:
            raise ValueError("the ad model needs a horizon of at least one week")
        if self.stock is not None and self.objective != "contribution":
            raise ValueError("stock-aware planning values sales at their margin: it needs "
                             "objective 'contribution'")
        if self.stock is not None and self.stock.weeks != self.weeks:
            raise ValueError(f"stock limits cover {self.stock.weeks} weeks, the ad model "
                             f"{self.weeks}")
        if self.objective not in ("contribution", "orders", "marginal_roas"):
            raise ValueError(f"unknown objective '{self.objective}'")
        if self.breakpoints < 3:
            raise ValueError('"breakpoints" must be >= 3.')
        if self.calendar is not None and np.shape(self.calendar) != (len(self.channels),
                                                                     self.total_weeks):
            raise ValueError("calendar must be [channel, week incl. tail]: shape "
                             f"({len(self.channels)}, {self.total_weeks})")
        for name in ("min_spend_cny_per_day", "max_spend_cny_per_day",
                     "min_spend_if_active_cny_per_day", "fixed_spend_cny_per_day"):
            for channel in getattr(self, name):
                if channel not in self.channels:
                    raise ValueError(f"{name}: unknown ad channel '{channel}'")

    @property
    def decay(self) -> np.ndarray:
        """L_c, the weekly carry-over rate."""
        return np.asarray(self.carryover, dtype=float) ** DAYS

    @property
    def appetite(self) -> np.ndarray:
        """M[c,w] [channel, week incl. tail], ones without a calendar."""
        if self.calendar is None:
            return np.ones((len(self.channels), self.total_weeks))
        return np.asarray(self.calendar, dtype=float)

    @property
    def carry_in(self) -> np.ndarray:
        if self.carry_in_cny is None:
            return np.zeros(len(self.channels))
        return np.asarray(self.carry_in_cny, dtype=float)

    @property
    def total_weeks(self) -> int:
        return self.weeks + self.tail_weeks

    def lower(self, c: int) -> float:
        """Least spend per day of channel c in every horizon week."""
        name = self.channels[c]
        if name in self.fixed_spend_cny_per_day:
            return float(self.fixed_spend_cny_per_day[name])
        return float(self.min_spend_cny_per_day.get(name, 0.0))

    def cap(self, c: int) -> float:
        """Top of the modelled curve (CNY/day): saturation, or more if forced above it."""
        n, k = float(self.exponent[c]), float(self.half_saturation_cny[c])
        saturated = k * (SATURATION / (1.0 - SATURATION)) ** (1.0 / n)
        if_active = self.min_spend_if_active_cny_per_day.get(self.channels[c], 0.0)
        return max(saturated, self.lower(c), if_active, float(self.carry_in[c]), 1.0)

    def upper(self, c: int) -> float:
        """Most spend per day of channel c in a horizon week."""
        name = self.channels[c]
        if name in self.fixed_spend_cny_per_day:
            return float(self.fixed_spend_cny_per_day[name])
        return min(float(self.max_spend_cny_per_day.get(name, np.inf)), self.cap(c))

    def min_if_active(self, c: int) -> float:
        """Spend per day below which the channel must be off (0: no such rule)."""
        name = self.channels[c]
        if name in self.fixed_spend_cny_per_day:
            return 0.0
        least = float(self.min_spend_if_active_cny_per_day.get(name, 0.0))
        return least if least > self.lower(c) else 0.0


def order_values(scenario: Scenario, network: Network) -> pd.DataFrame:
    """Per market: orders per converting session, and revenue and margin per order in CNY.

    At each market's average SKU mix of orders (popularity x conversion), with
    1 + extra_units_per_order_mean units per order. Revenue is ex VAT; margin is the
    market's route margin per unit (``optimize.ads_stock.route_unit_margin``) per order.
    """
    markets = network.markets
    conversion = order_conversion(scenario, network)
    per_session = conversion.sum(axis=1)
    mix = np.divide(conversion, per_session[:, None], out=np.zeros_like(conversion),
                    where=per_session[:, None] > 0)
    units = 1.0 + scenario.conversion.extra_units_per_order_mean
    catalog, fx = network.catalog, network.fx_to_cny
    margin, _ = route_margins(scenario, network)
    rows = []
    for i, m in enumerate(markets):
        market = scenario.markets[m]
        ex_vat = economics.price_ex_vat(catalog.price[i] * fx(market.currency), market.vat_rate)
        rows.append({
            "market": m,
            "orders_per_session": per_session[i],
            "revenue_per_order_cny": units * mix[i] @ ex_vat,
            "margin_per_order_cny": units * mix[i] @ margin[:, i],
        })
    return pd.DataFrame(rows).set_index("market")


def order_conversion(scenario: Scenario, network: Network) -> np.ndarray:
    """Orders of each SKU per converting session [market, sku]: conversion x popularity."""
    return (static_conversion(scenario, network.markets, network.skus)
            * popularity_shares(scenario, network.skus))


def ad_data(scenario: Scenario, state: OpeningState | None = None) -> AdData:
    """The ad model's data from a scenario: channels, curves in CNY, value per session,
    the current schedule and the ``planning.ads`` settings; the carry-over entering week 1
    (and, for stock-aware planning, the stock) from ``state`` when one is given.

    The default total budget is the current schedule's spend over the modelled weeks; the
    'marginal_roas' objective has no total budget unless one is set.
    """
    channels = list(scenario.ad_channels)
    if not channels:
        raise ValueError("the scenario has no ad channels to plan")
    weeks = scenario.horizon.days // DAYS
    planning = scenario.planning.ads
    specs = [scenario.ad_channels[c] for c in channels]
    network = compile_network(scenario)
    fx = np.array([network.fx_to_cny(s.currency) for s in specs])
    values = order_values(scenario, network)
    shares = np.array([[s.market_shares.get(m, 0.0) for m in values.index] for s in specs])
    multiplier = np.array([s.conversion_multiplier for s in specs])
    orders = shares * values["orders_per_session"].to_numpy()[None, :] * multiplier[:, None]
    schedule = ad_spend_schedule(scenario, channels, weeks * DAYS) * fx[:, None]
    current = schedule.reshape(len(channels), weeks, DAYS).mean(axis=2)
    base = np.array([scenario.policies.ad_spend[c].spend_per_day
                     if c in scenario.policies.ad_spend else 0.0 for c in channels]) * fx
    if state is not None:
        for line in state.adstock:
            base[channels.index(line.channel)] = line.cny_per_day
    budget = planning.total_budget_cny
    total = weeks + planning.tail_weeks
    timeline = Timeline.build(scenario, list(values.index), list(scenario.modes))
    season = calendar_multiplier(timeline)[:, : total * DAYS]
    weekly = season.reshape(len(values.index), total, DAYS).mean(axis=2)   # [market, week]
    follows = np.array([s.follows_calendar for s in specs])
    calendar = np.where(follows[:, None], shares @ weekly, 1.0)
    if budget is None and planning.objective != "marginal_roas":
        budget = float(current.sum() * DAYS)
    data = AdData(
        channels=tuple(channels),
        weeks=weeks,
        half_saturation_cny=np.array([s.half_saturation_spend_per_day for s in specs]) * fx,
        max_sessions=np.array([s.max_sessions_per_day for s in specs], dtype=float),
        exponent=np.array([s.hill_exponent for s in specs]),
        carryover=np.array([s.daily_carryover for s in specs]),
        orders_per_session=orders.sum(axis=1),
        revenue_per_session_cny=orders @ values["revenue_per_order_cny"].to_numpy(),
        margin_per_session_cny=orders @ values["margin_per_order_cny"].to_numpy(),
        carry_in_cny=base,
        calendar=calendar,
        current_spend_cny=current,
        tail_weeks=planning.tail_weeks,
        objective=planning.objective,
        total_budget_cny=budget,
        weekly_budget_cny=planning.weekly_budget_cny,
        target_roas=planning.target_roas,
        min_spend_cny_per_day=dict(planning.min_spend_cny_per_day),
        max_spend_cny_per_day=dict(planning.max_spend_cny_per_day),
        min_spend_if_active_cny_per_day=dict(planning.min_spend_if_active_cny_per_day),
        fixed_spend_cny_per_day=dict(planning.fixed_spend_cny_per_day),
        breakpoints=planning.breakpoints,
        scenario=scenario.name,
        scenario_hash=scenario_hash(scenario),
    )
    if not planning.stock_aware:
        return data
    units = (1.0 + scenario.conversion.extra_units_per_order_mean) * np.einsum(
        "cm,ms->csm", shares * multiplier[:, None], order_conversion(scenario, network))
    return dataclasses.replace(data, stock=stock_limits(scenario, network, data, units, state))


def stock_limits(scenario: Scenario, network: Network, data: AdData,
                 paid_units: np.ndarray, state: OpeningState | None = None) -> StockLimits:
    """The stock-aware model's limits (``optimize.ads_stock``): the scenario's logistics
    simulated ``planning.ads.stock_scenarios`` times with its current ad schedule (from
    ``state``, if given); the organic demand is the simulated demand less what that
    schedule's paid sessions brought. ``paid_units`` [channel, sku, market] are units
    demanded per paid session."""
    planning = scenario.planning.ads
    if scenario.plan is not None and load_plan(scenario.plan).takes("routing"):
        raise PlanFileError(f"{scenario.plan}: the plan takes over routing; stock-aware ad "
                            "planning follows the scenario's fulfilment routes")
    locations, primary, fallback = serving_routes(network)
    where = [network.warehouses.index(name) for name in locations]
    weeks = data.weeks
    current = (np.zeros((len(data.channels), weeks)) if data.current_spend_cny is None
               else np.asarray(data.current_spend_cny, dtype=float))
    paid_now = DAYS * np.einsum("csm,cw->smw", paid_units,
                                daily_response(data, current)[:, :weeks])
    organic, supply = [], []
    for k in range(planning.stock_scenarios):
        trace = simulate(scenario, planning.stock_seed + k, state=state).weekly
        assert trace is not None
        organic.append(np.maximum(trace.demand[:weeks].transpose(2, 1, 0) - paid_now, 0.0))
        flow = trace.supply()[:weeks][:, where].transpose(2, 1, 0).astype(float)
        flow[:, :, 0] += trace.opening[where].T
        supply.append(flow)
    margin, rescue = route_margins(scenario, network)
    return StockLimits(locations=locations, primary=primary, fallback=fallback,
                       organic=np.array(organic), supply=np.array(supply),
                       paid_units=paid_units, margin=margin, rescue_margin=rescue)


# ----------------------------------------------------------------------------- curves
@dataclass(frozen=True)
class HillCurve:
    """One channel's paid sessions per day f(a) = S a^n / (a^n + K^n) and its linear model.

    Concave curves (n <= 1) are modelled by the tangents at ``points`` (from above);
    S-shaped curves (n > 1) by the chords between ``points`` (which start at 0).
    """

    half_saturation_cny: float
    max_sessions: float
    exponent: float
    points: np.ndarray

    @property
    def concave(self) -> bool:
        return self.exponent <= 1.0

    def sessions(self, adstock) -> np.ndarray:
        """The exact curve (the simulator's ``hill``), sessions per day."""
        a = np.atleast_1d(np.asarray(adstock, dtype=float))
        return self.max_sessions * hill(a[None, :], np.array([self.half_saturation_cny]),
                                        np.array([self.exponent]))[0]

    def slope(self, adstock) -> np.ndarray:
        """f'(a), sessions per CNY of daily spend."""
        a = np.maximum(np.atleast_1d(np.asarray(adstock, dtype=float)), 0.0)
        n, k = self.exponent, self.half_saturation_cny
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self.max_sessions * n * a ** (n - 1) * k**n / (a**n + k**n) ** 2
        return np.nan_to_num(d, nan=0.0, posinf=0.0)

    def tangents(self) -> tuple[np.ndarray, np.ndarray]:
        """(intercept, slope) of the tangent at each point."""
        slope = self.slope(self.points)
        return self.sessions(self.points) - slope * self.points, slope

    def model(self, adstock) -> np.ndarray:
        """What the optimiser believes: the tangent envelope or the chord interpolation."""
        a = np.atleast_1d(np.asarray(adstock, dtype=float))
        if self.concave:
            intercept, slope = self.tangents()
            return np.min(intercept[:, None] + slope[:, None] * a[None, :], axis=0)
        return np.interp(a, self.points, self.sessions(self.points))

    def steepest_segment(self) -> int:
        """p: 1-based index of the chord with the largest slope (S-shaped curves)."""
        rise = np.diff(self.sessions(self.points))
        return int(np.argmax(rise / np.diff(self.points))) + 1

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """The model's linear pieces: their edges (CNY/day) and the largest |model - curve|
        on each, in sessions per day.

        Tangent pieces meet at kinks; on a piece the envelope minus a concave curve is
        convex, so its largest gap lies at one of the piece's kinks: the figure is exact.
        Chords: the largest of 65 points per segment, refined around the worst.
        """
        top = float(self.points[-1])
        if self.concave:
            intercept, slope = self.tangents()
            with np.errstate(divide="ignore", invalid="ignore"):
                kinks = (intercept[1:] - intercept[:-1]) / (slope[:-1] - slope[1:])
            edges = np.concatenate([[0.0], np.clip(np.nan_to_num(kinks), 0.0, top), [top]])
            at_edges = self.model(edges) - self.sessions(edges)
            return edges, np.maximum(at_edges[:-1], at_edges[1:])
        gaps = []
        for lo, hi in zip(self.points[:-1], self.points[1:], strict=True):
            a = np.linspace(lo, hi, 65)
            worst = int(np.argmax(np.abs(self.model(a) - self.sessions(a))))
            a = np.linspace(a[max(worst - 1, 0)], a[min(worst + 1, 64)], 65)
            gaps.append(np.max(np.abs(self.model(a) - self.sessions(a))))
        return self.points, np.array(gaps)

    def gap(self) -> float:
        """Largest |model - curve| over [0, the last point], sessions per day."""
        return float(self.segments()[1].max())

    def gap_at(self, adstock) -> np.ndarray:
        """The largest gap of the piece each adstock lies on: a bound on the model's error
        there, sessions per day."""
        edges, gaps = self.segments()
        piece = np.searchsorted(edges, np.asarray(adstock, dtype=float), side="right") - 1
        return gaps[np.clip(piece, 0, len(gaps) - 1)]

    @classmethod
    def fit(cls, half_saturation_cny: float, max_sessions: float, exponent: float,
            cap: float, count: int) -> HillCurve:
        """Place ``count`` points on [0, cap], each where the current model is worst."""
        k, n = half_saturation_cny, exponent
        share_at_cap = float(hill(np.array([[cap]]), np.array([k]), np.array([n]))[0, 0])
        q = np.linspace(0.0, share_at_cap, 2001)[:-1]
        with np.errstate(divide="ignore"):
            along_curve = k * (q / (1.0 - q)) ** (1.0 / n) if k > 0 else q * 0
        grid = np.unique(np.clip(np.concatenate([along_curve, np.linspace(0, cap, 2001)]),
                                 0.0, cap))
        shape = cls(k, max_sessions, n, np.array([0.0, cap]))
        exact = shape.sessions(grid)
        if shape.concave:
            first = grid[1] if n < 1 else 0.0
            points = [first, cap]
            icpt, slope = cls(k, max_sessions, n, np.array(points)).tangents()
            envelope = np.min(icpt[:, None] + slope[:, None] * grid[None, :], axis=0)
            while len(points) < count:
                worst = int(np.argmax(envelope - exact))
                if envelope[worst] - exact[worst] <= 1e-12 * max(max_sessions, 1.0):
                    break
                b = float(grid[worst])
                s = float(shape.slope(b)[0])
                points.append(b)
                envelope = np.minimum(envelope, shape.sessions(b)[0] + s * (grid - b))
        else:
            points = [0.0, cap]
            while len(points) < count:
                ordered = np.sort(points)
                error = np.abs(np.interp(grid, ordered, shape.sessions(ordered)) - exact)
                worst = int(np.argmax(error))
                if error[worst] <= 1e-12 * max(max_sessions, 1.0):
                    break
                points.append(float(grid[worst]))
        return cls(k, max_sessions, n, np.unique(np.array(points)))


def response_curves(data: AdData) -> dict[str, HillCurve]:
    return {name: HillCurve.fit(float(data.half_saturation_cny[c]),
                                float(data.max_sessions[c]), float(data.exponent[c]),
                                data.cap(c), data.breakpoints)
            for c, name in enumerate(data.channels)}


def weekly_adstock(data: AdData, spend: np.ndarray) -> np.ndarray:
    """a[c,w] of a plan x [channel, horizon week] by the model's weekly carry-over,
    [channel, week incl. tail], CNY per day."""
    x = np.zeros((len(data.channels), data.total_weeks))
    x[:, : data.weeks] = spend
    decay, level = data.decay, data.carry_in.copy()
    stock = np.zeros_like(x)
    for w in range(data.total_weeks):
        level = (1.0 - decay) * x[:, w] + decay * level
        stock[:, w] = level
    return stock


def weekly_response(data: AdData, spend: np.ndarray) -> np.ndarray:
    """Paid sessions per day [channel, week incl. tail] of a plan [channel, horizon week]
    on the exact Hill curves, with the model's weekly carry-over."""
    stock = weekly_adstock(data, spend)
    return (data.max_sessions[:, None] * data.appetite
            * hill(stock, data.half_saturation_cny, data.exponent))


def daily_response(data: AdData, spend: np.ndarray) -> np.ndarray:
    """The same plan through the simulator's daily carry-over: paid sessions per day
    [channel, week incl. tail], each week's daily sessions averaged (the calendar at its
    weekly mean M[c,w])."""
    x = np.zeros((len(data.channels), data.total_weeks))
    x[:, : data.weeks] = spend
    daily = np.repeat(x, DAYS, axis=1)
    rate, level = np.asarray(data.carryover, dtype=float), data.carry_in.copy()
    stock = np.zeros_like(daily)
    for t in range(daily.shape[1]):
        level = (1.0 - rate) * daily[:, t] + rate * level
        stock[:, t] = level
    sessions = data.max_sessions[:, None] * hill(stock, data.half_saturation_cny,
                                                 data.exponent)
    return (sessions.reshape(len(data.channels), data.total_weeks, DAYS).mean(axis=2)
            * data.appetite)


def marginal_revenue(data: AdData, spend: np.ndarray) -> np.ndarray:
    """Revenue per extra CNY spent in channel c in horizon week w [channel, week], on the
    exact curves: v_c sum_{u >= w} (1 - L_c) L_c^(u - w) M[c,u] f_c'(a[c,u])."""
    stock, decay, appetite = weekly_adstock(data, spend), data.decay, data.appetite
    out = np.zeros((len(data.channels), data.weeks))
    for c in range(len(data.channels)):
        curve = HillCurve(float(data.half_saturation_cny[c]), float(data.max_sessions[c]),
                          float(data.exponent[c]), np.array([0.0, 1.0]))
        slope = appetite[c] * curve.slope(stock[c])
        lam = float(decay[c])
        later = 0.0
        for u in range(data.total_weeks - 1, -1, -1):
            later = slope[u] + lam * later
            if u < data.weeks:
                out[c, u] = data.revenue_per_session_cny[c] * (1.0 - lam) * later
    return out


# ----------------------------------------------------------------------------- model
@dataclass(kw_only=True)
class AdModel(BuiltModel):
    """A built ad model: the Pyomo model and each channel's modelled response curve."""

    curves: dict[str, HillCurve]


def build_ads_model(data: AdData, elastic: bool = False,
                    curves: dict[str, HillCurve] | None = None) -> AdModel:
    """The ad allocation model of the module docstring (pure: reads ``data`` only).

    With ``elastic`` the budget rows (and the ROAS floor) may be exceeded at a penalty,
    so an infeasible setting can be explained in words. ``curves`` replaces the curves
    ``response_curves`` fits (e.g. refined ones).
    """
    curves = response_curves(data) if curves is None else curves
    appetite = data.appetite
    names = list(data.channels)
    idx = {name: c for c, name in enumerate(names)}
    decay = data.decay
    v, g, o = (data.revenue_per_session_cny, data.margin_per_session_cny,
               data.orders_per_session)
    weeks, total = data.weeks, data.total_weeks

    m = pyo.ConcreteModel(name="ads")
    built = AdModel(model=m, curves=curves)
    m.C = pyo.Set(initialize=names, ordered=True)
    m.W = pyo.RangeSet(1, total)
    m.H = pyo.RangeSet(1, weeks)
    concave = [c for c in names if curves[c].concave]
    shaped = [c for c in names if not curves[c].concave]
    m.CONCAVE = pyo.Set(within=m.C, initialize=concave, ordered=True)
    m.SHAPED = pyo.Set(within=m.C, initialize=shaped, ordered=True)

    budget = data.total_budget_cny
    if budget is None:  # never binding, but a row to re-solve with a budget later
        budget = 2.0 * DAYS * weeks * sum(data.upper(c) for c in range(len(names)))
    m.budget = pyo.Param(mutable=True, initialize=float(budget), within=pyo.NonNegativeReals)
    m.target_roas = pyo.Param(mutable=True, initialize=float(data.target_roas))
    m.carry_in = pyo.Param(m.C, mutable=True,
                           initialize={c: float(data.carry_in[idx[c]]) for c in names})

    m.spend = pyo.Var(m.C, m.H, bounds=lambda m, c, w: (data.lower(idx[c]),
                                                           data.upper(idx[c])))
    m.adstock = pyo.Var(m.C, m.W, within=pyo.NonNegativeReals)
    m.sessions = pyo.Var(m.C, m.W, within=pyo.NonNegativeReals)

    def carry_over(m, c, w):
        lam = float(decay[idx[c]])
        before = m.carry_in[c] if w == 1 else m.adstock[c, w - 1]
        spent = (1.0 - lam) * m.spend[c, w] if w <= weeks else 0.0
        return m.adstock[c, w] == spent + lam * before
    m.carry_over = pyo.Constraint(m.C, m.W, rule=carry_over)

    # concave channels: tangent cuts
    cuts = {c: curves[c].tangents() for c in concave}
    m.TANGENT = pyo.Set(dimen=2, ordered=True, initialize=[
        (c, j) for c in concave for j in range(len(curves[c].points))])
    m.tangent = pyo.Constraint(m.TANGENT, m.W, rule=lambda m, c, j, w: (
        m.sessions[c, w] <= float(appetite[idx[c], w - 1]) * (
            float(cuts[c][0][j]) + float(cuts[c][1][j]) * m.adstock[c, w])))

    # S-shaped channels: incremental piecewise-linear with binaries up to the steepest chord
    width = {c: np.diff(curves[c].points) for c in shaped}
    rise = {c: np.diff(curves[c].sessions(curves[c].points)) for c in shaped}
    steepest = {c: curves[c].steepest_segment() for c in shaped}
    m.SEGMENT = pyo.Set(dimen=2, ordered=True, initialize=[
        (c, i) for c in shaped for i in range(1, len(width[c]) + 1)])
    m.ORDERED = pyo.Set(dimen=2, ordered=True, initialize=[
        (c, i) for c in shaped for i in range(1, steepest[c])])
    m.fill = pyo.Var(m.SEGMENT, m.W, bounds=(0.0, 1.0))
    m.filled = pyo.Var(m.ORDERED, m.W, within=pyo.Binary)
    m.on_segments = pyo.Constraint(m.SHAPED, m.W, rule=lambda m, c, w: m.adstock[c, w] == sum(
        float(width[c][i - 1]) * m.fill[c, i, w] for i in range(1, len(width[c]) + 1)))
    m.segment_sessions = pyo.Constraint(m.SHAPED, m.W, rule=lambda m, c, w: (
        m.sessions[c, w] <= sum(float(appetite[idx[c], w - 1] * rise[c][i - 1])
                                * m.fill[c, i, w] for i in range(1, len(rise[c]) + 1))))
    m.filled_means_full = pyo.Constraint(m.ORDERED, m.W, rule=lambda m, c, i, w: (
        m.filled[c, i, w] <= m.fill[c, i, w]))

    def fill_in_order(m, c, i, w):
        if i < 2 or steepest[c] < 2:
            return pyo.Constraint.Skip
        return m.fill[c, i, w] <= m.filled[c, min(i - 1, steepest[c] - 1), w]
    m.fill_in_order = pyo.Constraint(m.SEGMENT, m.W, rule=fill_in_order)

    # minimum spend if active
    switched = [c for c in names if data.min_if_active(idx[c]) > 0]
    m.SWITCHED = pyo.Set(within=m.C, initialize=switched, ordered=True)
    m.use_channel = pyo.Var(m.SWITCHED, m.H, within=pyo.Binary)
    m.min_if_active = pyo.Constraint(m.SWITCHED, m.H, rule=lambda m, c, w: (
        m.spend[c, w] >= data.min_if_active(idx[c]) * m.use_channel[c, w]))
    m.off_if_inactive = pyo.Constraint(m.SWITCHED, m.H, rule=lambda m, c, w: (
        m.spend[c, w] <= data.upper(idx[c]) * m.use_channel[c, w]))

    # value of the plan
    m.ad_cost = pyo.Expression(expr=DAYS * pyo.quicksum(m.spend.values()))
    m.paid_orders = pyo.Expression(expr=DAYS * pyo.quicksum(
        float(o[idx[c]]) * m.sessions[c, w] for c in names for w in m.W))
    m.revenue = pyo.Expression(expr=DAYS * pyo.quicksum(
        float(v[idx[c]]) * m.sessions[c, w] for c in names for w in m.W))
    if data.stock is None:
        m.margin = pyo.Expression(expr=DAYS * pyo.quicksum(
            float(g[idx[c]]) * m.sessions[c, w] for c in names for w in m.W))
    else:  # horizon weeks sell from stock; the tail's carry-over as before
        m.margin = pyo.Expression(expr=stock_rows(m, data.stock, names) + DAYS * pyo.quicksum(
            float(g[idx[c]]) * m.sessions[c, w] for c in names for w in m.W if w > weeks))

    # budgets
    if elastic:
        m.budget_short = pyo.Var(within=pyo.NonNegativeReals)
        built.add_elastic("total budget", m.budget_short, lambda _, amount: (
            f"total ad budget short by {amount:,.0f} CNY: the minimum and fixed spends need "
            f"{pyo.value(m.budget) + amount:,.0f} CNY over {weeks} weeks against a budget "
            f"of {pyo.value(m.budget):,.0f} CNY"))
    slack = m.budget_short if elastic else 0.0
    m.total_budget = pyo.Constraint(expr=m.ad_cost <= m.budget + slack)
    if data.weekly_budget_cny is not None:
        m.weekly_budget = pyo.Param(mutable=True, initialize=float(data.weekly_budget_cny))
        if elastic:
            m.week_budget_short = pyo.Var(m.H, within=pyo.NonNegativeReals)
            built.add_elastic("weekly budget", m.week_budget_short, lambda w, amount: (
                f"week {w} ad budget short by {amount:,.0f} CNY (budget "
                f"{pyo.value(m.weekly_budget):,.0f} CNY a week)"))
        m.week_budget = pyo.Constraint(m.H, rule=lambda m, w: (
            DAYS * sum(m.spend[c, w] for c in m.C)
            <= m.weekly_budget + (m.week_budget_short[w] if elastic else 0.0)))

    # objective
    if data.objective == "contribution":
        value = m.margin - m.ad_cost
    elif data.objective == "orders":
        if elastic:
            m.revenue_short = pyo.Var(within=pyo.NonNegativeReals)
            built.add_elastic("ROAS", m.revenue_short, lambda _, amount: (
                f"average ROAS target {pyo.value(m.target_roas):g} out of reach: revenue short "
                f"by {amount:,.0f} CNY at the minimum and fixed spends"))
        m.roas_floor = pyo.Constraint(expr=m.revenue - m.target_roas * m.ad_cost
                                      + (m.revenue_short if elastic else 0.0) >= 0)
        value = m.paid_orders
    else:
        value = m.revenue - m.target_roas * m.ad_cost
    if elastic:
        value = value - built.elastic_penalty()
    m.objective = pyo.Objective(expr=value, sense=pyo.maximize)
    return built


# ----------------------------------------------------------------------------- solve
def optimize_ads(scenario: Scenario, options: SolveOptions = DEFAULT_OPTIONS,
                 state: OpeningState | None = None) -> Outcome:
    """The best ad plan for a scenario under its ``planning.ads`` settings, from the
    opening ``state`` when one is given (its adstock; its stock for stock-aware plans). When the
    scenario runs a plan file (e.g. the peak plan), the plan written carries that plan's
    lines with the new ad spend: the logistics it was planned with, and the ads."""
    outcome = solve_ads(ad_data(scenario, state), options)
    if scenario.plan is None:
        return outcome
    return dataclasses.replace(outcome, plan=with_ads(load_plan(scenario.plan), outcome.plan))


def solve_ads(data: AdData, options: SolveOptions = DEFAULT_OPTIONS) -> Outcome:
    """Solve the ad model for prepared data; raises ``Infeasible`` in business words.

    The model is solved, then re-solved with breakpoints added at the chosen adstocks
    (``refine_curves``) until the allocation x[c,w] moves by less than ``ALLOCATION_TOL``
    (sum |x_new - x_old| / sum x_old) between two solves, or ``MAX_REFINEMENTS`` re-solves
    have run; the summary reports both (``refinements``, ``allocation_change_pct``).
    """
    conflicts = bound_conflicts(data)
    if conflicts:
        raise Infeasible(conflicts)
    curves = response_curves(data)
    built, report, solver = solve_or_explain(
        lambda elastic: build_ads_model(data, elastic, curves), options)
    x = _allocation(built.model, data)
    changes: list[float] = []
    spent = [report]
    while len(changes) < MAX_REFINEMENTS:
        finer = refine_curves(built.curves, weekly_adstock(data, x))
        if all(len(finer[c].points) == len(built.curves[c].points) for c in finer):
            changes.append(0.0)             # exact at the plan: a re-solve would not move
            break
        again, again_report, again_solver = solve_or_explain(
            functools.partial(_build_with, data, finer), options)
        y = _allocation(again.model, data)
        changes.append(float(np.abs(y - x).sum() / max(np.abs(x).sum(), 1e-9)))
        built, report, solver, x = again, again_report, again_solver, y
        spent.append(report)
        if changes[-1] < ALLOCATION_TOL:
            break
    report = dataclasses.replace(
        report, build_s=sum(r.build_s for r in spent),
        handoff_s=sum(r.handoff_s for r in spent), highs_s=sum(r.highs_s for r in spent),
        solve_s=sum(r.solve_s for r in spent))
    started = time.perf_counter()
    budget_dual = budget_value(built.model, solver, options)
    return _outcome(built, data, report, budget_dual, (len(spent) - 1, changes[-1]),
                    time.perf_counter() - started)


def _build_with(data: AdData, curves: dict[str, HillCurve], elastic: bool) -> AdModel:
    return build_ads_model(data, elastic, curves)


def _allocation(model: pyo.ConcreteModel, data: AdData) -> np.ndarray:
    """x[c,w], the solved spend per day [channel, horizon week]."""
    return np.maximum(np.array([[pyo.value(model.spend[c, w]) for w in range(1, data.weeks + 1)]
                                for c in data.channels]), 0.0)


def refine_curves(curves: Mapping[str, HillCurve], stock: np.ndarray,
                  per_round: int = REFINE_POINTS) -> dict[str, HillCurve]:
    """Each curve with breakpoints added at the adstocks a plan reached [channel, week]:
    the ``per_round`` where the model is furthest from the curve. A tangent (concave) or a
    breakpoint (S-shaped) at a makes the model exact at a."""
    out = {}
    for row, (name, curve) in zip(stock, curves.items(), strict=True):
        top = float(curve.points[-1])
        resolution = 1e-5 * top                   # closer points would only add noise
        inside = np.unique(np.round(row[(row > resolution) & (row < top - resolution)]
                                    / resolution)) * resolution
        new = inside[np.abs(inside[:, None] - curve.points[None, :]).min(axis=1)
                     > resolution]
        if len(new):
            error = np.abs(curve.model(new) - curve.sessions(new))
            keep = new[np.argsort(-error, kind="stable")[:per_round]]
            keep = keep[np.abs(curve.model(keep) - curve.sessions(keep))
                        > 1e-9 * max(curve.max_sessions, 1.0)]
            if len(keep):
                curve = dataclasses.replace(curve, points=np.union1d(curve.points, keep))
        out[name] = curve
    return out


def bound_conflicts(data: AdData) -> list[str]:
    """Spend limits of one channel that contradict each other, in words."""
    found = []
    for name in data.channels:
        least = float(data.min_spend_cny_per_day.get(name, 0.0))
        most = min(float(data.max_spend_cny_per_day.get(name, np.inf)),
                   float(data.fixed_spend_cny_per_day.get(name, np.inf)))
        fixed = data.fixed_spend_cny_per_day.get(name)
        if_active = float(data.min_spend_if_active_cny_per_day.get(name, 0.0))
        if least > most + 1e-9:
            found.append(f"{name}: minimum spend {least:,.0f} CNY/day is above its "
                         f"maximum {most:,.0f} CNY/day")
        elif fixed is not None and fixed > float(data.max_spend_cny_per_day.get(name, np.inf)):
            found.append(f"{name}: fixed spend {fixed:,.0f} CNY/day is above its maximum")
        elif fixed is not None and 0 < fixed < if_active:
            found.append(f"{name}: fixed spend {fixed:,.0f} CNY/day is below its minimum "
                         f"if active of {if_active:,.0f} CNY/day")
    return found


def budget_value(model: pyo.ConcreteModel, solver: Solver, options: SolveOptions) -> float:
    """The total budget row's dual: objective per CNY of budget, on the piecewise-linear
    model (an LP copy with the binaries fixed at the plan for a MILP)."""
    binaries = [v for v in model.component_data_objects(pyo.Var) if v.is_binary()]
    if not binaries:
        return _dual(solver, model.total_budget)
    lp = model.clone()
    for var in lp.component_data_objects(pyo.Var):
        if var.is_binary():
            level = round(var.value or 0.0)
            var.domain = pyo.Reals
            var.fix(level)
    lp_solver = Solver(options)
    lp_solver.solve(lp)
    return _dual(lp_solver, lp.total_budget)


def marginal_roas(data: AdData, spend: np.ndarray) -> np.ndarray:
    """Per channel, revenue per extra CNY spent the way the plan spends it, on the exact
    Hill curves with carry-over and calendar: sum_w (x[c,w] / sum_u x[c,u]) mr[c,w], mr the
    ``marginal_revenue``; a channel without spend spreads the CNY evenly over the weeks (so
    an S-shaped channel at zero adstock reports 0)."""
    mr = marginal_revenue(data, spend)
    total = spend.sum(axis=1, keepdims=True)
    weights = np.where(total > 0, spend / np.where(total > 0, total, 1.0), 1.0 / data.weeks)
    return (weights * mr).sum(axis=1)


def _dual(solver: Solver, row) -> float:
    """Objective gained per unit of the row's right-hand side (maximisation, <= row)."""
    return abs(float(solver.duals([row])[row]))


def _outcome(built: AdModel, data: AdData, report: SolveReport,
             budget_dual: float, refinement: tuple[int, float], dual_s: float) -> Outcome:
    names = list(data.channels)
    model, curves = built.model, built.curves
    weeks, total = data.weeks, data.total_weeks
    x = _allocation(model, data)
    appetite = data.appetite
    marginal = marginal_roas(data, x)
    by_week = marginal_revenue(data, x)
    a = np.array([[pyo.value(model.adstock[c, w]) for w in range(1, total + 1)]
                  for c in names])
    r = np.array([[pyo.value(model.sessions[c, w]) for w in range(1, total + 1)]
                  for c in names])
    o, v, g = (data.orders_per_session, data.revenue_per_session_cny,
               data.margin_per_session_cny)
    exact = weekly_response(data, x)
    daily = daily_response(data, x)
    current = (np.zeros_like(x) if data.current_spend_cny is None
               else np.asarray(data.current_spend_cny, dtype=float))
    now = weekly_response(data, current)

    spend = DAYS * x.sum(axis=1)
    sessions = DAYS * r.sum(axis=1)
    orders, revenue, margin = o * sessions, v * sessions, g * sessions
    gap = np.array([curves[c].gap() for c in names]) * appetite.max(axis=1)
    local = np.array([np.where(a[i] > 1e-9, curves[c].gap_at(a[i]),
                               np.abs(curves[c].model(0.0) - curves[c].sessions(0.0)))
                      for i, c in enumerate(names)]) * appetite
    planned = r.sum()
    gap_pct = 100.0 * float(local.sum()) / planned if planned > 0 else 0.0
    exact_total = exact.sum()
    summary = {
        "objective": float(report.objective),
        "spend_cny": float(spend.sum()),
        "paid_sessions": float(sessions.sum()),
        "paid_orders": float(orders.sum()),
        "revenue_cny": float(revenue.sum()),
        "margin_cny": float(margin.sum()),
        "contribution_cny": float(margin.sum() - spend.sum()),
        "roas": float(revenue.sum() / spend.sum()) if spend.sum() > 0 else 0.0,
        "budget_dual": budget_dual,
        "paid_orders_hill": float(DAYS * (o[:, None] * exact).sum()),
        "contribution_hill_cny": float(DAYS * (g[:, None] * exact).sum() - spend.sum()),
        "paid_orders_daily": float(DAYS * (o[:, None] * daily).sum()),
        "pwl_gap_sessions_per_day": float(gap.max()),
        "pwl_gap_pct": float(gap_pct),
        "pwl_error_pct": (float(100.0 * (planned - exact_total) / exact_total)
                          if exact_total > 0 else 0.0),
        "current_spend_cny": float(DAYS * current.sum()),
        "current_paid_orders": float(DAYS * (o[:, None] * now).sum()),
        "current_contribution_cny": float(DAYS * (g[:, None] * now).sum()
                                          - DAYS * current.sum()),
        "refinements": float(refinement[0]),
        "allocation_change_pct": 100.0 * refinement[1],
        "breakpoints_max": float(max(len(curves[c].points) for c in names)),
        "mip_gap_reached": float(report.gap) if report.gap is not None else 0.0,
    }
    if data.total_budget_cny is not None:
        summary["budget_cny"] = float(data.total_budget_cny)
    if data.stock is not None:
        demanded, sold = expected_sales(model, data.stock, r)
        summary |= {"stock_units_demanded": demanded, "stock_units_sold": sold,
                    "stock_lost_units": demanded - sold,
                    "stock_margin_cny": float(pyo.value(model.margin)),
                    "stock_contribution_cny": float(pyo.value(model.margin)) - float(spend.sum())}
    for c, name in enumerate(names):
        summary[f"marginal_roas_{name}"] = float(marginal[c])

    sessions_by_channel = r.sum(axis=1)
    channels = pd.DataFrame({
        "shape": ["concave" if curves[c].concave else "S-shaped" for c in names],
        "spend_cny": spend,
        "spend_cny_per_day": x.mean(axis=1),
        "current_spend_cny": DAYS * current.sum(axis=1),
        "sessions": sessions,
        "orders": orders,
        "revenue_cny": revenue,
        "margin_cny": margin,
        "roas": np.divide(revenue, spend, out=np.zeros_like(spend), where=spend > 0),
        "marginal_roas": marginal,
        "marginal_roas_best_week": by_week.max(axis=1),
        "mean_calendar": appetite[:, :weeks].mean(axis=1),
        "pwl_gap_sessions_per_day": gap,
        "pwl_gap_pct": np.divide(100.0 * local.sum(axis=1), sessions_by_channel,
                                 out=np.full_like(gap, np.nan),
                                 where=spend > 0),
    }, index=pd.Index(names, name="channel"))
    allocation = pd.DataFrame(x.T, columns=pd.Index(names, name="channel"),
                              index=pd.RangeIndex(1, weeks + 1, name="week"))
    tables = {"allocation": allocation, "channels": channels,
              "marginal_roas": pd.DataFrame(by_week.T, columns=allocation.columns,
                                            index=allocation.index),
              "curves": curve_table(curves, x.max(axis=1, initial=0.0))}
    lines = [AdSpendLine(week=w + 1, channel=name, spend_cny_per_day=float(x[c, w]))
             for w in range(weeks) for c, name in enumerate(names)]
    plan = Plan(
        kind="ads", takes_over=["ad_spend"] if lines else [], scenario=data.scenario,
        scenario_hash=data.scenario_hash, weeks=weeks,
        objective_cny=float(report.objective),
        costs_cny={"ad_spend": float(spend.sum())},
        ad_spend=lines,
        # Under the simulation's KPI names too, for ``xbsim evaluate``.
        metrics=summary | {"ad_spend_cny": summary["spend_cny"]} | (
            {"lost_sales_units": summary["stock_lost_units"]} if data.stock is not None else {}),
        solver={"objective": data.objective, "status": report.status,
                "build_s": report.build_s, "handoff_s": report.handoff_s,
                "highs_s": report.highs_s, "dual_pass_s": dual_s,
                "gap": report.gap, "refinements": refinement[0],
                "allocation_change_pct": 100.0 * refinement[1],
                "binaries": sum(1 for v in model.component_data_objects(pyo.Var)
                                if v.is_binary())},
    )
    return Outcome(plan=plan, summary=summary, tables=tables, report=report)


def curve_table(curves: Mapping[str, HillCurve], chosen: np.ndarray) -> pd.DataFrame:
    """Per channel: a spend grid (CNY/day) with the exact and the modelled sessions per day,
    breakpoints flagged, reaching past the chosen spend (for plotting response curves)."""
    frames = []
    for (name, curve), spend in zip(curves.items(), chosen, strict=True):
        top = min(curve.points[-1], max(3.0 * curve.half_saturation_cny, 2.0 * spend, 1.0))
        grid = np.union1d(np.linspace(0.0, top, 101), curve.points[curve.points <= top])
        frames.append(pd.DataFrame({
            "channel": name,
            "spend_cny_per_day": grid,
            "sessions_per_day": curve.sessions(grid),
            "model_sessions_per_day": curve.model(grid),
            "breakpoint": np.isin(grid, curve.points),
        }))
    return pd.concat(frames, ignore_index=True)
