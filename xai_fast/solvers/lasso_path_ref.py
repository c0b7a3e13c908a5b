"""Plain reference of lime's ``"lasso_path"`` feature selection, one sklearn call per problem."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import lars_path_gram


def lasso_path_support(G, c, num_features, n_samples=1):
    """Features lime's ``"lasso_path"`` selection keeps, for many problems given as Gram matrices.

    Per problem, run the lasso LARS path and scan its coefficient columns from the last one down
    to column 1; keep the nonzero set of the first column with at most ``num_features`` nonzeros.
    If no column qualifies the nonzero set of column 1 is kept; a path of a single column keeps
    every feature.

    Parameters
    ----------
    G : ndarray of float64, shape (B, d, d)
        ``Xw.T @ Xw`` per problem, ``Xw`` the weighted-mean-centred data times ``sqrt(weights)``.
    c : ndarray of float64, shape (B, d)
        ``Xw.T @ yw`` per problem, ``yw`` the centred labels times ``sqrt(weights)``.
    num_features : int
        Largest support size wanted.
    n_samples : int, optional
        Divides the correlations into alphas. It matters only because the path stops once
        ``max |correlation| / n_samples`` falls to float32 eps; pass the number of rows of
        ``Xw`` to reproduce ``lars_path(Xw, yw)`` (what lime calls) exactly.

    Returns
    -------
    ndarray of bool, shape (B, d)
        Kept features per problem.
    """
    B, d = c.shape
    out = np.zeros((B, d), dtype=bool)
    for b in range(B):
        _, _, coefs = lars_path_gram(Xy=c[b], Gram=G[b], n_samples=n_samples, method="lasso")
        keep = np.arange(d)  # the loop body never runs on a one-column path
        for i in range(coefs.shape[1] - 1, 0, -1):
            keep = np.flatnonzero(coefs[:, i])
            if keep.size <= num_features:
                break
        out[b, keep] = True
    return out
