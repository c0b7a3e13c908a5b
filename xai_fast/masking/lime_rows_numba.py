"""Each explained row's LIME surrogate inputs and distances as a Numba kernel; same signature
as :func:`xai_fast.masking.lime_rows_ref.interpretable_rows`."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..sampling.lime_neighbourhood_ref import GAUSSIAN

__all__ = ["interpretable_rows"]


def interpretable_rows(codes, inst, z0, kinds, around):
    """See :func:`xai_fast.masking.lime_rows_ref.interpretable_rows`."""
    return _rows(codes, inst, z0, (kinds == GAUSSIAN), bool(around))


@nb.njit(cache=True)
def _rows(codes, inst, z0, gauss, around):
    S1, d = codes.shape
    n = inst.shape[0]
    Xs = np.empty((n, S1 + 1, d))
    dist = np.empty((n, S1 + 1))
    shift = np.zeros(d)
    for i in range(n):
        for j in range(d):
            Xs[i, 0, j] = z0[i, j] if gauss[j] else 1.0
            shift[j] = z0[i, j] if around else 0.0
        dist[i, 0] = 0.0
        for s in range(S1):
            acc = 0.0
            for j in range(d):
                if gauss[j]:
                    v = codes[s, j] + shift[j]
                else:  # branch-free: "same code as the row" is random
                    v = np.float64(codes[s, j] == inst[i, j])
                Xs[i, s + 1, j] = v
                diff = v - Xs[i, 0, j]
                acc += diff * diff
            dist[i, s + 1] = math.sqrt(acc)
    return Xs, dist
