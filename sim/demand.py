"""Traffic and demand: sessions from organic search and paid channels, then conversion.

Each day t, per market m, with the calendar multiplier season_m(t) = seasonality(month of t)
x the product of the peak-event multipliers of market m on day t:

    organic_m   = organic_sessions_per_day_m * season_m(t) * noise
    a_c(t)      = (1 - r_c) spend_c(t) + r_c a_c(t-1)                 (adstock, see AdChannel)
    paid_cm     = share_cm * S_c * cal_cm(t) * a_c^n_c / (a_c^n_c + K_c^n_c)       (Hill)
                  cal_cm(t) = season_m(t) if the channel follows_calendar, else 1
    sessions_m  = organic_m + sum_c paid_cm
    orders_ms   ~ Poisson((organic_m + sum_c paid_cm * multiplier_c)
                          * popularity share_s * conversion_ms)

S_c (max_sessions_per_day) is the channel's appetite at seasonality 1 without a peak; the
half-saturation spend K_c does not move with the calendar, so the same spend buys cal_cm(t)
times the sessions on a peak day and the marginal sessions per unit of spend,
S_c cal_cm(t) n K^n a^(n-1) / (a^n + K^n)^2, rise by the same factor.

Conversion_ms multiplies the market's base rate by a price effect, a delivery-promise
effect and a rating effect (see ``Conversion``). Stock availability acts downstream: an
order the warehouse cannot fill is a lost sale or a backorder, as the market chooses.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import Timeline
from sim.customers import steady_repeat_factor
from sim.pricing import PriceSchedule, list_prices
from sim.rng import Streams
from sim.scenario import Scenario


def ad_spend_schedule(scenario: Scenario, channels: list[str], n_days: int) -> np.ndarray:
    """Spend per channel per day [channel, day] in each channel's currency."""
    spend = np.zeros((len(channels), n_days))
    week = np.arange(n_days) // 7 + 1
    for c, name in enumerate(channels):
        plan = scenario.policies.ad_spend.get(name)
        if plan is None:
            continue
        spend[c, : scenario.horizon.days] = plan.spend_per_day
        for w, value in plan.weekly_spend_per_day.items():
            spend[c, (week == w) & (np.arange(n_days) < scenario.horizon.days)] = value
    return spend


def adstock(spend: np.ndarray, carryover: np.ndarray,
            carry_in: np.ndarray | None = None) -> np.ndarray:
    """Carried-over spend a_t = (1 - r) s_t + r a_{t-1}, per channel (rows).

    The channels ran before the horizon: a_{-1} is ``carry_in`` [channel] (an opening
    state's adstock), by default where day 0's spend, held, would have left it (the ad
    optimiser assumes the same carry-in).
    """
    stock = np.zeros_like(spend)
    if carry_in is not None:
        level = carry_in.astype(float)
    else:
        level = spend[:, 0].copy() if spend.shape[1] else np.zeros(spend.shape[0])
    for t in range(spend.shape[1]):
        level = (1.0 - carryover) * spend[:, t] + carryover * level
        stock[:, t] = level
    return stock


