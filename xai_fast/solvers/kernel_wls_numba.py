"""Numba kernel of the batched, efficiency-constrained weighted least squares.

Same signature as :func:`xai_fast.solvers.kernel_wls_ref.constrained_wls`.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def constrained_wls(Z, w, Y, total):
    """See :func:`xai_fast.solvers.kernel_wls_ref.constrained_wls`.

    Raises LinAlgError when the normal equations are singular.
    """
    S, M = Z.shape
    R = Y.shape[1]
    X = np.empty((S, M - 1))
    WX = np.empty((S, M - 1))
    Yadj = np.empty((S, R))
    for s in range(S):
        zl = Z[s, M - 1]
        for j in range(M - 1):
            X[s, j] = Z[s, j] - zl
            WX[s, j] = X[s, j] * w[s]
        for r in range(R):
            Yadj[s, r] = Y[s, r] - zl * total[r]
    A = np.dot(X.T, WX)  # (M-1, M-1)
    B = np.dot(WX.T, Yadj)  # (M-1, R)
    sol = np.linalg.solve(A, B)
    phi = np.empty((M, R))
    for r in range(R):
        acc = 0.0
        for j in range(M - 1):
            phi[j, r] = sol[j, r]
            acc += sol[j, r]
        phi[M - 1, r] = total[r] - acc
    for j in range(M):
        for r in range(R):
            if abs(phi[j, r]) < 1e-10:
                phi[j, r] = 0.0
    return phi
