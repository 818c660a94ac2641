"""Traffic and demand: sessions from organic search and paid channels, then conversion.

Each day, per market m:

    organic_m   = organic_sessions_per_day_m * seasonality(month) * peak_m(day) * noise
    paid_c      = max_sessions_c * a_c^n / (a_c^n + K_c^n)        (Hill, see AdChannel)
    sessions_m  = organic_m + sum_c share_cm * paid_c
    orders_ms   ~ Poisson((organic_m + sum_c share_cm * paid_c * multiplier_c)
                          * popularity share_s * conversion_ms)

and conversion_ms multiplies the market's base rate by a price effect, a delivery-promise
effect and a rating effect (see ``Conversion``). Stock availability acts downstream: an
order the warehouse cannot fill is a lost sale or a backorder, as the market chooses.
"""

from __future__ import annotations

import numpy as np

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


def adstock(spend: np.ndarray, carryover: np.ndarray) -> np.ndarray:
    """Carried-over spend a_t = (1 - r) s_t + r a_{t-1}, per channel (rows)."""
    stock = np.zeros_like(spend)
    level = np.zeros(spend.shape[0])
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
                  spend: np.ndarray, steady: bool = False) -> np.ndarray:
    """Paid sessions [channel, market, day] from a spend schedule [channel, day].

    With ``steady`` each day's spend is taken as held forever, so the adstock equals it.
    """
    specs = [scenario.ad_channels[c] for c in channels]
    if not specs:
        return np.zeros((0, len(markets), spend.shape[1]))
    carry = np.array([s.carryover for s in specs])
    half = np.array([s.half_saturation_spend_per_day for s in specs])
    exponent = np.array([s.hill_exponent for s in specs])
    peak = np.array([s.max_sessions_per_day for s in specs])
    stock = spend if steady else adstock(spend, carry)
    response = peak[:, None] * hill(stock, half, exponent)
    shares = np.array([[s.market_shares.get(m, 0.0) for m in markets] for s in specs])
    return response[:, None, :] * shares[:, :, None]


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
    way a planner sizes stock from a run-rate rather than from tomorrow's draw.
    """
    channels = list(scenario.ad_channels)
    spend = [scenario.policies.ad_spend[c].spend_per_day if c in scenario.policies.ad_spend
             else 0.0 for c in channels]
    paid = paid_sessions(scenario, channels, markets,
                         np.array(spend, dtype=float).reshape(len(channels), 1), steady=True)
    paid_per_market = converting_paid(scenario, channels, paid)[:, :, 0].sum(axis=0)
    season = float(np.mean(scenario.calendar.seasonality_by_month))
    organic = np.array([scenario.markets[m].organic_sessions_per_day for m in markets]) * season
    sessions = organic + paid_per_market
    units_per_order = 1.0 + scenario.conversion.extra_units_per_order_mean
    return (sessions[:, None] * popularity_shares(scenario, skus)[None, :]
            * static_conversion(scenario, markets, skus) * units_per_order)
