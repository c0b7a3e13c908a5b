"""Equal perturbed rows of a tabular call are evaluated once.

Instance ``x``, coalition ``z`` and background row ``b`` give the model row ``where(z, x, b)``
on ``x``'s varying features, so the row depends only on ``z`` restricted to the features where
``x`` differs from ``b``; on mostly categorical data most rows repeat, within a background row
and across background rows and instances. A :class:`DistinctRows` plan numbers the distinct
rows of each block of pairs (backend kernel ``distinct_masked_rows``); the masker builds and
evaluates only those and copies each output to every row equal to it before the background
mean. The means are then those of evaluating every row, bit for bit, for a model whose output
for a row depends on that row alone (``ModelAdapter(model, dedup_rows=False)`` turns it off).

Rows are compared exactly: each column's values are coded by their bit patterns (in the dtype
the model gets), and a row's key is the mixed-radix number of its codes, in as many 63-bit
words as the columns need. The plan is made only when the repeats are worth it (see
:func:`plan_distinct`); on continuous data, where every varying feature differs from every
background row, it costs one comparison of the rows with the background.
"""

from __future__ import annotations

import numpy as np

from .._runtime.thread_pools import LazyThreadPool

__all__ = [
    "BLOCK_ROWS",
    "MAX_BLOCK_ROWS",
    "MIN_SAVED",
    "MIN_SAVED_MODULE",
    "DistinctRows",
    "column_codes",
    "distinct_share",
    "key_places",
    "plan_distinct",
    "where_rows",
]

#: Perturbed rows numbered at once: whole instances up to this many rows (a table that stays
#: in cache: twice as fast as 2**21 rows), or one instance of up to :data:`MAX_BLOCK_ROWS`.
#: Equal rows of different blocks are evaluated once per block.
BLOCK_ROWS = 2**19
#: Most rows of one block (an instance with more is split): at most about 360 MiB of tables and
#: outputs at once, and 180 MiB more for the next block being numbered.
MAX_BLOCK_ROWS = 2**22
#: Smallest expected share of rows saved for which the plan is made, for a callable (a tree
#: ensemble's row costs about 1 us, numbering and building a row 40-60 ns) and for a torch
#: module on the CPU (a 12-64-64-1 MLP on 2 cores: 1.26x faster with 61% saved, 0.79x with
#: 34%, 0.5x with none; a tree ensemble 1.8x faster with 62% saved).
MIN_SAVED = 0.25
MIN_SAVED_MODULE = 0.6
#: (instance, background row) pairs whose repeats are counted to estimate the share saved.
SAMPLE_PAIRS = 64
#: Most coalitions counted exactly for one such pair (beyond it: an upper bound).
SAMPLE_COALITIONS = 2**16


_PLANNER = LazyThreadPool(1, "xai_fast-distinct")  # numbers the next block


def column_codes(X: np.ndarray, B: np.ndarray):
    """Codes of each column's values: equal codes exactly where the bit patterns are equal.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    B : ndarray, shape (N, d)
        Same dtype as ``X`` (1, 2, 4 or 8 bytes a value).

    Returns
    -------
    CX : ndarray of int64, shape (n, d)
    CB : ndarray of int64, shape (N, d)
    levels : ndarray of int64, shape (d,)
        Distinct values of each column (codes run from 0 to ``levels - 1``).
    """
    n = X.shape[0]
    bits = np.concatenate([X, B]).view(f"u{X.dtype.itemsize}")  # (n + N, d)
    order = np.argsort(bits, axis=0, kind="stable")
    ranked = np.take_along_axis(bits, order, axis=0)
    new = np.ones(ranked.shape, dtype=np.int64)
    new[1:] = ranked[1:] != ranked[:-1]
    rank = np.cumsum(new, axis=0) - 1  # (n + N, d), in sorted order
    codes = np.empty_like(rank)
    np.put_along_axis(codes, order, rank, axis=0)
    return codes[:n], codes[n:], rank[-1] + 1


