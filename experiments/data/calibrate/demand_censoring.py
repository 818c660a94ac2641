"""Stock-out days: demand that went unseen, not demand that was zero.

A listing that is out of stock sells nothing, so a SKU-market's history shows a run of days
without orders. Counting those days as zero demand biases its popularity, its market's
level and the season they fall in downwards. A run of k days without an order at expected
rates lambda_1..lambda_k has Poisson probability exp(-sum lambda); a run is censored when
that sum is so large that a run like it would turn up by chance in fewer than one series in
``1 / ALPHA`` over the whole history (the rate is what the SKU sells on its other days).
"""

from __future__ import annotations

import numpy as np

ALPHA = 0.01


def stockout_days(lines: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Censored days [..., day]: runs of days without orders whose expected orders exceed
    log(days / ALPHA). ``lines`` and ``rate`` (expected orders) share their shape; the last
    axis is the day."""
    n_days = lines.shape[-1]
    zero = (lines == 0).reshape(-1, n_days)
    starts = zero & ~np.pad(zero, ((0, 0), (1, 0)))[:, :-1]
    run = (np.cumsum(starts.ravel()) * zero.ravel()).astype(np.int64)
    expected = np.bincount(run, weights=rate.reshape(-1), minlength=1)
    censored = (expected[run] > np.log(n_days / ALPHA)) & (run > 0)
    return censored.reshape(lines.shape)
