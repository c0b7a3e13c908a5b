"""Exact Shapley values of games whose odd part has terms of at most three players.

In the players' signs ``s = 2 z - 1`` a game is ``v = sum_T c_T prod_{i in T} s_i``; its Shapley
values depend only on its odd part ``(v(z) - v(1 - z)) / 2``, where a term of one player gives
that player ``2 c_i`` and a term of three gives each of them ``2 c_T / 3`` (see
:mod:`.odd_gp`). A design of complementary pairs observes the odd part exactly, one value per
pair. With more pairs than terms, a column whose odd part the fit of every one- and
three-player term reproduces to rounding is, but for a coincidence of the design, such a game,
and the fit's values are exact: products of up to four players' indicators (boosted trees of
depth 3 and 4, say) and any even part besides.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.linalg.blas

__all__ = ["exact_odd_cubic", "odd_cubic_terms"]

#: A fit whose normal equations are worse conditioned than this tells no column exact.
MAX_CONDITION = 1e12


def odd_cubic_terms(M: int) -> int:
    """Number of terms of one and of three players: ``M + C(M, 3)``."""
    return M + M * (M - 1) * (M - 2) // 6


def _triples(M: int):
    """Players ``(i, j, k)``, ``i < j < k``, of every three-player term, as three arrays."""
    i, j, k = np.nonzero(np.ones((M, M, M), dtype=bool))
    keep = (i < j) & (j < k)
    return i[keep], j[keep], k[keep]


def exact_odd_cubic(Z, w, Y, total, rtol=1e-9):
    """Shapley values of the columns whose odd part a one- and three-player fit reproduces.

    Parameters
    ----------
    Z : ndarray of bool, shape (S, M)
        Complementary pairs in adjacent rows (``Z[1::2] == ~Z[0::2]``).
    w : ndarray of float64, shape (S,)
        Weights of the coalitions (a pair's is the mean of its two).
    Y : ndarray of float64, shape (S, R)
        Coalition values minus the empty coalition's, per column.
    total : ndarray of float64, shape (R,)
        Full coalition's value minus the empty one's; the fit passes through it.
    rtol : float, default 1e-9
        A column is exact when the pairs' weighted squared residual is at most ``rtol**2``
        times the weighted sum of its squared values.

    Returns
    -------
    phi : ndarray of float64, shape (M, R)
        Sums to ``total`` per column.
    exact : ndarray of bool, shape (R,)
        The columns reproduced; ``phi`` of the others is not to be used. All ``False`` when
        the pairs do not outnumber the terms or the design cannot tell the terms apart.
    """
    S, M = Z.shape
    if S % 2 or not np.array_equal(Z[1::2], ~Z[0::2]):
        raise ValueError("exact_odd_cubic needs complementary pairs in adjacent rows of Z.")
    sT = 2.0 * Z[0::2].T - 1.0  # (M, n): players' signs, one row each
    y = (Y[0::2] - Y[1::2]) / 2.0  # (n, R)
    wp = (w[0::2] + w[1::2]) / 2.0  # (n,)
    i, j, k = _triples(M)
    FT = np.vstack([sT, sT[i] * sT[j] * sT[k]])  # (P, n): every term at every pair
    # at the full coalition every term is 1, so the coefficients sum to total / 2: the last
    # is eliminated
    XT = FT[:-1] - FT[-1:]  # (P - 1, n)
    yadj = y - FT[-1][:, None] * (total[None, :] / 2.0)
    none = np.zeros((M, Y.shape[1])), np.zeros(Y.shape[1], dtype=bool)
    if XT.shape[1] <= XT.shape[0]:  # no more pairs than terms: any odd part is reproduced
        return none
    root = np.sqrt(wp)
    XwT = XT * root[None, :]
    # the normal equations' lower triangle (a symmetric product: half a general one's work)
    G = scipy.linalg.blas.dsyrk(1.0, XwT.T, trans=1, lower=True)
    try:
        L, lower = scipy.linalg.cho_factor(G, lower=True, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        return none
    d = np.abs(np.diag(L))
    if d.min() ** 2 * MAX_CONDITION < d.max() ** 2:  # terms the design cannot tell apart
        return none
    sol = scipy.linalg.cho_solve((L, lower), XwT @ (yadj * root[:, None]), check_finite=False)
    resid = (wp[:, None] * (yadj - XT.T @ sol) ** 2).sum(axis=0)
    scale = (wp[:, None] * (Y[0::2] ** 2 + Y[1::2] ** 2)).sum(axis=0) / 2.0
    c = np.vstack([sol, total[None, :] / 2.0 - sol.sum(axis=0, keepdims=True)])  # (P, R)
    phi = 2.0 * c[:M]
    shares = (2.0 / 3.0) * c[M:]  # (C(M, 3), R): each of its players' share
    for players in (i, j, k):
        np.add.at(phi, players, shares)
    return phi, resid <= rtol**2 * np.maximum(scale, 1e-300)
