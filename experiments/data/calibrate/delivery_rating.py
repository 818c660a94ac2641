"""The rating a market's deliveries hold it at, read from the order history.

The simulated rating moves each day toward 5 stars less the penalties of that day's late,
lost and returned deliveries per delivery (``sim.sales``), so in the long run it settles at

    rating_m = 5 - (1 - lost_m) (late_m x late_penalty + returned_m x return_penalty)
                 - lost_m x lost_penalty

with returned_m the returned share of lines delivered long enough before the history ends
for their returns to show, lost_m the scenario's loss probability of the modes the lines
travelled by, and late_m the share of orders whose processing and transit, drawn from the
scenario (fitted to the history's dates by ``delivery``), exceed the promise: the late share
the simulation will reproduce, not the one read off whole-day dates, whose rounding at the
promise's own day the fitted continuous times resolve their own way. Conversion follows the
rating (``sim.demand``), so the demand fit reads the history's orders at these ratings: a
fit at the base's initial rating would put into conversion a rating the calibrated scenario
does not reproduce.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.data.calibrate.returns_lines import categories_of, order_lines
from experiments.data.calibrate.returns_rates import line_modes
from sim.scenario import Scenario

RETURN_COLUMNS = ("order_id", "sku", "quantity", "return_date", "reason")
DRAWS = 20_000
"""Orders drawn per market for its late share (standard error under 0.3 points)."""


def steady_ratings(tables: dict[str, pd.DataFrame], base: Scenario,
                   markets: list[str]) -> np.ndarray:
    """[market] the rating each market's deliveries settle at; the base's initial rating
    where the orders carry no delivery dates."""
    spec = base.conversion
    out = np.full(len(markets), spec.initial_rating)
    orders = tables["orders"]
    if not {"delivery_date", "ship_date", "fulfilment"} <= set(orders):
        return out
    returns = tables.get("returns", pd.DataFrame(columns=list(RETURN_COLUMNS)))
    lines, _ = order_lines(orders, returns, categories_of(tables, base), base)
    lost = line_modes(lines, base).map(
        {name: mode.loss_probability for name, mode in base.modes.items()}).fillna(0.0)
    seen = _returns_seen(lines, orders["order_date"].max())
    for i, market in enumerate(markets):
        here = lines["market"].astype(str) == market
        if not (here & lines["delivery_date"].notna()).any():
            continue
        returned = float((lines.loc[here & seen, "returned"] > 0).mean()) \
            if (here & seen).any() else 0.0
        loss = float(lost[here].mean())
        penalty = ((1.0 - loss) * (late_share(base, market) * spec.late_rating_penalty
                                   + returned * spec.return_rating_penalty)
                   + loss * spec.lost_rating_penalty)
        out[i] = float(np.clip(5.0 - penalty, 1.0, 5.0))
    return out


def late_share(base: Scenario, market: str, seed: int = 0) -> float:
    """Share of the market's orders the scenario delivers after its promise: processing,
    transit by the route's mode and, for direct parcels, a customs inspection's delay."""
    rng = np.random.default_rng(seed)
    rule = base.policies.fulfilment[market]
    days = (rule.order_processing_days.sample(rng, DRAWS)
            + base.modes[rule.mode].transit_days.sample(rng, DRAWS))
    if rule.route == "direct":
        customs = base.markets[market].customs
        inspected = rng.random(DRAWS) < customs.inspection_probability
        days += inspected * customs.inspection_delay_days.sample(rng, DRAWS)
    return float(np.mean(days > rule.promise_days))


def _returns_seen(lines: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """Delivered lines whose returns the history shows in full: delivered at least the
    longest delivery-to-return delay seen before the last order date."""
    delivered = lines["delivery_date"].notna()
    back = lines[lines["returned"] > 0]
    delay = (back["return_date"] - back["delivery_date"]).dt.days.max() if len(back) else 0
    return delivered & (lines["delivery_date"] <= end - pd.Timedelta(days=int(delay)))