def hill(x: np.ndarray, half_saturation: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """Fraction of the maximum response at carried-over spend ``x`` [channel, day]."""
    xn = np.maximum(x, 0.0) ** exponent[:, None]
    kn = (half_saturation ** exponent)[:, None]
    return np.divide(xn, xn + kn, out=np.zeros_like(xn), where=(xn + kn) > 0)


def paid_sessions(scenario: Scenario, channels: list[str], markets: list[str],
                  spend: np.ndarray, steady: bool = False,
                  calendar: np.ndarray | float = 1.0,
                  carry_in: np.ndarray | None = None) -> np.ndarray:
    """Paid sessions [channel, market, day] from a spend schedule [channel, day].

    ``calendar`` is season_m(t) [market, day] (or a scalar, e.g. the average season): it
    scales the maximum sessions of every channel that follows the calendar. With ``steady``
    each day's spend is taken as held forever, so the adstock equals it; ``carry_in`` is
    the adstock entering day 0 (``adstock``).
    """
    specs = [scenario.ad_channels[c] for c in channels]
    n_days = spend.shape[1]
    if not specs:
        return np.zeros((0, len(markets), n_days))
    carry = np.array([s.daily_carryover for s in specs])
    half = np.array([s.half_saturation_spend_per_day for s in specs])
    exponent = np.array([s.hill_exponent for s in specs])
    peak = np.array([s.max_sessions_per_day for s in specs])
    stock = spend if steady else adstock(spend, carry, carry_in)
    response = peak[:, None] * hill(stock, half, exponent)
    shares = np.array([[s.market_shares.get(m, 0.0) for m in markets] for s in specs])
    cal = np.asarray(calendar, dtype=float)
    season = np.broadcast_to(cal[:, :n_days] if cal.ndim else cal, (len(markets), n_days))
    follows = np.array([s.follows_calendar for s in specs])
    appetite = np.where(follows[:, None, None], season[None, :, :], 1.0)
    return response[:, None, :] * shares[:, :, None] * appetite


def calendar_multiplier(timeline: Timeline) -> np.ndarray:
    """season_m(t) [market, day]: the month's seasonality times the market's peaks."""
    return timeline.seasonality[None, :] * timeline.peak


def converting_paid(scenario: Scenario, channels: list[str], paid: np.ndarray) -> np.ndarray:
    """Paid sessions weighted by each channel's conversion multiplier [channel, market, day]:
    the organic-equivalent traffic that orders are drawn from."""
    multiplier = np.array([scenario.ad_channels[c].conversion_multiplier for c in channels])
    return paid * multiplier.reshape(-1, 1, 1)


def static_conversion(scenario: Scenario, markets: list[str], skus: list[str]) -> np.ndarray:
    """Conversion [market, sku] before the rating effect: base x price x promise."""
    cv = scenario.conversion
    conv = np.zeros((len(markets), len(skus)))
    for i, m in enumerate(markets):
        market = scenario.markets[m]
        promise = scenario.policies.fulfilment[m].promise_days
        promise_effect = np.exp(-cv.promise_sensitivity_per_day
                                * (promise - cv.reference_promise_days))
        for j, s in enumerate(skus):
            sku = scenario.skus[s]
            reference = (sku.reference_price or {}).get(m, sku.price[m])
            price_effect = (sku.price[m] / reference) ** (-cv.price_elasticity)
            conv[i, j] = market.base_conversion_rate * price_effect * promise_effect
    return np.minimum(conv, 1.0)


def popularity_shares(scenario: Scenario, skus: list[str]) -> np.ndarray:
    weights = np.array([scenario.skus[s].popularity for s in skus], dtype=float)
    total = weights.sum()
    return weights / total if total > 0 else np.full(len(skus), 1.0 / len(skus))


def expected_daily_units(scenario: Scenario, markets: list[str], skus: list[str]) -> np.ndarray:
    """Planning demand [market, sku] in units/day: average season, no peaks, default ad spend.

    Policies written in days of cover and opening stock are converted with this figure, the
    way a planner sizes stock from a run-rate rather than from tomorrow's draw. Organic and
    calendar-following paid sessions alike are taken at the mean monthly seasonality without
    peaks (the same multiplier, so the run-rate keeps the simulation's mix of the two).
    """
    channels = list(scenario.ad_channels)
    spend = [scenario.policies.ad_spend[c].spend_per_day if c in scenario.policies.ad_spend
             else 0.0 for c in channels]
    season = float(np.mean(scenario.calendar.seasonality_by_month))
    paid = paid_sessions(scenario, channels, markets,
                         np.array(spend, dtype=float).reshape(len(channels), 1), steady=True,
                         calendar=season)
    paid_per_market = converting_paid(scenario, channels, paid)[:, :, 0].sum(axis=0)
    organic = np.array([scenario.markets[m].organic_sessions_per_day for m in markets]) * season
    sessions = organic + paid_per_market
    units_per_order = 1.0 + scenario.conversion.extra_units_per_order_mean
    return (sessions[:, None] * popularity_shares(scenario, skus)[None, :]
            * static_conversion(scenario, markets, skus) * units_per_order
            * steady_repeat_factor(scenario.customers))


class DemandModel:
    """The day-by-day demand of one run: sessions by source and Poisson orders per SKU.

    The simulation draws its orders from it, and the optimisers sample or average the same
    object, so planning and simulation share one model of uncertainty. Sessions (with their
    day-to-day noise) are drawn for the whole calendar up front from the ``traffic`` stream;
    orders are drawn day by day from the ``demand`` stream because conversion depends on
    the rating the simulation has reached. ``ad_spend`` [channel, day] (channel currency)
    replaces the scenario's schedule, e.g. with a plan's ad lines; ``carry_in`` [channel]
    is the adstock entering day 0 (channel currency), e.g. an opening state's.
    """

    def __init__(self, scenario: Scenario, markets: list[str], skus: list[str],
                 timeline: Timeline, streams: Streams,
                 ad_spend: np.ndarray | None = None,
                 carry_in: np.ndarray | None = None) -> None:
        self.scenario = scenario
        self.rng = streams.demand
        channels = list(scenario.ad_channels)
        n = timeline.n_days
        organic = np.array([scenario.markets[m].organic_sessions_per_day for m in markets])
        sigma = np.sqrt(np.log1p(scenario.traffic.daily_noise_cv**2))
        noise = streams.traffic.lognormal(-0.5 * sigma**2, sigma, (len(markets), n))
        season = calendar_multiplier(timeline)
        self.organic_sessions = organic[:, None] * season * noise
        self.ad_spend = (ad_spend_schedule(scenario, channels, n) if ad_spend is None
                         else ad_spend)
        self.paid_sessions = paid_sessions(scenario, channels, markets, self.ad_spend,
                                           calendar=season, carry_in=carry_in)
        self.paid_buyers = converting_paid(scenario, channels, self.paid_sessions).sum(axis=0)
        converting = self.organic_sessions + self.paid_buyers
        self.paid_order_share = np.divide(self.paid_buyers, converting,
                                          out=np.zeros_like(self.paid_buyers),
                                          where=converting > 0)
        self.conversion = static_conversion(scenario, markets, skus)
        self.sku_share = popularity_shares(scenario, skus)
        self.n_skus = len(skus)
        self.prices = PriceSchedule(scenario, markets, skus, list_prices(scenario, markets, skus))
        self.repeat_factor = steady_repeat_factor(scenario.customers)
        self._carry = np.zeros((len(markets), len(skus)))

    def sessions(self, t: int) -> np.ndarray:
        """All sessions per market on day t (organic and paid)."""
        return self.organic_sessions[:, t] + self.paid_sessions[:, :, t].sum(axis=0)

    def listing_sessions(self, t: int, rank: np.ndarray | None) -> np.ndarray:
        """Sessions per listing [market, sku] on day t: the market's organic sessions by
        popularity and rank, its paid sessions by popularity."""
        organic = self.organic_sessions[:, t, None] * (1.0 if rank is None else rank)
        paid = self.paid_sessions[:, :, t].sum(axis=0)[:, None]
        return (organic + paid) * self.sku_share[None, :]

    def order_rate(self, t: int, rating_effect: np.ndarray | float = 1.0,
                   rank: np.ndarray | None = None,
                   returning: np.ndarray | None = None) -> np.ndarray:
        """Expected orders [market, sku] on day t.

        ``rank`` [market, sku] scales each listing's organic sessions (``sim.ranking``);
        ``returning`` [market] is the past buyers who come back today (``sim.customers``).
        Without it (planning), the steady share of returning buyers is added as a factor.
        """
        organic = self.organic_sessions[:, t, None] * (1.0 if rank is None else rank)
        buyers = (organic + self.paid_buyers[:, t, None]) * np.asarray(rating_effect).reshape(
            -1, 1)
        rate = buyers * self.sku_share[None, :] * self.conversion
        if returning is None:
            rate = rate * self.repeat_factor
        else:
            rate = rate + returning[:, None] * self.sku_share[None, :]
        return rate * self.prices.demand_factor(t)

    def draw_orders(self, t: int, rating_effect: np.ndarray | float = 1.0,
                    rank: np.ndarray | None = None, returning: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Today's orders as (market, sku, units) arrays, one element per order."""
        extra = self.scenario.conversion.extra_units_per_order_mean
        rate = self.order_rate(t, rating_effect, rank, returning)
        if self.scenario.conversion.order_counts == "expected":
            due = self._carry + rate * (1.0 + extra)
            counts = np.floor(due + 1e-9).astype(np.int64)
            self._carry = due - counts
            cell = np.repeat(np.arange(counts.size), counts.ravel())
            return cell // self.n_skus, cell % self.n_skus, np.ones(len(cell), np.int64)
        counts = self.rng.poisson(rate)
        cell = np.repeat(np.arange(counts.size), counts.ravel())
        units = 1 + self.rng.poisson(extra, len(cell))
        return cell // self.n_skus, cell % self.n_skus, units


def expected_units_by_day(scenario: Scenario) -> np.ndarray:
    """Mean demand in units [market, sku, day] over the horizon, at the scheduled ad spend
    and the opening rating: the planning figure the optimisers work from. It is the
    simulation's expectation day by day: organic and paid sessions follow the calendar
    (seasonality and peaks) exactly as ``DemandModel`` draws them, less the noise."""
    markets, skus = list(scenario.markets), list(scenario.skus)
    timeline = Timeline.build(scenario, markets, list(scenario.modes))
    model = DemandModel(scenario, markets, skus, timeline, Streams(0))
    days = scenario.horizon.days
    organic = np.array([scenario.markets[m].organic_sessions_per_day for m in markets])
    organic_mean = organic[:, None] * timeline.seasonality[None, :days] * timeline.peak[:, :days]
    paid = converting_paid(scenario, list(scenario.ad_channels),
                           model.paid_sessions).sum(axis=0)[:, :days]
    buyers = organic_mean + paid
    units_per_order = 1.0 + scenario.conversion.extra_units_per_order_mean
    listing = np.stack([model.prices.demand_factor(t) for t in range(days)], axis=-1) \
        if model.prices.windows else 1.0
    return (buyers[:, None, :] * model.sku_share[None, :, None]
            * model.conversion[:, :, None] * units_per_order * model.repeat_factor * listing)


def sample_units_by_day(scenario: Scenario, seeds: list[int], days: range) -> np.ndarray:
    """Demand in units [sample, market, sku, day] drawn exactly as runs with these seeds
    draw it (before any rating or stock-out feedback), for sample-average planning."""
    markets, skus = list(scenario.markets), list(scenario.skus)
    timeline = Timeline.build(scenario, markets, list(scenario.modes))
    out = np.zeros((len(seeds), len(markets), len(skus), len(days)))
    for i, seed in enumerate(seeds):
        model = DemandModel(scenario, markets, skus, timeline, Streams(seed))
        for t in range(days.stop):
            market, sku, units = model.draw_orders(t)
            if t >= days.start:
                np.add.at(out[i, :, :, t - days.start], (market, sku), units)
    return out
