"""Shapley values from walks along feature orders: marginal contributions, forward and back.

Every order is walked forward (adding its features one at a time, from nothing to everything)
and back (removing them in the same order); each walk's contributions telescope to the
row's total, so the averaged values add up exactly (shap's antithetic permutation estimate).
"""

from __future__ import annotations

import numpy as np

__all__ = ["walk_values"]


def walk_values(v: np.ndarray, total: np.ndarray, perm: np.ndarray, n_rows: int):
    """Values and per-walk standard deviations from the walks' inner coalition values.

    Parameters
    ----------
    v : ndarray of float64, shape (n_rows * P, 2 M - 2, k)
        Values (minus the empty coalition's) of each order's inner coalitions, as
        :func:`~xai_fast.sampling.permutations.chain_coalitions` lists them: the first ``1 ..
        M - 1`` features kept (forward), then all but the first ``1 .. M - 1`` (back).
    total : ndarray of float64, shape (n_rows * P, k)
        The full coalition's value (minus the empty one's) of each order's row.
    perm : ndarray of int, shape (n_rows * P, M)
        The orders, in positions ``0 .. M - 1`` of the row's features.
    n_rows : int
        Rows; the orders of row ``i`` are ``i * P .. (i + 1) * P - 1``.

    Returns
    -------
    mean, std : ndarray of float64, shape (n_rows, M, k)
        Over the ``2 P`` walks of each row, features in their positions' order.
    """
    nP, M = perm.shape
    k = v.shape[-1]
    full = total[:, None, :]
    empty = np.zeros((nP, 1, k))
    fwd = np.concatenate([empty, v[:, : M - 1], full], axis=1)  # first k in order kept
    bwd = np.concatenate([full, v[:, M - 1 :], empty], axis=1)  # first k in order dropped
    walks = np.stack([np.diff(fwd, axis=1), -np.diff(bwd, axis=1)], axis=1)  # (nP, 2, M, k)
    back = np.argsort(perm, axis=1)[:, None, :, None]  # order positions -> features
    walks = np.take_along_axis(walks, back, axis=2).reshape(n_rows, -1, M, k)
    return walks.mean(axis=1), walks.std(axis=1)