def key_places(levels: np.ndarray):
    """Place value and key word of each column, for keys that stay below 2**63 in each word.

    Columns with one value get place 0; the others are packed in order, a new word starting
    when the product of the levels would reach 2**63.

    Returns
    -------
    weight, word : ndarray of int64, shape (d,)
    """
    weight = np.zeros(levels.shape, dtype=np.int64)
    word = np.zeros(levels.shape, dtype=np.int64)
    w, span = 0, 1
    for c in np.nonzero(levels > 1)[0]:  # once per call, over the columns
        L = int(levels[c])
        if span * L >= 2**63:
            w, span = w + 1, 1
        weight[c], word[c] = span, w
        span *= L
    return weight, word


def _differs(CX, CB, var_idx, rows, cols=None):
    """Whether instance ``rows[q]``'s varying features differ from background row ``cols[q]``
    (``(Q, M)``), or from every background row (``(len(rows), N, M)``) without ``cols``."""
    CXv = np.take_along_axis(CX[rows], var_idx[rows], axis=1)  # (Q, M)
    if cols is not None:
        return CXv != CB[cols[:, None], var_idx[rows]]
    return CXv[:, None, :] != CB[:, var_idx[rows]].transpose(1, 0, 2)


def every_feature_differs(CX, CB, var_idx) -> bool:
    """Whether every varying feature of every instance differs from every background row
    (``CX`` ``(n, d)`` and ``CB`` ``(N, d)`` integers: codes, or the values' bit patterns)."""
    n, N, M = CX.shape[0], CB.shape[0], var_idx.shape[1]
    step = max(1, 2**22 // max(N * M, 1))  # instances compared at once: (step, N, M) bools
    chunks = (np.arange(i, min(n, i + step)) for i in range(0, n, step))
    return all(_differs(CX, CB, var_idx, rows).all() for rows in chunks)


def distinct_share(CX, CB, Z, var_idx) -> float:
    """Expected share of a call's perturbed rows that are distinct (an upper estimate).

    Counts, for up to :data:`SAMPLE_PAIRS` (instance, background row) pairs evenly spread, the
    distinct restrictions of the coalitions to the features where they differ (their rows
    within that background row); rows equal across background rows or instances are not
    counted, so the share is at most this. Returns 1.0 at once when every varying feature of
    every instance differs from every background row.
    """
    n, N = CX.shape[0], CB.shape[0]
    S, M = Z.shape
    if every_feature_differs(CX, CB, var_idx):
        return 1.0
    q = np.unique(np.linspace(0, n * N - 1, min(SAMPLE_PAIRS, n * N)).astype(np.int64))
    D = _differs(CX, CB, var_idx, q // N, q % N)  # (Q, M)
    bound = np.minimum(1.0, 2.0 ** D.sum(axis=1) / S)  # at most 2**|D| distinct per pair
    if M > 64 or S > SAMPLE_COALITIONS:
        return float(bound.mean())
    place = np.left_shift(np.uint64(1), np.arange(M, dtype=np.uint64))
    codes = np.where(Z, place, np.uint64(0)).sum(axis=1, dtype=np.uint64)  # (S,)
    dmask = np.where(D, place, np.uint64(0)).sum(axis=1, dtype=np.uint64)  # (Q,)
    kept = np.sort(codes[None, :] & dmask[:, None], axis=1)  # (Q, S)
    distinct = 1 + (kept[:, 1:] != kept[:, :-1]).sum(axis=1)
    return float((distinct / S).mean())


class DistinctRows:
    """The distinct perturbed rows of one call's pairs, numbered block by block.

    Parameters
    ----------
    kernel : callable
        The backend's ``distinct_masked_rows``.
    codes : tuple
        ``(CX, CB, levels)`` from :func:`column_codes`.
    Z : ndarray of bool, shape (S, M)
    var_idx : ndarray of int64, shape (n, M)
    """

    def __init__(self, kernel, codes, Z, var_idx):
        self.kernel = kernel
        self.CX, self.CB, levels = codes
        self.weight, self.word = key_places(levels)
        self.Z, self.var_idx = Z, var_idx
        S, N = Z.shape[0], self.CB.shape[0]
        self.pairs = self.CX.shape[0] * S
        # whole instances per block, so that all the repeats of an instance meet
        per_row = S * N
        if per_row <= BLOCK_ROWS:
            self.block_pairs = S * (BLOCK_ROWS // per_row)
        else:
            self.block_pairs = S if per_row <= MAX_BLOCK_ROWS else max(1, MAX_BLOCK_ROWS // N)

    def blocks(self):
        """Yield ``(start, P, ids, first)`` for consecutive blocks of pairs: the pairs
        ``start .. start + P - 1``, the distinct row ``ids`` ``(P * N,)`` of each of their rows
        and the first row ``first`` ``(U,)`` of each distinct row (see the kernel).

        The next block is numbered on a planning thread while the caller evaluates this one
        (the Numba kernel releases the GIL), so the numbering costs little wall time when the
        model leaves a core free.
        """
        starts = range(0, self.pairs, self.block_pairs)
        if len(starts) == 1:
            yield self._block(starts[0])
            return
        ahead = _PLANNER.get().submit(self._block, starts[0])
        for k in range(len(starts)):
            block = ahead.result()
            if k + 1 < len(starts):
                ahead = _PLANNER.get().submit(self._block, starts[k + 1])
            yield block

    def _block(self, start: int):
        P = min(self.block_pairs, self.pairs - start)
        ids, first = self.kernel(
            self.CX, self.CB, self.weight, self.word, self.Z, self.var_idx, start, P
        )
        return start, P, ids, first


def where_rows(first, start: int, S: int, N: int):
    """Instance, coalition and background row ``(3, U)`` of rows ``first`` of the pairs from
    ``start`` (``N`` rows a pair, ``S`` coalitions an instance), for ``fill_rows_at``."""
    pair, bg = np.divmod(first, N)
    inst, coal = np.divmod(pair + start, S)
    return inst, coal, bg


def plan_distinct(model, kernel, X, B, Z, var_idx, min_saved=MIN_SAVED):
    """A :class:`DistinctRows` plan for the pairs of ``X`` ``(n, d)`` and ``Z`` ``(S, M)``, or
    ``None`` when every row is to be sent.

    ``None`` when the model asks for every row (``model.dedup_rows`` false), when the values
    are not numbers of 1 to 8 bytes, or when fewer than ``min_saved`` of the rows are expected
    to repeat (see :func:`distinct_share`).

    Parameters
    ----------
    model : ModelAdapter
    kernel : callable
        The backend's ``distinct_masked_rows``.
    X, B : ndarray, shapes (n, d), (N, d)
        The instances and background rows in the dtype the model gets.
    Z : ndarray of bool, shape (S, M)
    var_idx : ndarray of int64, shape (n, M)
    min_saved : float
        Smallest share of rows saved worth the numbering.
    """
    if getattr(model, "dedup_rows", None) is False:
        return None
    if X.dtype.kind not in "biuf" or X.dtype.itemsize not in (1, 2, 4, 8):
        return None
    if X.shape[0] == 0 or Z.shape[0] < 2 or Z.shape[1] == 0:
        return None
    B = B.astype(X.dtype, copy=False)
    bits = f"u{X.dtype.itemsize}"  # equal bit patterns: equal codes (continuous data: no repeat)
    if every_feature_differs(X.view(bits), B.view(bits), var_idx):
        return None
    codes = column_codes(X, B)
    if distinct_share(codes[0], codes[1], Z, var_idx) > 1.0 - min_saved:
        return None
    return DistinctRows(kernel, codes, Z, var_idx)
