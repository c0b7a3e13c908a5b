"""The Gaussian-process fit of a game's odd part (``sampler="auto"``), against oracles that
enumerate every term of the prior explicitly."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from oracles import product_game

from xai_fast.backends import get_backend
from xai_fast.sampling.leverage_plan import plan_leverage
from xai_fast.solvers.odd_gp import krawtchouk_normalised, odd_gp


def _design(M, budget, seed):
    plan = plan_leverage(M, budget)
    Z, _, _ = get_backend("numpy").leverage_design(
        M, np.uint64(seed), plan.sizes, plan.pairs, plan.enumerated, 16
    )
    return Z


def _odd_terms(M):
    """Every term of 3, 5, ... players."""
    return [t for k in range(3, M + 1, 2) for t in itertools.combinations(range(M), k)]


def _signs(Z, terms):
    s = 2.0 * Z - 1.0
    return np.stack([np.prod(s[:, list(t)], axis=1) for t in terms], axis=1)  # (S, P)


def _prior(Z, Y, total, rho):
    """Observed odd part, signs, every odd term's signs, variances and Shapley shares."""
    M = Z.shape[1]
    terms = _odd_terms(M)
    Zs = np.vstack([Z[0::2], np.ones((1, M), dtype=bool)])
    y = np.vstack([(Y[0::2] - Y[1::2]) / 2, total[None] / 2])
    var_t = np.array([rho ** ((len(t) - 3) / 2) / math.comb(M, len(t)) for t in terms])
    share = np.zeros((M, len(terms)))  # a term's Shapley value per unit coefficient
    for p, t in enumerate(terms):
        share[list(t), p] = 2.0 / len(t)
    return y, 2.0 * Zs - 1.0, _signs(Zs, terms), var_t, share


def _oracle(Z, Y, total, rho):
    """Kriging with free linear terms, the prior covariances summed term by term: posterior
    mean and standard deviation of the values, and the restricted likelihood."""
    y, s, F, var_t, share = _prior(Z, Y, total, rho)
    n, M = s.shape
    K = (F * var_t) @ F.T  # (n, n)
    k = (F * var_t) @ share.T  # (n, M) covariance of the odd part with each share
    Ki = np.linalg.inv(K)
    A = s.T @ Ki @ s
    beta = np.linalg.solve(A, s.T @ Ki @ y)
    r = y - s @ beta
    mean = 2.0 * beta + k.T @ Ki @ r
    B = 2.0 * np.eye(M) - s.T @ Ki @ k
    var = np.diag((share * var_t) @ share.T - k.T @ Ki @ k + B.T @ np.linalg.solve(A, B))
    quad = np.einsum("nr,nm,mr->r", r, Ki, r)
    reml = -0.5 * ((n - M) * np.log(quad / (n - M)) + np.linalg.slogdet(K)[1]
                   + np.linalg.slogdet(A)[1])  # fmt: skip
    return mean, np.sqrt(var)[:, None] * np.sqrt(quad / (n - M))[None], reml


def _nearly_flat(Z, Y, total, rho, big=1e8):
    """The posterior mean and variance by conditioning one joint Gaussian, the linear terms of
    prior variance ``big`` (nearly flat; its rounding leaves about 1e-5 relative)."""
    y, s, F, var_t, share = _prior(Z, Y, total, rho)
    M = s.shape[1]
    cov_y = big * s @ s.T + (F * var_t) @ F.T
    cov_phi_y = 2.0 * big * s.T + (share * var_t) @ F.T  # (M, n)
    cov_phi = 4.0 * big * np.eye(M) + (share * var_t) @ share.T
    sol = np.linalg.solve(cov_y, np.column_stack([y, cov_phi_y.T]))
    return cov_phi_y @ sol[:, : y.shape[1]], np.diag(cov_phi - cov_phi_y @ sol[:, y.shape[1] :])


