"""LIME's local surrogate, plain numpy reference: weighted moments, feature selection, ridge.

Every fit lime makes per explained row and label (``Ridge(alpha, fit_intercept=True)`` with
``sample_weight``, its R^2 score, the prediction at the explained row) depends on the data only
through weighted, centred moments, so all of them are computed from one Gram matrix per row:

    xbar = sum_s w_s x_s / sum_s w_s                       (d,)
    G    = sum_s w_s (x_s - xbar)(x_s - xbar)^T            (d, d)
    c    = sum_s w_s (x_s - xbar)(y_s - ybar)              (d,)   per label
    syy  = sum_s w_s (y_s - ybar)^2                                per label

Batched shapes: ``n`` rows, ``S`` samples, ``d`` features, ``L`` labels.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FORWARD",
    "HIGHEST",
    "NONE",
    "ridge_fit",
    "select_features",
    "weighted_moments",
]

NONE, FORWARD, HIGHEST = 0, 1, 2
_HIGHEST_ALPHA = 0.01  # lime's ridge for "highest_weights"


def weighted_moments(X, w, Y):
    """Weighted means and centred second moments.

    Parameters
    ----------
    X : ndarray, shape (n, S, d)
    w : ndarray, shape (n, S)
        Positive sample weights.
    Y : ndarray, shape (n, S, L)

    Returns
    -------
    xbar : (n, d)
    G : (n, d, d)
    ybar : (n, L)
    c : (n, L, d)
    syy : (n, L)
    """
    wsum = w.sum(axis=1)
    xbar = np.einsum("ns,nsd->nd", w, X) / wsum[:, None]
    ybar = np.einsum("ns,nsl->nl", w, Y) / wsum[:, None]
    Xc = X - xbar[:, None, :]
    Yc = Y - ybar[:, None, :]
    G = np.einsum("ns,nsi,nsj->nij", w, Xc, Xc)
    c = np.einsum("ns,nsl,nsd->nld", w, Yc, Xc)
    syy = np.einsum("ns,nsl->nl", w, Yc**2)
    return xbar, G, ybar, c, syy


def r2(sse, syy):
    """Weighted R^2 as scikit-learn scores it (1 for a perfect fit of constant labels)."""
    if syy > 0:
        return 1.0 - sse / syy
    return 1.0 if sse <= 0 else 0.0


def select_features(G, c, syy, x0, method, num_features):
    """lime's ``"none"``, ``"forward_selection"`` or ``"highest_weights"`` selection.

    Parameters
    ----------
    G, c, syy : see :func:`weighted_moments`
    x0 : ndarray, shape (n, d)
        The explained row in the surrogate's space (lime's ``data[0]``).
    method : int
        ``NONE``, ``FORWARD`` or ``HIGHEST``.
    num_features : int

    Returns
    -------
    used : ndarray of int64, shape (n, L, d)
        Selected features in lime's order, padded with -1.
    """
    n, L, d = c.shape
    used = np.full((n, L, d), -1, dtype=np.int64)
    k = d if method == NONE else min(num_features, d)
    for i in range(n):
        for lab in range(L):
            if method == NONE:
                chosen = list(range(d))
            elif method == HIGHEST:
                beta = np.linalg.solve(G[i] + _HIGHEST_ALPHA * np.eye(d), c[i, lab])
                chosen = sorted(range(d), key=lambda j: -abs(beta[j] * x0[i, j]))[:k]
            else:
                chosen = _forward(G[i], c[i, lab], syy[i, lab], k)
            used[i, lab, : len(chosen)] = chosen
    return used


def _forward(G, c, syy, k):
    chosen: list[int] = []
    for _ in range(k):
        best, best_score = 0, -1e8
        for j in range(G.shape[0]):
            if j in chosen:
                continue
            idx = chosen + [j]
            beta = np.linalg.lstsq(G[np.ix_(idx, idx)], c[idx], rcond=None)[0]
            score = r2(syy - beta @ c[idx], syy)  # least squares: SSE = syy - beta.c
            if score > best_score:
                best, best_score = j, score
        chosen.append(best)
    return chosen


def ridge_fit(G, c, syy, xbar, ybar, x0, used, alpha):
    """Ridge with intercept on the selected features, as ``Ridge(alpha).fit(...)`` gives it.

    Parameters
    ----------
    G, c, syy, xbar, ybar : see :func:`weighted_moments`
    x0 : ndarray, shape (n, d)
    used : ndarray of int64, shape (n, L, d)
        From :func:`select_features` (-1 padded).
    alpha : float

    Returns
    -------
    coef : (n, L, d)
        Zero for features not used.
    intercept, score, local_pred : (n, L)
        Intercept, weighted R^2 on the samples, and the surrogate's value at ``x0``.
    """
    n, L, d = c.shape
    coef = np.zeros((n, L, d))
    intercept, score, local_pred = np.zeros((n, L)), np.zeros((n, L)), np.zeros((n, L))
    for i in range(n):
        for lab in range(L):
            u = used[i, lab][used[i, lab] >= 0]
            Gu, cu = G[i][np.ix_(u, u)], c[i, lab, u]
            beta = np.linalg.solve(Gu + alpha * np.eye(len(u)), cu) if len(u) else np.zeros(0)
            coef[i, lab, u] = beta
            intercept[i, lab] = ybar[i, lab] - xbar[i, u] @ beta
            local_pred[i, lab] = intercept[i, lab] + x0[i, u] @ beta
            sse = syy[i, lab] - 2 * beta @ cu + beta @ Gu @ beta
            score[i, lab] = r2(sse, syy[i, lab])
    return coef, intercept, score, local_pred
