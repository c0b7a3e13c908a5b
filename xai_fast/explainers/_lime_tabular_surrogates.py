"""The surrogates of tabular LIME: kernel weights of the samples, lime's feature selection and
the weighted ridge (or a user's regressor) for every (row, label) at once."""

from __future__ import annotations

import numpy as np

from ..solvers.lime_ridge_ref import FORWARD, HIGHEST, NONE


def exponential_kernel(d, kernel_width):
    """lime's default similarity ``sqrt(exp(-d**2 / width**2))``."""
    return np.sqrt(np.exp(-(d**2) / kernel_width**2))


def _selection(feature_selection: str, num_features: int) -> str:
    """lime's ``"auto"``: forward selection up to 6 features, highest weights above."""
    sel = feature_selection
    if sel == "auto":
        sel = "forward_selection" if num_features <= 6 else "highest_weights"
    return sel


def _kernel_weights(kernel, kernel_width: float, Xs, dist, metric):
    """Kernel weights of each row's samples ``Xs`` ``(n_c, S, d)``: ``(n_c, S)``.

    ``dist`` ``(n_c, S)`` holds the euclidean distances to the row; another ``metric`` is
    computed with scikit-learn.
    """
    if metric != "euclidean":
        from sklearn.metrics import pairwise_distances

        try:
            dist = np.stack([pairwise_distances(x, x[:1], metric=metric)[:, 0] for x in Xs])
        except ValueError as err:
            raise ValueError(f"distance_metric {metric!r} is not usable: {err}") from None
    w = np.asarray(kernel(dist, kernel_width), dtype=np.float64)
    if w.shape != dist.shape or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(
            f"the kernel must return finite non-negative weights of shape {dist.shape} for "
            f"distances of that shape; got shape {w.shape}."
        )
    if (w.sum(axis=1) <= 0).any():
        raise ValueError(
            f"every sample got weight 0 for some row; widen kernel_width (now {kernel_width:g})."
        )
    return w


def _fit_surrogates(kernels, Xs, w, Y, method, num_features, model_regressor):
    """Selection and surrogate for every (row, label): dict of (n_c, L, ...) arrays.

    ``kernels`` is a :class:`~xai_fast.backends.Backend`; ``Xs`` ``(n_c, S, d)``, ``w``
    ``(n_c, S)`` and ``Y`` ``(n_c, S, L)`` are the rows' samples, weights and outputs.
    """
    xbar, G, ybar, c, syy = kernels.weighted_moments(Xs, w, np.ascontiguousarray(Y))
    x0 = np.ascontiguousarray(Xs[:, 0, :])
    if method == "lasso_path":
        n_c, L, d = c.shape
        G_rep = np.repeat(G, L, axis=0)  # one problem per (row, label)
        support = kernels.lasso_path_support(G_rep, c.reshape(-1, d), num_features, Xs.shape[1])
        used = _support_to_used(support.reshape(n_c, L, d))
    else:
        code = {"none": NONE, "forward_selection": FORWARD, "highest_weights": HIGHEST}[method]
        used = kernels.select_features(G, c, syy, x0, code, num_features)
    if model_regressor is None:
        coef, intercept, score, local_pred = kernels.ridge_fit(G, c, syy, xbar, ybar, x0, used, 1.0)
    else:
        coef, intercept, score, local_pred = _fit_regressor(model_regressor, Xs, w, Y, used)
    return {
        "used": used,
        "coef": coef,
        "intercept": intercept,
        "score": score,
        "local_pred": local_pred,
    }


def _support_to_used(support):
    """Boolean supports ``(n, L, d)`` -> ascending indices padded with -1."""
    n, L, d = support.shape
    order = np.argsort(~support, axis=2, kind="stable")  # selected first, ascending
    return np.where(np.take_along_axis(support, order, axis=2), order, -1)


def _fit_regressor(model_regressor, Xs, w, Y, used):
    """Fit a user's scikit-learn regressor per (row, label), as lime does."""
    from sklearn.base import clone

    n, S, d = Xs.shape
    L = Y.shape[2]
    coef = np.zeros((n, L, d))
    intercept, score, local_pred = np.zeros((n, L)), np.zeros((n, L)), np.zeros((n, L))
    for i in range(n):  # arbitrary estimators cannot be batched
        for t in range(L):
            u = used[i, t][used[i, t] >= 0]
            reg = clone(model_regressor).fit(Xs[i][:, u], Y[i, :, t], sample_weight=w[i])
            coef[i, t, u] = np.ravel(reg.coef_)
            intercept[i, t] = float(np.ravel(reg.intercept_)[0])
            score[i, t] = reg.score(Xs[i][:, u], Y[i, :, t], sample_weight=w[i])
            local_pred[i, t] = float(np.ravel(reg.predict(Xs[i][:1, u]))[0])
    return coef, intercept, score, local_pred
