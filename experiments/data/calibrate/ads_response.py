"""Nonlinear least squares for one channel's Hill response on a geometric adstock.

    a_t = (1 - r) spend_t + r a_{t-1}      (a_0 = spend_0, as the simulator starts it)
    y_t = S g(t) a_t^n / (a_t^n + K^n)

fitted on log(1 + y): day-to-day noise on traffic is multiplicative, and the log keeps busy
days from outweighing quiet ones. The parameters are searched as theta = (log S, log K,
log n, logit r) from a few starts; the covariance of theta is s^2 (J'J)^-1 at the optimum,
so intervals are symmetric in theta and asymmetric (and positive) in the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import lfilter

Z95 = 1.959963984540054
EXPONENT_RANGE = (0.25, 6.0)
LOGIT_RANGE = (-9.0, 4.0)
"""r between ~0.0001 and ~0.98."""


def adstock(spend: np.ndarray, carryover: float) -> np.ndarray:
    """a_t = (1 - r) s_t + r a_{t-1}, starting where day 0's spend, held, would be."""
    if len(spend) == 0:
        return spend
    start = np.array([carryover * spend[0]])
    return lfilter([1.0 - carryover], [1.0, -carryover], spend, zi=start)[0]


def response(theta: np.ndarray, spend: np.ndarray, season: np.ndarray) -> np.ndarray:
    """y_t for theta = (log S, log K, log n, logit r)."""
    peak, half, exponent = np.exp(theta[:3])
    stock = adstock(spend, float(1.0 / (1.0 + np.exp(-theta[3]))))
    ratio = np.maximum(stock, 0.0) / half
    return peak * season * ratio**exponent / (1.0 + ratio**exponent)


@dataclass(frozen=True)
class ResponseFit:
    """Estimates and 95 % intervals; ``theta`` and ``cov`` on the search scale."""

    theta: np.ndarray
    cov: np.ndarray
    fitted: np.ndarray
    r2_log: float

    @property
    def max_per_day(self) -> float:
        return float(np.exp(self.theta[0]))

    @property
    def half_saturation_per_day(self) -> float:
        return float(np.exp(self.theta[1]))

    @property
    def exponent(self) -> float:
        return float(np.exp(self.theta[2]))

    @property
    def carryover(self) -> float:
        return float(1.0 / (1.0 + np.exp(-self.theta[3])))

    def interval(self, weights: np.ndarray) -> tuple[float, float]:
        """95 % interval of weights . theta (a log quantity), on the log scale."""
        centre = float(weights @ self.theta)
        sd = float(np.sqrt(max(weights @ self.cov @ weights, 0.0)))
        return centre - Z95 * sd, centre + Z95 * sd

    def correlation(self, i: int, j: int) -> float:
        sd = np.sqrt(np.diag(self.cov))
        if sd[i] == 0 or sd[j] == 0 or not np.isfinite(sd[i] * sd[j]):
            return 0.0
        return float(self.cov[i, j] / (sd[i] * sd[j]))


def fit_response(spend: np.ndarray, observed: np.ndarray, season: np.ndarray) -> ResponseFit:
    """Least-squares S, K, n and r of one channel (days with NaN response are skipped)."""
    use = np.isfinite(observed)
    target = np.log1p(np.maximum(observed[use], 0.0))

    def residuals(theta: np.ndarray) -> np.ndarray:
        return np.log1p(response(theta, spend, season)[use]) - target

    typical = float(np.median(spend[spend > 0])) if (spend > 0).any() else 1.0
    top = float(np.nanmax(observed[use] / season[use])) if use.any() else 1.0
    lower = [np.log(max(top, 1e-6)) - 3.0, np.log(typical) - 7.0, np.log(EXPONENT_RANGE[0]),
             LOGIT_RANGE[0]]
    upper = [np.log(max(top, 1e-6)) + 7.0, np.log(typical) + 7.0, np.log(EXPONENT_RANGE[1]),
             LOGIT_RANGE[1]]
    best = None
    for half in (1.0, 4.0):
        for exponent in (1.0, 2.0):
            for carry in (-1.4, 0.4):  # r = 0.2, 0.6
                start = np.array([np.log(max(top, 1e-6)) + np.log1p(1.0 / half) + 0.1,
                                  np.log(typical * half), np.log(exponent), carry])
                result = least_squares(residuals, start, bounds=(lower, upper),
                                       x_scale="jac")
                if best is None or result.cost < best.cost:
                    best = result
    assert best is not None
    dof = max(int(use.sum()) - 4, 1)
    s2 = 2.0 * best.cost / dof
    cov = s2 * np.linalg.pinv(best.jac.T @ best.jac)
    total = float(((target - target.mean()) ** 2).sum())
    r2 = 1.0 - 2.0 * best.cost / total if total > 0 else 1.0
    return ResponseFit(best.x, cov, response(best.x, spend, season), r2)
