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

__all__ = ["choose_ridge", "n_terms", "poly_wls"]


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


def _solve(G, c, rebuild=None):
    """``G^-1 c`` by Cholesky, least squares where ``G`` is not positive definite. With
    ``rebuild`` (a callable making ``G`` again), ``G`` is factored in place."""
    try:
        factor = scipy.linalg.cho_factor(G, overwrite_a=rebuild is not None, check_finite=False)
        return scipy.linalg.cho_solve(factor, c, check_finite=False)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G if rebuild is None else rebuild(), c, rcond=None)[0]


def poly_wls(Z, w, Y, total, order=1, block=None, n_blocks=16, ridge=(0.0,), errors=True):
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
    ridge : sequence of float, default (0.0,)
        Candidate ridge penalties on the terms of three or more players (main effects and
        pairs are left free: few, and fitted well by any design), relative to the mean
        diagonal of the normal equations. With more than one and ``block`` of
        int64, the one with the least leave-one-block-out error in predicting the held-out
        coalitions' values is used (see :func:`choose_ridge`).
    errors : bool, default True
        Compute the jackknife errors when ``block`` is given (``False``: ``block`` only
        serves the choice of ``ridge``; ``std`` is ``None``).

    Returns
    -------
    phi : ndarray of float64, shape (M, R)
    std : ndarray of float64, shape (M, R) or None
        Jackknife standard errors (0 for a fully enumerated design); ``None`` without
        ``block`` or with ``errors=False``.
    """
    S, M = Z.shape
    terms = _terms(M, order)
    A = _features(Z, terms)  # (S, P)
    X = A[:, :-1] - A[:, -1:]  # eliminate the last term: coefficients sum to ``total``
    Yadj = Y - A[:, -1:] * total[None, :]
    T = _share(M, terms)
    interaction = np.array([len(t) > 2 for t in terms[:-1]])  # (P-1,)

    def shapley(sol):  # (P-1, R) -> (M, R)
        beta = np.vstack([sol, total[None, :] - sol.sum(axis=0, keepdims=True)])
        return T @ beta

    def normal(rows, wt=w):
        WX = X[rows] * wt[rows, None]
        return X[rows].T @ WX, WX.T @ Yadj[rows]

    def penalty(G, lam):  # (P-1, P-1): lam * mean diagonal on the terms of 3+ players
        return np.diag(np.where(interaction, lam * np.mean(np.diag(G)), 0.0))

    if block is None:
        G, c = normal(slice(None))
        return shapley(_solve(G + penalty(G, ridge[0]), c)), None
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
    lam = ridge[0]
    if len(ridge) > 1 and block.ndim == 1 and not fixed.all():
        held = [(X[block == b], Yadj[block == b], w[block == b]) for b in range(n_blocks)]
        lam = choose_ridge(G_e, c_e, parts, held, scales[0], ridge, penalty(G_e + G_r, 1.0))
    D = penalty(G_e + G_r, lam)
    phi = shapley(_solve(G_e + G_r + D, c_e + c_r))
    if not errors:
        return phi, None
    if fixed.all():
        return phi, np.zeros_like(phi)

    def refit(b):  # the fit without block b
        (Gb, cb), a = parts[b], scales[b]

        def matrix():
            return G_e + a * (G_r - Gb) + D

        return shapley(_solve(matrix(), c_e + a * (c_r - cb), rebuild=matrix))

    reps = np.stack([refit(b) for b in range(n_blocks)])  # (K, M, R)
    std = np.sqrt((n_blocks - 1.0) / n_blocks * ((reps - reps.mean(axis=0)) ** 2).sum(axis=0))
    return phi, std


def choose_ridge(G_e, c_e, parts, held, scale, ridge, D1):
    """The candidate penalty with the least leave-one-block-out prediction error.

    Parameters
    ----------
    G_e, c_e : ndarray, shape (P, P) and (P, R)
        Normal equations of the enumerated rows.
    parts : list of (G_b, c_b)
        Normal equations of each block's rows.
    held : list of (X_b, Y_b, w_b)
        Each block's rows ``(S_b, P)``, targets ``(S_b, R)`` and weights ``(S_b,)``.
    scale : float
        Reweighting of the kept sampled rows, ``K / (K - 1)``.
    ridge : sequence of float
        Candidates; ``D1`` ``(P, P)`` is the penalty matrix of 1.

    Returns
    -------
    float
        Each column's squared errors are summed relative to its weighted sum of squares, so
        every row and output has the same say; ties go to the first candidate. A candidate
        whose refit is not positive definite without some block (fewer rows than terms
        left) is out.
    """
    G_r = sum(p[0] for p in parts)
    c_r = sum(p[1] for p in parts)
    norm = sum((wb[:, None] * Yb**2).sum(axis=0) for _, Yb, wb in held)  # (R,)
    norm = np.where(norm > 0, norm, 1.0)
    diag = np.diag_indices_from(G_e)
    d1 = np.diag(D1)  # the penalty is diagonal

    def held_out_errors(b):  # block b's prediction error under each candidate
        (Gb, cb), (Xb, Yb, wb) = parts[b], held[b]
        base = G_e + scale * (G_r - Gb)
        rhs = c_e + scale * (c_r - cb)
        out = []
        for lam in ridge:
            A = base.copy()
            A[diag] += lam * d1
            try:  # a penalty too small for the rows left is not a candidate
                factor = scipy.linalg.cho_factor(A, overwrite_a=True, check_finite=False)
            except np.linalg.LinAlgError:
                out.append(np.inf)
                continue
            sol = scipy.linalg.cho_solve(factor, rhs, check_finite=False)
            out.append(float(((wb[:, None] * (Yb - Xb @ sol) ** 2).sum(axis=0) / norm).sum()))
        return out

    errs = [held_out_errors(b) for b in range(len(parts))]  # (K, candidates)
    cv = [sum(e[j] for e in errs) for j in range(len(ridge))]  # summed in block order
    return float(ridge[int(np.argmin(cv))])
