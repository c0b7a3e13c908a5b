"""Numba kernel of the masking step; same signature as :mod:`xai_fast.masking.fill_ref`."""

from __future__ import annotations

import numba as nb


@nb.njit(parallel=True)
def fill_masked_rows(X, B, Z, var_idx, start, out):
    """See :func:`xai_fast.masking.fill_ref.fill_masked_rows`."""
    N, d = B.shape
    S, M = Z.shape
    P = out.shape[0] // N
    for q in nb.prange(P):
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
