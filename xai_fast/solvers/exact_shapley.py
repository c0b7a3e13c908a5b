"""Shapley values and pairwise interaction values from the value of every coalition.

The coalition axis is in binary-code order (see :func:`xai_fast.sampling.enumeration.
all_coalitions`): reshaped C-order to ``(2,) * M``, axis ``M - 1 - j`` is player ``j``'s bit.
"""

from __future__ import annotations

from math import factorial

import numpy as np


def _popcounts(M: int) -> np.ndarray:
    codes = np.arange(2**M, dtype=np.int64)
    return ((codes[:, None] >> np.arange(M)) & 1).sum(axis=1)


def shapley_from_values(v: np.ndarray) -> np.ndarray:
    """Exact Shapley values of games given on all coalitions.

    ``phi_j = sum_{S not containing j} |S|! (M-|S|-1)! / M! * (v(S + j) - v(S))``.

    Parameters
    ----------
    v : ndarray of float64, shape (n, 2**M, k)
        Value of every coalition, for ``n`` games with ``k`` outputs each.

    Returns
    -------
    ndarray of float64, shape (n, M, k)
    """
    n, C, k = v.shape
    M = C.bit_length() - 1
    coef = np.array([factorial(s) * factorial(M - s - 1) / factorial(M) for s in range(M)])
    cube = v.reshape((n,) + (2,) * M + (k,))
    size = _popcounts(M).reshape((2,) * M)
    phi = np.empty((n, M, k))
    for j in range(M):  # one vectorised pass per player
        a = M - 1 - j
        diff = (np.take(cube, 1, axis=1 + a) - np.take(cube, 0, axis=1 + a)).reshape(n, -1, k)
        weight = coef[np.take(size, 0, axis=a).ravel()]  # (2**(M-1),)
        phi[:, j, :] = np.einsum("nsk,s->nk", diff, weight)
    return phi


#: Interaction indices :func:`interactions_from_values` computes.
INDICES = ("shapley", "shapley_taylor")


def interactions_from_values(v: np.ndarray, index: str = "shapley") -> np.ndarray:
    """Exact pairwise interaction values, split as shap does.

    Off the diagonal ``Phi_ij = Phi_ji`` is half the pair's interaction index, a weighted sum
    ``sum_{S without i, j} w(|S|) (v(S+i+j) - v(S+i) - v(S+j) + v(S))``:

    - ``"shapley"`` (the Shapley interaction index, shap's ``TreeExplainer`` convention):
      ``w(s) = s! (M-s-2)! / (M-1)!``; the diagonal holds ``phi_i - sum_{j != i} Phi_ij``, so
      every row sums to ``phi_i``.
    - ``"shapley_taylor"`` (the Shapley-Taylor index of order 2, shap's ``ExactExplainer``
      convention): ``w(s) = 2 s! (M-s-1)! / M!``; the diagonal holds the main effects
      ``v({i}) - v({})``.

    Either way every row sums to ``phi_i`` (Shapley-Taylor shares each Harsanyi dividend of
    ``|A| >= 2`` players equally among its pairs) and the matrix to ``v(all) - v({})``; the
    two differ in how a dividend of three or more players is split between pairs.

    Parameters
    ----------
    v : ndarray of float64, shape (n, 2**M, k)
    index : {"shapley", "shapley_taylor"}

    Returns
    -------
    ndarray of float64, shape (n, M, M, k)
    """
    if index not in INDICES:
        raise ValueError(f"index must be one of {INDICES}; got {index!r}.")
    n, C, k = v.shape
    M = C.bit_length() - 1
    out = np.zeros((n, M, M, k))
    if M < 2:
        out[:, 0, 0, :] = v[:, 1, :] - v[:, 0, :]  # one player: its value, its main effect
        return out
    if index == "shapley":
        coef = [factorial(s) * factorial(M - s - 2) / factorial(M - 1) for s in range(M - 1)]
    else:
        coef = [2 * factorial(s) * factorial(M - s - 1) / factorial(M) for s in range(M - 1)]
    coef = np.array(coef)
    cube = v.reshape((n,) + (2,) * M + (k,))
    size = _popcounts(M).reshape((2,) * M)
    for i in range(M):
        ai = M - 1 - i  # player i's axis in `size`; +1 in `cube` (leading game axis)
        for j in range(i + 1, M):
            aj = M - 1 - j  # < ai: dropping axis ai first leaves aj in place

            def at(bi, bj, ai=ai, aj=aj):
                return np.take(np.take(cube, bi, axis=1 + ai), bj, axis=1 + aj)

            delta = (at(1, 1) - at(1, 0) - at(0, 1) + at(0, 0)).reshape(n, -1, k)
            rest = np.take(np.take(size, 0, axis=ai), 0, axis=aj).ravel()
            out[:, i, j, :] = out[:, j, i, :] = 0.5 * np.einsum("nsk,s->nk", delta, coef[rest])
    if index == "shapley":
        phi = shapley_from_values(v)
        for i in range(M):
            out[:, i, i, :] = phi[:, i, :] - out[:, i, :, :].sum(axis=1)
    else:
        singles = v[:, 1 << np.arange(M), :] - v[:, :1, :]  # (n, M, k): v({i}) - v({})
        out[:, np.arange(M), np.arange(M), :] = singles
    return out
