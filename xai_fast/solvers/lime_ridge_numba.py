"""LIME's local surrogate as Numba kernels; same signatures as
:mod:`xai_fast.solvers.lime_ridge_ref`.

Serial loops over rows and labels: each problem is a few tiny ``(k, k)`` solves on one
Gram matrix, and the moments are one pass over the samples per row.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .lime_ridge_ref import HIGHEST, NONE

__all__ = ["ridge_fit", "select_features", "weighted_moments"]

_HIGHEST_ALPHA = 0.01


@nb.njit(cache=True)
def weighted_moments(X, w, Y):
    """See :func:`xai_fast.solvers.lime_ridge_ref.weighted_moments`."""
    n, S, d = X.shape
    L = Y.shape[2]
    xbar, ybar = np.zeros((n, d)), np.zeros((n, L))
    G, c, syy = np.zeros((n, d, d)), np.zeros((n, L, d)), np.zeros((n, L))
    xc = np.empty(d)
    Gi = np.empty((d, d))  # a local accumulator: the full square loop vectorises
    for i in range(n):
        Xi = X[i]
        wsum = 0.0
        for s in range(S):
            wsum += w[i, s]
            for j in range(d):
                xbar[i, j] += w[i, s] * Xi[s, j]
            for lab in range(L):
                ybar[i, lab] += w[i, s] * Y[i, s, lab]
        xbar[i] /= wsum
        ybar[i] /= wsum
        Gi[:] = 0.0
        for s in range(S):
            ws = w[i, s]
            for j in range(d):
                xc[j] = Xi[s, j] - xbar[i, j]
            for lab in range(L):
                yc = Y[i, s, lab] - ybar[i, lab]
                syy[i, lab] += ws * yc * yc
                for j in range(d):
                    c[i, lab, j] += ws * yc * xc[j]
            for a in range(d):
                wa = ws * xc[a]
                for b in range(d):
                    Gi[a, b] += wa * xc[b]
        G[i] = Gi
    return xbar, G, ybar, c, syy


@nb.njit(cache=True)
def _r2(sse, syy):
    if syy > 0:
        return 1.0 - sse / syy
    return 1.0 if sse <= 0 else 0.0


@nb.njit(cache=True)
def _sub(G, idx, k):
    A = np.empty((k, k))
    for a in range(k):
        for b in range(k):
            A[a, b] = G[idx[a], idx[b]]
    return A


@nb.njit(cache=True)
def _forward(G, c, syy, k, out):
    d = G.shape[0]
    taken = np.zeros(d, dtype=np.bool_)
    idx = np.empty(d, dtype=np.int64)
    for step in range(k):
        best, best_score = 0, -1e8
        for j in range(d):
            if taken[j]:
                continue
            idx[step] = j
            A = _sub(G, idx, step + 1)
            rhs = np.empty(step + 1)
            for a in range(step + 1):
                rhs[a] = c[idx[a]]
            beta = np.linalg.lstsq(A, rhs)[0]
            score = _r2(syy - np.dot(beta, rhs), syy)
            if score > best_score:
                best, best_score = j, score
        idx[step] = best
        taken[best] = True
        out[step] = best


@nb.njit(cache=True)
def select_features(G, c, syy, x0, method, num_features):
    """See :func:`xai_fast.solvers.lime_ridge_ref.select_features`."""
    n, L, d = c.shape
    used = np.full((n, L, d), -1, dtype=np.int64)
    k = d if method == NONE else min(num_features, d)
    for i in range(n):
        for lab in range(L):
            if method == NONE:
                for j in range(d):
                    used[i, lab, j] = j
            elif method == HIGHEST:
                A = G[i].copy()
                for j in range(d):
                    A[j, j] += _HIGHEST_ALPHA
                beta = np.linalg.solve(A, c[i, lab].copy())
                # stable descending sort of |beta * x0|: ties keep the lower index first
                order = np.argsort(-np.abs(beta * x0[i]), kind="mergesort")
                used[i, lab, :k] = order[:k]
            else:
                _forward(G[i], c[i, lab], syy[i, lab], k, used[i, lab])
    return used


@nb.njit(cache=True)
def ridge_fit(G, c, syy, xbar, ybar, x0, used, alpha):
    """See :func:`xai_fast.solvers.lime_ridge_ref.ridge_fit`."""
    n, L, d = c.shape
    coef = np.zeros((n, L, d))
    intercept, score, local_pred = np.zeros((n, L)), np.zeros((n, L)), np.zeros((n, L))
    for i in range(n):
        for lab in range(L):
            k = 0
            while k < d and used[i, lab, k] >= 0:
                k += 1
            u = used[i, lab, :k]
            A = _sub(G[i], u, k)
            cu = np.empty(k)
            for a in range(k):
                A[a, a] += alpha
                cu[a] = c[i, lab, u[a]]
            beta = np.linalg.solve(A, cu) if k > 0 else np.zeros(0)
            b0 = ybar[i, lab]
            pred = 0.0
            for a in range(k):
                A[a, a] -= alpha
                coef[i, lab, u[a]] = beta[a]
                b0 -= xbar[i, u[a]] * beta[a]
                pred += x0[i, u[a]] * beta[a]
            intercept[i, lab] = b0
            local_pred[i, lab] = b0 + pred
            sse = syy[i, lab] - 2.0 * np.dot(beta, cu) + np.dot(beta, A @ beta)
            score[i, lab] = _r2(sse, syy[i, lab])
    return coef, intercept, score, local_pred
