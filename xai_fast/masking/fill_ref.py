"""Plain numpy reference of the masking kernel (the test oracle)."""

from __future__ import annotations

import numpy as np


def fill_masked_rows(X, B, Z, var_idx, start, out):
    """Write the perturbed rows of consecutive (instance, coalition) pairs into ``out``.

    Pair ``p`` is instance ``p // S`` under coalition ``p % S``. Its ``N`` rows are the
    background rows with the coalition's players set to the instance's values.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Instances being explained, in the model's input dtype.
    B : ndarray, shape (N, d)
        Background rows, same dtype as ``X``.
    Z : ndarray of bool, shape (S, M)
        Coalitions over the ``M`` varying features.
    var_idx : ndarray of int64, shape (n, M)
        Column of each varying feature, per instance.
    start : int
        First pair to write.
    out : ndarray, shape (P * N, d)
        Destination; ``P = out.shape[0] // N`` pairs are written.
    """
    n, d = X.shape
    N = B.shape[0]
    S = Z.shape[0]
    P = out.shape[0] // N
    p = start + np.arange(P)
    i, s = p // S, p % S
    full = np.zeros((P, d), dtype=bool)
    full[np.arange(P)[:, None], var_idx[i]] = Z[s]
    rows = np.where(full[:, None, :], X[i][:, None, :], B[None, :, :])  # (P, N, d)
    out[:] = rows.reshape(P * N, d)


def background_mean(out, weights, ey):
    """Weighted mean of the model output over each pair's ``N`` background rows.

    Parameters
    ----------
    out : ndarray of float64, shape (P * N, k)
        Model outputs of consecutive pairs, ``N`` rows each.
    weights : ndarray of float64, shape (N,)
        Background weights (summing to 1).
    ey : ndarray of float64, shape (P, k)
        Destination.
    """
    N = weights.shape[0]
    ey[:] = np.einsum("pnk,n->pk", out.reshape(-1, N, out.shape[1]), weights, optimize=False)


def fill_rows_at(X, B, Z, var_idx, inst, coal, bg, out):
    """Write chosen perturbed rows into ``out``: row ``u`` is background row ``bg[u]`` with the
    players of coalition ``coal[u]`` set to instance ``inst[u]``'s values.

    Parameters
    ----------
    X, B, Z, var_idx
        As in :func:`fill_masked_rows`.
    inst, coal, bg : ndarray of int64, shape (U,)
        Instance, coalition and background row of each row.
    out : ndarray, shape (U, d)
        Destination.
    """
    U, d = out.shape
    full = np.zeros((U, d), dtype=bool)
    full[np.arange(U)[:, None], var_idx[inst]] = Z[coal]
    out[:] = np.where(full, X[inst], B[bg])
