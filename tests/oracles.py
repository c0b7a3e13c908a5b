"""Independent oracles for the tests: brute-force Shapley values and closed-form games."""

from __future__ import annotations

import itertools
import math

import numpy as np


def brute_force_shapley(f, x, background, weights=None):
    """Exact interventional Shapley values of ``f`` at row ``x`` by enumerating all coalitions.

    Parameters
    ----------
    f : callable, (n, d) -> (n,) or (n, k)
    x : ndarray, shape (d,)
    background : ndarray, shape (N, d)
    weights : ndarray, shape (N,), optional

    Returns
    -------
    ndarray, shape (d, k)
    """
    d = len(x)
    N = len(background)
    w = np.full(N, 1.0 / N) if weights is None else np.asarray(weights) / np.sum(weights)
    masks = np.array(list(itertools.product([False, True], repeat=d)))  # (2^d, d)
    rows = np.where(masks[:, None, :], x[None, None, :], background[None])
    out = np.asarray(f(rows.reshape(-1, d)), dtype=float).reshape(len(masks), N, -1)
    v = np.einsum("snk,n->sk", out, w)  # (2^d, k)
    index = {tuple(m): i for i, m in enumerate(masks)}
    phi = np.zeros((d, v.shape[1]))
    for m_i, m in enumerate(masks):
        s = int(m.sum())
        for j in np.nonzero(~m)[0]:
            with_j = m.copy()
            with_j[j] = True
            coef = math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d)
            phi[j] += coef * (v[index[tuple(with_j)]] - v[m_i])
    return phi


class PairwiseGame:
    """``f(x) = a @ x + sum_{i<j} C[i, j] x_i x_j``, with closed-form Shapley values."""

    def __init__(self, d, rng, density=0.3):
        self.a = rng.normal(size=d)
        self.C = np.triu(rng.normal(size=(d, d)) * (rng.random((d, d)) < density), 1)

    def __call__(self, X):
        return X @ self.a + np.einsum("ni,ij,nj->n", X, self.C, X)

    def shapley_values(self, X, background):
        """Shapley values ``(n, d)``: each product term is split as a two-player game."""
        m = background.mean(axis=0)
        mm = background.T @ background / len(background)
        S = self.C + self.C.T  # symmetric coefficients, zero diagonal
        # phi_i += 1/2 sum_j S_ij (x_i m_j - m_ij + x_i x_j - m_i x_j)
        pair = 0.5 * (
            X * (m @ S)[None, :]
            - np.sum(S * mm, axis=1)[None, :]
            + X * (X @ S)
            - m[None, :] * (X @ S)
        )
        return self.a * (X - m) + pair


def product_game(M, orders, n_terms, rng, n_rows=3, row_range=(0.5, 1.5)):
    """Main effects plus ``n_terms`` products of random players (sizes drawn from ``orders``)
    against a zero background row: ``(f, background (1, M), rows (n_rows, M), exact)``, each
    product's value at a row shared equally by its players (the closed form)."""
    a = rng.normal(size=M)
    terms = [rng.choice(M, int(rng.choice(orders)), replace=False) for _ in range(n_terms)]
    coef = rng.normal(size=n_terms) * 2.0

    def f(X):
        return X @ a + sum(c * np.prod(X[:, t], axis=1) for c, t in zip(coef, terms, strict=True))

    rows = rng.choice([-1.0, 1.0], size=(n_rows, M)) * rng.uniform(*row_range, size=(n_rows, M))
    exact = rows * a
    for c, t in zip(coef, terms, strict=True):
        exact[:, t] += (c * np.prod(rows[:, t], axis=1) / len(t))[:, None]
    return f, np.zeros((1, M)), rows, exact


def distinct_walk_sets(seed: int, n: int, d: int, P: int) -> int:
    """Distinct kept sets of shap's permutation walks, summed over ``n`` rows of ``d`` varying
    features with ``P`` orders each: shap shuffles each row's features in place ``P`` times
    with ``numpy.random.shuffle`` from a generator seeded once, and walks every order forward
    and back (the walks' ends, nothing and everything kept, not counted)."""
    rs, kept = np.random.RandomState(seed), 0
    for _ in range(n):
        order, sets = np.arange(d), set()
        for _ in range(P):
            rs.shuffle(order)
            sets |= {frozenset(order[:k].tolist()) for k in range(1, d)}
            sets |= {frozenset(order[k:].tolist()) for k in range(1, d)}
        kept += len(sets)
    return kept
