"""Permutation designs: shap's feature orders, and the coalitions along them.

shap's ``PermutationExplainer`` shuffles each row's varying features in place,
``npermutations`` times, with ``numpy.random.shuffle`` from a generator seeded once at
construction; :func:`shap_orders` draws the same orders from a ``RandomState`` of its own (no
global state). Every order is walked forward (adding features one at a time) and back (removing
them in the same order); in the order's own positions these walks are the same coalitions for
every order, :func:`chain_coalitions`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["chain_coalitions", "shap_orders"]


def shap_orders(rs: np.random.RandomState, var_idx: np.ndarray, npermutations: int) -> np.ndarray:
    """The feature orders shap draws for rows sharing ``M`` varying features.

    Parameters
    ----------
    rs : numpy.random.RandomState
        Advanced as shap's global generator is: one in-place shuffle per order.
    var_idx : ndarray of int, shape (n, M)
        Each row's varying features, ascending (shap's ``varying_inputs()``), rows in the order
        shap explains them.
    npermutations : int

    Returns
    -------
    ndarray of int, shape (n, npermutations, M)
        Order ``p`` of row ``i``: the ``p``-th shuffle of that row's features, each shuffle
        starting from the previous one's result, as shap's.
    """
    n, M = var_idx.shape
    out = np.empty((n, npermutations, M), dtype=np.int64)
    for i in range(n):  # the generator's stream is sequential: one shuffle after another
        inds = var_idx[i].copy()
        for p in range(npermutations):
            rs.shuffle(inds)
            out[i, p] = inds
    return out


def chain_coalitions(M: int) -> np.ndarray:
    """The coalitions strictly inside the forward and backward walks of any order, in the
    order's positions: ``(2 * M - 2, M)`` booleans.

    Rows ``0 .. M - 2``: the first ``k`` positions kept (``k = 1 .. M - 1``, forward). Rows
    ``M - 1 .. 2 M - 3``: all but the first ``k`` kept (backward). The walks' ends, nothing kept
    and everything kept, are the same for every order (the background mean and the row's own
    output) and are not repeated here.
    """
    k = np.arange(1, M)[:, None]
    pos = np.arange(M)[None, :]
    return np.vstack([pos < k, pos >= k])
