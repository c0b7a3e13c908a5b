"""Numba kernels of the masking step; same signatures as :mod:`xai_fast.masking.fill_ref`.

Serial on purpose: they run on one model-sized chunk (a few thousand rows) between model
calls, and a parallel region here leaves spinning threads that slow the model's own threads
down (measured 1.5-3x slower torch calls right after a parallel fill on 2 cores).
"""

from __future__ import annotations

import numba as nb
import numpy as np


def fill_masked_rows(X, B, Z, var_idx, start, out):
    """See :func:`xai_fast.masking.fill_ref.fill_masked_rows`.

    The rows are blended on the bit patterns of the values (same-width integer views), which
    keeps them exact (NaN and -0.0 included) and lets the compiler vectorise the inner loop.
    """
    bits = np.dtype(f"i{X.dtype.itemsize}")
    _fill_bits(X.view(bits), B.view(bits), Z, var_idx, start, out.view(bits))


@nb.njit(cache=True)
def _fill_bits(Xb, Bb, Z, var_idx, start, Ob):
    N, d = Bb.shape
    S, M = Z.shape
    P = Ob.shape[0] // N
    keep = np.zeros(d, dtype=Xb.dtype)  # all ones where the background value stays
    xrow = np.zeros(d, dtype=Xb.dtype)  # the instance's bits where they replace it, else 0
    for q in range(P):
        p = start + q
        i = p // S
        s = p % S
        keep[:] = -1
        for j in range(M):
            if Z[s, j]:
                keep[var_idx[i, j]] = 0
        for c in range(d):
            xrow[c] = Xb[i, c] & ~keep[c]
        r0 = q * N
        for b in range(N):
            for c in range(d):
                Ob[r0 + b, c] = xrow[c] | (Bb[b, c] & keep[c])


@nb.njit(cache=True)
def background_mean(out, weights, ey):
    """See :func:`xai_fast.masking.fill_ref.background_mean` (no BLAS: no competing threads)."""
    N = weights.shape[0]
    P, k = ey.shape
    for p in range(P):
        for c in range(k):
            acc = 0.0
            for b in range(N):
                acc += out[p * N + b, c] * weights[b]
            ey[p, c] = acc


def fill_rows_at(X, B, Z, var_idx, inst, coal, bg, out):
    """See :func:`xai_fast.masking.fill_ref.fill_rows_at` (values copied as bit patterns)."""
    bits = np.dtype(f"i{X.dtype.itemsize}")
    _fill_rows_bits(X.view(bits), B.view(bits), Z, var_idx, inst, coal, bg, out.view(bits))


@nb.njit(cache=True)
def _fill_rows_bits(Xb, Bb, Z, var_idx, inst, coal, bg, Ob):
    d = Ob.shape[1]
    M = Z.shape[1]
    for u in range(Ob.shape[0]):
        i, s, b = inst[u], coal[u], bg[u]
        for c in range(d):
            Ob[u, c] = Bb[b, c]
        for m in range(M):  # blended without branches: the coalitions' bits are random
            c = var_idx[i, m]
            take = -Xb.dtype.type(Z[s, m])  # all ones where the instance's value goes in
            Ob[u, c] = (Xb[i, c] & take) | (Ob[u, c] & ~take)
