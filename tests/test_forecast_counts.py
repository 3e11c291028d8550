"""counts.expected_below, E[min(Y, c)], in closed form against the direct sum it replaced."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats

from forecasting import counts

Array = npt.NDArray[np.float64]


def expected_below_by_sum(mu: Array, cap: Array, alpha: float) -> Array:
    """The old loop: E[min(Y, c)] = sum_{k < c} P(Y > k), one pass per unit of capacity."""
    mu = np.maximum(mu, 1e-10)
    out = np.zeros_like(mu)
    top = int(np.max(cap)) if cap.size else 0
    for k in range(top):
        alive = cap > k
        if alpha <= 0:
            sf = stats.poisson.sf(k, mu[alive])
        else:
            n = 1.0 / alpha
            sf = stats.nbinom.sf(k, n, n / (n + mu[alive]))
        out[alive] += sf
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 1e-5, 0.015, 0.3, 2.0])
def test_closed_form_matches_the_sum_on_random_cases(seed: int, alpha: float) -> None:
    rng = np.random.default_rng([seed, int(alpha * 1e6)])
    size = 300
    # Means from almost nothing to far above the capacity, capacities from 0 to a few hundred,
    # with many rows near the capacity (where the cut-off matters most).
    mu = np.exp(rng.uniform(np.log(1e-3), np.log(600), size))
    cap = rng.integers(0, 400, size).astype(np.float64)
    near = rng.random(size) < 0.3
    cap[near] = np.maximum(np.round(mu[near] + rng.normal(0, 3, near.sum())), 0)
    cap[:4] = [0, 1, 2, 3]
    expected = expected_below_by_sum(mu, cap, alpha)
    got = counts.expected_below(mu, cap, alpha)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)


def test_limits_capacity_zero_tiny_and_huge_means() -> None:
    mu = np.array([5.0, 5.0, 1e-12, 1e6, 40.0, 40.0])
    cap = np.array([0.0, -2.0, 10.0, 50.0, 1.0, 1e5])
    for alpha in (0.0, 0.05):
        got = counts.expected_below(mu, cap, alpha)
        assert got[0] == 0.0 and got[1] == 0.0  # no capacity left: no sales
        assert got[2] == pytest.approx(0.0, abs=1e-9)
        assert got[3] == pytest.approx(50.0, rel=1e-9)  # demand far above: sells out
        assert got[4] == pytest.approx(
            1 - (stats.nbinom.pmf(0, 20, 20 / 60) if alpha else np.exp(-40))
        )
        assert got[5] == pytest.approx(40.0, rel=1e-12)  # capacity far above: the mean


def test_a_capacity_of_100000_takes_one_pass() -> None:
    """The loop took seconds here (100,000 scipy calls); the closed form is one vectorised call.
    Checked by result against a Monte Carlo mean, not by wall-clock time."""
    rng = np.random.default_rng(3)
    mu = np.array([50_000.0, 99_990.0, 120_000.0])
    cap = np.full(3, 100_000.0)
    got = counts.expected_below(mu, cap, 0.015)
    n = 1 / 0.015
    draws = rng.negative_binomial(n, n / (n + mu[:, None]), size=(3, 200_000))
    simulated = np.minimum(draws, cap[:, None]).mean(axis=1)
    np.testing.assert_allclose(got, simulated, rtol=2e-3)
