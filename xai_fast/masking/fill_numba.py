"""Numba kernel of the masking step; same signature as :mod:`xai_fast.masking.fill_ref`.

Serial on purpose: it fills one model-sized chunk (a few thousand rows) between model calls,
and a parallel region here leaves spinning threads that slow the model's own threads down
(measured 1.5-3x slower torch calls right after a parallel fill on 2 cores).
"""

from __future__ import annotations

import numba as nb


@nb.njit(cache=True)
def fill_masked_rows(X, B, Z, var_idx, start, out):
    """See :func:`xai_fast.masking.fill_ref.fill_masked_rows`."""
    N, d = B.shape
    S, M = Z.shape
    P = out.shape[0] // N
    for q in range(P):
        p = start + q
        i = p // S
        s = p % S
        r0 = q * N
        for b in range(N):
            for c in range(d):
                out[r0 + b, c] = B[b, c]
        for j in range(M):
            if Z[s, j]:
                c = var_idx[i, j]
                v = X[i, c]
                for b in range(N):
                    out[r0 + b, c] = v


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