@pytest.mark.parametrize("M", [7, 40, 150])
def test_krawtchouk_sums_match_integer_arithmetic(M, rng):
    orders = tuple(sorted(rng.choice(M + 1, size=min(M + 1, 12), replace=False).tolist()))
    kappa = krawtchouk_normalised(M, orders)
    for a, k in enumerate(orders):
        for d in rng.choice(M + 1, size=6, replace=False):
            exact = sum((-1) ** j * math.comb(d, j) * math.comb(M - d, k - j)
                        for j in range(max(0, k - (M - d)), min(d, k) + 1))  # fmt: skip
            assert kappa[a, d] == pytest.approx(exact / math.comb(M, k), abs=1e-12)


@pytest.mark.parametrize("rho", [0.05, 0.6])
def test_values_and_errors_match_the_term_by_term_posterior(rho, rng):
    M = 8
    Z = _design(M, 60, int(rng.integers(2**31)))
    Y = rng.normal(size=(len(Z), 3))
    total = rng.normal(size=3)
    phi, std = odd_gp(Z, Y, total, rhos=(rho,), errors=True)
    mean, want_std, _ = _oracle(Z, Y, total, rho)
    np.testing.assert_allclose(phi, mean, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(std, want_std, rtol=1e-6, atol=1e-10)
    flat_mean, flat_var = _nearly_flat(Z, Y, total, rho)  # the kriging algebra itself
    np.testing.assert_allclose(phi, flat_mean, rtol=1e-3, atol=1e-6)
    scale = std[:, :1] ** 2 / flat_var[:, None]  # the same posterior up to the fitted scale
    np.testing.assert_allclose(scale / scale[0], 1.0, rtol=1e-3)
    np.testing.assert_allclose(phi.sum(axis=0), total, rtol=0, atol=1e-12)


def test_each_column_keeps_the_prior_of_largest_restricted_likelihood(rng):
    M, rhos = 8, (0.01, 0.3, 0.6)
    Z = _design(M, 70, int(rng.integers(2**31)))
    # columns of different decays: a cubic-only game, a high-order one, noise
    s = 2.0 * Z - 1.0
    Y = np.column_stack([
        s[:, :3].prod(axis=1) + s[:, 3],
        s[:, :7].prod(axis=1) + 0.3 * s[:, 2:5].prod(axis=1),
        rng.normal(size=len(Z)),
    ])  # fmt: skip
    Y = Y - Y[:1] * 0  # values as given; the odd part is what matters
    total = rng.normal(size=3)
    phi, _ = odd_gp(Z, Y, total, rhos=rhos)
    fits = [_oracle(Z, Y, total, r) for r in rhos]
    pick = np.argmax(np.stack([f[2] for f in fits]), axis=0)
    for col, p in enumerate(pick):
        np.testing.assert_allclose(phi[:, col], fits[p][0][:, col], rtol=1e-5, atol=1e-7)


def _fourier_game(M, coef):
    """``v(z) = sum_T coef[T] prod_{i in T} (2 z_i - 1)`` and its Shapley values."""

    def v(Z):
        s = 2.0 * Z - 1.0
        return sum(c * np.prod(s[:, list(t)], axis=1) for t, c in coef.items())

    phi = np.zeros(M)
    for t, c in coef.items():
        if len(t) % 2:
            phi[list(t)] += 2.0 * c / len(t)
    return v, phi


@pytest.mark.parametrize("M", [12, 30])
def test_games_of_main_effects_and_even_terms_are_exact(M, rng):
    coef = {(i,): rng.normal() for i in range(M)}
    for _ in range(3 * M):  # pairs and four-player terms leave the odd part linear
        k = int(rng.choice([2, 4]))
        coef[tuple(sorted(rng.choice(M, k, replace=False).tolist()))] = rng.normal()
    v, truth = _fourier_game(M, coef)
    Z = _design(M, 8 * M, int(rng.integers(2**31)))
    empty = v(np.zeros((1, M), dtype=bool))
    Y = (v(Z) - empty)[:, None]
    total = v(np.ones((1, M), dtype=bool)) - empty
    phi, std = odd_gp(Z, Y, total, errors=True)
    np.testing.assert_allclose(phi[:, 0], truth, rtol=0, atol=1e-9 * np.abs(truth).max())
    assert np.all(std < 1e-6 * np.abs(truth).max())


def test_even_terms_change_nothing(rng):
    M = 14
    Z = _design(M, 300, int(rng.integers(2**31)))
    Y = rng.normal(size=(len(Z), 2))
    total = rng.normal(size=2)
    s = 2.0 * Z - 1.0
    even = s[:, :4].prod(axis=1) * 3.0 + s[:, 5:7].prod(axis=1)  # same on both halves of a pair
    phi, _ = odd_gp(Z, Y, total)
    phi_even, _ = odd_gp(Z, Y + even[:, None], total)
    np.testing.assert_allclose(phi_even, phi, rtol=0, atol=1e-10)


def test_error_bars_cover_games_drawn_from_the_prior(rng):
    """Games whose odd terms are drawn from the prior: two standard errors cover about 95%."""
    M, rho, covered, count = 11, 0.3, 0, 0
    terms = _odd_terms(M)
    sd = np.array([math.sqrt(rho ** ((len(t) - 3) / 2) / math.comb(M, len(t))) for t in terms])
    for _ in range(40):
        coef = {(i,): rng.normal() for i in range(M)}
        coef.update(zip(terms, rng.normal(size=len(terms)) * sd * 2.0, strict=True))
        v, truth = _fourier_game(M, coef)
        Z = _design(M, 200, int(rng.integers(2**31)))
        empty = v(np.zeros((1, M), dtype=bool))
        phi, std = odd_gp(Z, (v(Z) - empty)[:, None], v(np.ones((1, M), dtype=bool)) - empty,
                          rhos=(rho,), errors=True)  # fmt: skip
        covered += int((np.abs(phi[:, 0] - truth) <= 2 * std[:, 0]).sum())
        count += M
    assert 0.88 <= covered / count <= 0.99


def test_unpaired_rows_are_refused():
    Z = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 0], [0, 1, 1]], dtype=bool)
    with pytest.raises(ValueError, match="complementary pairs"):
        odd_gp(Z, np.zeros((4, 1)), np.zeros(1))


