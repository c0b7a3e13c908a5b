"""Plain numpy reference of the kernel that finds equal perturbed rows (the test oracle)."""

from __future__ import annotations

import numpy as np


def distinct_masked_rows(CX, CB, weight, word, Z, var_idx, start, P):
    """Number the distinct perturbed rows of consecutive (instance, coalition) pairs.

    The rows are those :func:`~xai_fast.masking.fill_ref.fill_masked_rows` writes for pairs
    ``start .. start + P - 1`` (``N`` per pair), here given by per-column codes of their values:
    equal codes in a column mean equal values. A row's key is ``sum_c weight[c] * code[c]``
    over the columns of each key word (``word[c]``); two rows are equal when every word is.

    Parameters
    ----------
    CX : ndarray of int64, shape (n, d)
        Codes of the instances' values.
    CB : ndarray of int64, shape (N, d)
        Codes of the background rows' values.
    weight : ndarray of int64, shape (d,)
        Place value of each column within its key word (each word's keys stay below 2**63).
    word : ndarray of int64, shape (d,)
        Key word of each column (0 .. W - 1).
    Z : ndarray of bool, shape (S, M)
    var_idx : ndarray of int64, shape (n, M)
    start, P : int
        The pairs: ``start .. start + P - 1``.

    Returns
    -------
    ids : ndarray of int64, shape (P * N,)
        ``ids[r]``: the distinct row that row ``r`` equals. Distinct rows are numbered by the
        background row of their first occurrence, then in order of first occurrence, so that
        consecutive ones share most values (tree ensembles run markedly faster on such runs).
    first : ndarray of int64, shape (U,)
        ``first[u]``: the first row equal to distinct row ``u``.
    """
    N, d = CB.shape
    S = Z.shape[0]
    p = start + np.arange(P)
    i, s = p // S, p % S
    full = np.zeros((P, d), dtype=bool)
    full[np.arange(P)[:, None], var_idx[i]] = Z[s]
    codes = np.where(full[:, None, :], CX[i][:, None, :], CB[None, :, :])  # (P, N, d)
    W = int(word.max()) + 1
    place = np.where(word[:, None] == np.arange(W), weight[:, None], 0)  # (d, W)
    keys = codes.reshape(P * N, d) @ place  # (P * N, W), exact: each key is below 2**63
    flat = keys[:, 0] if W == 1 else keys  # one word: a plain (faster) unique
    _, first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)
    order = np.lexsort((first, first % N))  # by background row, then first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.reshape(-1)].astype(np.int64), first[order].astype(np.int64)
