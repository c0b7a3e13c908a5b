"""Plain numpy reference of the batched, efficiency-constrained weighted least squares."""

from __future__ import annotations

import numpy as np


def constrained_wls(Z, w, Y, total):
    """Solve Kernel SHAP's weighted regression for many right-hand sides at once.

    For every column ``r`` find ``phi[:, r]`` minimising
    ``sum_s w[s] * (Y[s, r] - Z[s] @ phi[:, r])**2`` subject to ``phi[:, r].sum() == total[r]``.
    The constraint eliminates the last player; one factorisation serves every column.

    Parameters
    ----------
    Z : ndarray of float64, shape (S, M)
        Coalition matrix (0/1), ``M >= 2``.
    w : ndarray of float64, shape (S,)
        Kernel weights.
    Y : ndarray of float64, shape (S, R)
        ``link(E[f(coalition)]) - link(base value)`` per coalition and column.
    total : ndarray of float64, shape (R,)
        ``link(f(x)) - link(base value)`` per column.

    Returns
    -------
    phi : ndarray of float64, shape (M, R)

    Raises
    ------
    numpy.linalg.LinAlgError
        When the normal equations are singular (callers fall back to least squares).
    """
    M = Z.shape[1]
    X = Z[:, : M - 1] - Z[:, M - 1 :]  # (S, M-1)
    WX = X * w[:, None]
    Yadj = Y - Z[:, M - 1 :] * total[None, :]  # (S, R)
    sol = np.linalg.solve(X.T @ WX, WX.T @ Yadj)  # (M-1, R)
    phi = np.empty((M, Y.shape[1]))
    phi[: M - 1] = sol
    phi[M - 1] = total - sol.sum(axis=0)
    phi[np.abs(phi) < 1e-10] = 0.0
    return phi


def constrained_lstsq(Z, w, Y, total):
    """Minimum-norm fallback of :func:`constrained_wls` for singular designs (same shapes)."""
    M = Z.shape[1]
    X = Z[:, : M - 1] - Z[:, M - 1 :]
    sw = np.sqrt(w)[:, None]
    Yadj = Y - Z[:, M - 1 :] * total[None, :]
    sol = np.linalg.lstsq(sw * X, sw * Yadj, rcond=None)[0]
    phi = np.empty((M, Y.shape[1]))
    phi[: M - 1] = sol
    phi[M - 1] = total - sol.sum(axis=0)
    phi[np.abs(phi) < 1e-10] = 0.0
    return phi