@pytest.mark.parametrize("orders, exact", [((2, 3), True), ((3, 4), True), ((4, 5), False)])
def test_auto_is_exact_on_games_of_at_most_four_player_products(orders, exact, rng):
    # a product of four players' indicators has an odd part of one- and three-player terms
    import xai_fast as xf

    f, B, rows, truth = product_game(12, orders, 20, rng)
    e = xf.KernelExplainer(f, B, seed=int(rng.integers(2**31)), sampler="auto")
    out = e(rows, nsamples=1024, error_bars=True, silent=True)
    err = np.abs(out.values - truth).max() / np.abs(truth).max()
    if exact:  # the odd cubic check takes over: exact values, zero error bars
        assert err < 1e-9 and np.all(out.error_std == 0)
    else:  # five-player products: the Gaussian process, inexact, with error bars
        assert 1e-9 < err < 0.2 and np.all(out.error_std > 0)


def test_a_large_design_is_fitted_with_a_candidate_chosen_on_a_subset(rng):
    """Each column equals the whole design's fit under one of the candidates, chosen on 40
    pairs spread over the 150."""
    M, rhos = 10, (0.01, 0.1, 0.6)
    Z = _design(M, 300, int(rng.integers(2**31)))
    s = 2.0 * Z - 1.0
    Y = np.column_stack([s[:, :5].prod(axis=1), s[:, 2:5].prod(axis=1) + s[:, 0],
                         rng.normal(size=len(Z))])  # fmt: skip
    total = rng.normal(size=3)
    phi, std = odd_gp(Z, Y, total, rhos=rhos, errors=True, select_pairs=40)
    singles = [odd_gp(Z, Y, total, rhos=(r,), errors=True) for r in rhos]
    for col in range(3):
        match = [
            np.allclose(phi[:, col], p[:, col], rtol=1e-12, atol=1e-14)
            and np.allclose(std[:, col], e[:, col], rtol=1e-12)
            for p, e in singles
        ]
        assert sum(match) >= 1, col
