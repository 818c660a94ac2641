"""SKU popularity: each SKU's share of a market's converting sessions.

Expected order lines of SKU s in market m on day t are rate_m(t) x share_s x price
effect_ms, so over the days the SKU-market was in stock share_s is proportional to
n_s / X_s: n_s its order lines, X_s = sum of rate_m(t) x price effect_ms over those days
(its expected lines per unit of share). Shares are normalised to sum to 1; the interval is
the exact (Garwood) Poisson interval of n_s, taking the other SKUs' total as known.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def popularity_shares(lines: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """[sku, 3] share (estimate, low, high) from order lines and exposure per SKU (NaN where
    the exposure is zero: never in stock)."""
    n = np.asarray(lines, dtype=float)
    safe = np.where(exposure > 0, exposure, np.nan)
    total = np.nansum(n / safe)
    low = np.where(n > 0, stats.chi2.ppf(0.025, 2 * n) / 2.0, 0.0)
    high = stats.chi2.ppf(0.975, 2 * n + 2) / 2.0
    return np.column_stack([n, low, high]) / safe[:, None] / total
