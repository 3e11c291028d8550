"""Count likelihoods for slot sales: Poisson (alpha = 0) or negative binomial NB2
(variance mu + alpha mu^2), each with right-censoring for sold-out slots.

A censored observation y says only "demand was at least y": its likelihood is P(Y >= y).
Every function returns the log-likelihood per observation and its derivative in mu, so the
model can chain-rule it into any mean structure (analytic gradients)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special, stats

Array = npt.NDArray[np.float64]

# Keeps logs and ratios finite when a trial step of the optimiser puts mu far from the data.
_TINY = 1e-300
_MIN_MU = 1e-10


def loglik(
    y: Array, mu: Array, censored: npt.NDArray[np.bool_], alpha: float
) -> tuple[Array, Array]:
    """Log-likelihood of each count and its derivative with respect to mu."""
    mu = np.maximum(mu, _MIN_MU)
    ll = np.empty_like(mu)
    d = np.empty_like(mu)
    open_ = ~censored
    if alpha <= 0:
        ll[open_], d[open_] = _poisson(y[open_], mu[open_])
        ll[censored], d[censored] = _poisson_at_least(y[censored], mu[censored])
    else:
        n = 1.0 / alpha
        ll[open_], d[open_] = _negbin(y[open_], mu[open_], n)
        ll[censored], d[censored] = _negbin_at_least(y[censored], mu[censored], n)
    return ll, d


def _poisson(y: Array, mu: Array) -> tuple[Array, Array]:
    return special.xlogy(y, mu) - mu - special.gammaln(y + 1), y / mu - 1


def _poisson_at_least(y: Array, mu: Array) -> tuple[Array, Array]:
    # P(Y >= y) is the regularised lower incomplete gamma P(y, mu); its mu-derivative is the
    # Poisson probability of y - 1.
    survival = np.where(y > 0, special.gammainc(np.maximum(y, 1), mu), 1.0)
    log_survival = np.log(np.maximum(survival, _TINY))
    log_pmf = special.xlogy(y - 1, mu) - mu - special.gammaln(np.maximum(y, 1))
    slope = np.where(y > 0, np.exp(np.minimum(log_pmf - log_survival, 700)), 0.0)
    return log_survival, slope


def _negbin(y: Array, mu: Array, n: float) -> tuple[Array, Array]:
    ll = (
        special.gammaln(y + n)
        - special.gammaln(n)
        - special.gammaln(y + 1)
        + n * np.log(n / (n + mu))
        + special.xlogy(y, mu / (n + mu))
    )
    return ll, y / mu - (y + n) / (n + mu)


def _negbin_at_least(y: Array, mu: Array, n: float) -> tuple[Array, Array]:
    # P(Y >= y) = I_{1-p}(y, n) with p = n / (n + mu); d/dmu = p^(n+1) (1-p)^(y-1) / (n B(n, y)).
    p = n / (n + mu)
    safe_y = np.maximum(y, 1)
    survival = np.where(y > 0, special.betainc(safe_y, n, 1 - p), 1.0)
    log_survival = np.log(np.maximum(survival, _TINY))
    log_slope = (
        (n + 1) * np.log(p) + (safe_y - 1) * np.log1p(-p) - np.log(n) - special.betaln(n, safe_y)
    )
    slope = np.where(y > 0, np.exp(np.minimum(log_slope - log_survival, 700)), 0.0)
    return log_survival, slope


def quantile(q: float, mu: Array, alpha: float) -> Array:
    """The q-quantile of each count (Poisson when alpha is 0)."""
    mu = np.maximum(mu, _MIN_MU)
    if alpha <= 0:
        return np.asarray(stats.poisson.ppf(q, mu), dtype=np.float64)
    n = 1.0 / alpha
    return np.asarray(stats.nbinom.ppf(q, n, n / (n + mu)), dtype=np.float64)


def expected_below(mu: Array, cap: Array, alpha: float) -> Array:
    """E[min(Y, cap)]: expected sales when demand Y is cut off at the capacity left.

    Closed form, one pass whatever the capacity. For a whole c >= 1,
        E[min(Y, c)] = E[Y 1{Y < c}] + c P(Y >= c),
    and k P(Y = k) = mu P(Y' = k - 1), where Y' is Poisson(mu) again, or for NB2 with size n
    and p = n / (n + mu) the NB with size n + 1 and the same p (its mean is mu (n + 1) / n).
    So E[Y 1{Y < c}] = mu P(Y' <= c - 2) and
        E[min(Y, c)] = mu F'(c - 2) + c (1 - F(c - 1)).
    A capacity that is not whole counts as the next whole number, as the sum of P(Y > k)
    over k < cap does; a capacity of 0 or below gives 0."""
    mu = np.maximum(np.asarray(mu, dtype=np.float64), _MIN_MU)
    c = np.maximum(np.ceil(np.asarray(cap, dtype=np.float64)), 0.0)
    c = np.broadcast_to(c, mu.shape)
    at_least = c >= 1
    k_below = np.maximum(c - 2, 0.0)  # F'(c - 2); 0 when c < 2, masked below
    k_last = np.maximum(c - 1, 0.0)  # P(Y >= c) = 1 - F(c - 1)
    if alpha <= 0:
        below = special.pdtr(k_below, mu)  # Poisson CDF
        tail = special.pdtrc(k_last, mu)  # Poisson survival P(Y > c - 1)
    else:
        n = 1.0 / alpha
        p = n / (n + mu)
        # NB CDF F(k; n, p) = I_p(n, k + 1); survival 1 - F(k) = I_{1-p}(k + 1, n).
        below = special.betainc(n + 1, k_below + 1, p)
        tail = special.betainc(k_last + 1, n, 1 - p)
    below = np.where(c >= 2, below, 0.0)
    out = np.where(at_least, mu * below + c * tail, 0.0)
    return np.asarray(out, dtype=np.float64)
