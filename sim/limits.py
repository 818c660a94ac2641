"""What a scenario asks of one run, checked when it loads: products of fields no single bound
catches.

Each field of the schema is bounded on its own (``sim.scenario``), but the work of a run is a
product: sessions x seasonality x overlapping peaks x conversion is the mean of a day's
Poisson draw of orders, and orders x days is the size of the order table; markets x SKUs x
days is the size of the daily demand arrays; departures a week x weeks is the length of the
sailing schedule. A scenario whose products exceed the budgets below would run out of memory
or time (or overflow a draw) instead of finishing, so it is refused with the figure and the
budget. The figures are expectations at the busiest rating (5 stars) and the scheduled
maximum of every paid channel: an upper bound of what the run draws, give or take noise.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim.calendar import EXTRA_DAYS, Timeline
from sim.scenario import BulkMode, Scenario

MAX_ORDERS_PER_DAY = 3e5
"""Expected orders on the busiest day, all markets (a day's cohort is ~100 MB of arrays; a
seller of 10 M orders a year reaches ~1.4e5 on Black Friday at this bound)."""
MAX_ORDERS = 2e7
"""Expected orders over the horizon (a minute or two of simulation; the order records are
streamed to disk, ``sim.tables``)."""
MAX_TICKETS_PER_DAY = 1e5
MAX_TICKETS = 2e7
"""Expected shopper inquiries a day and over the horizon (each one is queued)."""
MAX_CELLS = 3e7
"""Markets x SKUs x days of the daily demand arrays (240 MB each; 10,000 SKUs in three
markets over a year and its tail are 2.3e7)."""
MAX_CALENDAR = 1e4
"""The largest seasonality x compounded peak multiplier of any market on any day."""
MAX_DEPARTURES = 1e6
"""Scheduled departures of every bulk mode over the horizon."""


def run_size_problems(sc: Scenario) -> Iterator[tuple[str, str]]:
    """Yield (dotted path, reason) for every budget the scenario's run would exceed."""
    markets, skus = list(sc.markets), list(sc.skus)
    n_days = sc.horizon.days + EXTRA_DAYS
    cells = len(markets) * len(skus) * n_days
    if cells > MAX_CELLS:
        yield "skus", (f"{len(markets)} markets x {len(skus)} SKUs x {n_days} days is "
                       f"{cells:.3g} cells of daily demand, more than {MAX_CELLS:g}")
        return
    departures = sum(m.departures_per_week for m in sc.modes.values()
                     if isinstance(m, BulkMode)) * n_days / 7
    if departures > MAX_DEPARTURES:
        yield "modes", (f"bulk departures over the horizon would be {departures:.3g}, more "
                        f"than {MAX_DEPARTURES:g}")
    timeline = Timeline.build(sc, markets, list(sc.modes))
    days = sc.horizon.days
    calendar = timeline.seasonality[None, :days] * timeline.peak[:, :days]
    worst = np.unravel_index(int(np.argmax(calendar)), calendar.shape)
    if calendar[worst] > MAX_CALENDAR:
        yield "calendar.peak_events", (
            f"seasonality x overlapping peaks reach x{calendar[worst]:.3g} in market "
            f"{markets[worst[0]]} on day {worst[1]}, more than x{MAX_CALENDAR:g}")
        return
    yield from _traffic_problems(sc, markets, skus, calendar)


def _traffic_problems(sc: Scenario, markets: list[str], skus: list[str],
                      calendar: np.ndarray) -> Iterator[tuple[str, str]]:
    organic = np.array([sc.markets[m].organic_sessions_per_day for m in markets])
    sessions = organic[:, None] * calendar
    buyers = sessions.copy()
    for channel in sc.ad_channels.values():
        share = np.array([channel.market_shares.get(m, 0.0) for m in markets])
        reach = channel.max_sessions_per_day * share[:, None] * (
            calendar if channel.follows_calendar else np.ones_like(calendar))
        sessions += reach
        buyers += reach * channel.conversion_multiplier
    orders = buyers * _order_rate(sc, markets, skus)[:, None]
    busiest = orders.sum(axis=0)
    day = int(np.argmax(busiest))
    market = markets[int(np.argmax(orders[:, day]))]
    if busiest[day] > MAX_ORDERS_PER_DAY:
        yield f"markets.{market}", (
            f"expected orders on day {day} would be {busiest[day]:.3g}, more than "
            f"{MAX_ORDERS_PER_DAY:g} a day (sessions x seasonality x peaks x conversion)")
    elif busiest.sum() > MAX_ORDERS:
        yield f"markets.{market}", (f"expected orders over the horizon would be "
                                    f"{busiest.sum():.3g}, more than {MAX_ORDERS:g}")
    inquiries = sessions.sum(axis=0) * sc.service.tickets.inquiries_per_1000_sessions / 1000
    if inquiries.max() > MAX_TICKETS_PER_DAY:
        yield "service.tickets.inquiries_per_1000_sessions", (
            f"expected inquiries on day {int(np.argmax(inquiries))} would be "
            f"{inquiries.max():.3g}, more than {MAX_TICKETS_PER_DAY:g} a day")
    elif inquiries.sum() > MAX_TICKETS:
        yield "service.tickets.inquiries_per_1000_sessions", (
            f"expected inquiries over the horizon would be {inquiries.sum():.3g}, more than "
            f"{MAX_TICKETS:g}")


def _order_rate(sc: Scenario, markets: list[str], skus: list[str]) -> np.ndarray:
    """Orders per converting session [market] at a 5-star rating: the popularity-weighted
    conversion (capped at 1, as the demand model caps it) times the best rating effect."""
    cv = sc.conversion
    weights = np.array([sc.skus[s].popularity for s in skus])
    shares = weights / weights.sum() if weights.sum() > 0 else np.full(len(skus), 1 / len(skus))
    rating = (5.0 / cv.initial_rating) ** cv.rating_elasticity
    out = np.zeros(len(markets))
    for i, m in enumerate(markets):
        price = np.array([sc.skus[s].price[m] for s in skus])
        reference = np.array([(sc.skus[s].reference_price or {}).get(m, sc.skus[s].price[m])
                              for s in skus])
        promise = sc.policies.fulfilment[m].promise_days - cv.reference_promise_days
        conversion = (sc.markets[m].base_conversion_rate * (price / reference)
                      ** -cv.price_elasticity * np.exp(-cv.promise_sensitivity_per_day * promise))
        out[i] = float(shares @ np.minimum(conversion, 1.0)) * rating
    return out
