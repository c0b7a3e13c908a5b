"""Kernel SHAP regression with interaction terms, and jackknife error bars.

The value of a coalition is fitted, under the Shapley kernel weights and the efficiency
constraint, by a polynomial in the players' indicators with all terms up to ``order`` players
(``order=1`` is Kernel SHAP's linear regression). Each term's coefficient is then shared
equally by its players, which gives the Shapley values of the fitted game; with every
coalition in the design they are exact for any order (PolySHAP). Paired designs make the
order-2 fit equal to the linear one, so order 3 is the first that helps; it needs about
``C(M, 3)`` more coalitions than players, which is why ``sampler="auto"`` uses it only for small
``M``.

Error bars: the sampled pairs are dealt to ``K`` blocks; the fit is repeated without each block
(the other sampled rows reweighted by ``K / (K - 1)``, enumerated rows kept), and the spread of
the ``K`` leave-one-block-out estimates gives the delete-one jackknife standard error. All fits
share the per-block normal equations, so the ``K`` refits cost ``K`` small solves, not ``K``
passes over the data.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.linalg

__all__ = ["n_terms", "poly_wls"]


def n_terms(M: int, order: int) -> int:
    """Number of interaction terms with 1 .. ``order`` players."""
    return sum(math.comb(M, k) for k in range(1, order + 1))


def _terms(M: int, order: int) -> list[tuple[int, ...]]:
    return [t for k in range(1, order + 1) for t in itertools.combinations(range(M), k)]


def _features(Z: np.ndarray, terms) -> np.ndarray:
    """Indicator products ``(S, P)``: 1 where every player of the term is in the coalition."""
    Zf = Z.astype(np.float64)
    out = np.empty((Z.shape[0], len(terms)))
    for p, t in enumerate(terms):  # P columns, each a vectorised product over rows
        col = Zf[:, t[0]].copy()
        for i in t[1:]:
            col *= Zf[:, i]
        out[:, p] = col
    return out


def _share(M: int, terms) -> np.ndarray:
    """``T`` ``(M, P)``: a term's coefficient shared equally by its players."""
    T = np.zeros((M, len(terms)))
    for p, t in enumerate(terms):
        T[list(t), p] = 1.0 / len(t)
    return T


def _solve(G, c):
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(G, check_finite=False), c)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G, c, rcond=None)[0]


def poly_wls(Z, w, Y, total, order=1, block=None, n_blocks=16):
    """Shapley values from a constrained polynomial fit, with optional jackknife errors.

    Parameters
    ----------
    Z : ndarray of bool, shape (S, M)
    w : ndarray of float64, shape (S,)
        Kernel weights over inclusion probabilities.
    Y : ndarray of float64, shape (S, R)
        Coalition values minus the empty coalition's, per column.
    total : ndarray of float64, shape (R,)
        Full coalition's value minus the empty one's.
    order : int, default 1
        Largest interaction in the fit.
    block : ndarray of int64, shape (S,), or of float64, shape (S, n_blocks), optional
        Jackknife block of each sampled row (-1: enumerated), or each row's draws per block
        (a design drawn with replacement; all 0: enumerated). Without a block its sampled rows
        are reweighted by ``K / (K - 1)`` (by the sampled weight over what is left, for draw
        counts). ``None`` skips error bars.
    n_blocks : int, default 16

    Returns
    -------
    phi : ndarray of float64, shape (M, R)
    std : ndarray of float64, shape (M, R) or None
        Jackknife standard errors (0 for a fully enumerated design).
    """
    S, M = Z.shape
    terms = _terms(M, order)
    A = _features(Z, terms)  # (S, P)
    X = A[:, :-1] - A[:, -1:]  # eliminate the last term: coefficients sum to ``total``
    Yadj = Y - A[:, -1:] * total[None, :]
    T = _share(M, terms)

    def shapley(sol):  # (P-1, R) -> (M, R)
        beta = np.vstack([sol, total[None, :] - sol.sum(axis=0, keepdims=True)])
        return T @ beta

    def normal(rows, wt=w):
        WX = X[rows] * wt[rows, None]
        return X[rows].T @ WX, WX.T @ Yadj[rows]

    if block is None:
        G, c = normal(slice(None))
        return shapley(_solve(G, c)), None
    if block.ndim == 2:  # draws per block: a row's weight is shared by its blocks
        drawn = block.sum(axis=1)
        fixed = drawn == 0
        share = block / np.where(fixed, 1.0, drawn)[:, None]  # (S, K)
        parts = [normal(np.flatnonzero(share[:, b]), w * share[:, b]) for b in range(n_blocks)]
        w_r = w[~fixed].sum()
        scales = [w_r / (w_r - (w * share[:, b]).sum()) for b in range(n_blocks)]
    else:
        fixed = block < 0
        parts = [normal(block == b) for b in range(n_blocks)]
        scales = [n_blocks / (n_blocks - 1.0)] * n_blocks
    G_e, c_e = normal(fixed)
    G_r = sum(p[0] for p in parts)
    c_r = sum(p[1] for p in parts)
    phi = shapley(_solve(G_e + G_r, c_e + c_r))
    if fixed.all():
        return phi, np.zeros_like(phi)
    reps = np.stack(
        [
            shapley(_solve(G_e + a * (G_r - Gb), c_e + a * (c_r - cb)))
            for (Gb, cb), a in zip(parts, scales, strict=True)
        ]
    )  # (K, M, R)
    std = np.sqrt((n_blocks - 1.0) / n_blocks * ((reps - reps.mean(axis=0)) ** 2).sum(axis=0))
    return phi, std
