"""Price elasticity from price changes within a SKU-market.

Across SKUs price and popularity are tangled (cheap items sell more for many reasons), so
only changes of one SKU's price in one market identify the elasticity e: a conditional
Poisson regression (one fixed effect per SKU-market, conditioned away) of daily order lines
on the log price relative to the SKU-market's median, with the market-day rate (calendar,
sessions) as offset:

    log E[lines_mst] = a_ms + log rate_m(t) - e log(price_mst / median_ms)

Days without sales carry the last price paid. Out-of-stock days are left out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from statsmodels.discrete.conditional_models import ConditionalPoisson
from statsmodels.tools.sm_exceptions import ModelWarning

MOVE = 0.02
"""A price counts as changed when it is this far (log) from the SKU-market's median."""
MIN_DAYS = 7
"""Days at a changed price a SKU-market needs to take part."""


@dataclass(frozen=True)
class Elasticity:
    estimate: float
    low: float
    high: float
    sku_markets: int
    """SKU-markets whose price changed enough to take part."""


def fit_elasticity(lines: np.ndarray, price: np.ndarray, rate: np.ndarray,
                   in_stock: np.ndarray) -> Elasticity | None:
    """The elasticity from [market, sku, day] arrays (``rate`` [market, day]), or None when no
    SKU-market's price changed for ``MIN_DAYS`` days."""
    n_days = lines.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        log_price = np.log(price)
    observed = in_stock & np.isfinite(log_price)
    median = np.nanmedian(np.where(observed, log_price, np.nan).reshape(-1, n_days), axis=1)
    relative = log_price.reshape(-1, n_days) - median[:, None]
    observed = observed.reshape(-1, n_days)
    moved = ((np.abs(relative) > MOVE) & observed).sum(axis=1) >= MIN_DAYS
    if not moved.any():
        return None
    rows = np.repeat(moved, n_days).reshape(-1, n_days) & observed
    group = np.broadcast_to(np.arange(len(moved))[:, None], rows.shape)[rows]
    offset = np.log(np.broadcast_to(rate[:, None, :], lines.shape).reshape(-1, n_days)[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        model = ConditionalPoisson(lines.reshape(-1, n_days)[rows].astype(float),
                                   relative[rows][:, None], groups=group, offset=offset)
        result = model.fit(disp=False)
    low, high = result.conf_int()[0]
    return Elasticity(estimate=-float(result.params[0]), low=-float(high), high=-float(low),
                      sku_markets=int(moved.sum()))
