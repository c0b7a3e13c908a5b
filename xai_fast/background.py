"""Background data: rows with weights that stand for "feature absent", and summaries of it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_data, check_feature_names, check_positive_int, is_int

__all__ = ["Background", "as_background", "kmeans", "sample"]


@dataclass(frozen=True)
class Background:
    """Weighted background rows.

    Attributes
    ----------
    data : ndarray, shape (N, d)
    weights : ndarray of float64, shape (N,)
        Non-negative, summing to 1.
    feature_names : list of str or None
    """

    data: np.ndarray
    weights: np.ndarray
    feature_names: list | None = None

    def __post_init__(self):
        data, columns, _ = check_data(self.data, name="background data")
        object.__setattr__(self, "data", data)
        names = self.feature_names if self.feature_names is not None else columns
        object.__setattr__(self, "feature_names", check_feature_names(names, data.shape[1]))
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape != (self.data.shape[0],):
            raise ValueError(
                f"background weights must have shape ({self.data.shape[0]},), one per row; "
                f"got {w.shape}."
            )
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("background weights must be finite, non-negative and not all zero.")
        object.__setattr__(self, "weights", w / w.sum())

    def __len__(self) -> int:
        return self.data.shape[0]


def as_background(data) -> Background:
    """Convert an array, DataFrame, :class:`Background` or shap ``DenseData`` to a Background."""
    if isinstance(data, Background):
        return data
    if hasattr(data, "data") and hasattr(data, "weights") and not isinstance(data, np.ndarray):
        arr, _, _ = check_data(data.data, name="data")
        groups = getattr(data, "groups", None)
        if groups is not None and [list(np.ravel(g)) for g in groups] != [
            [j] for j in range(arr.shape[1])
        ]:
            raise ValueError(
                "the background defines feature groups; explaining groups of features is not "
                "supported yet. Pass the plain background rows instead."
            )
        names = getattr(data, "group_names", None)
        names = [str(n) for n in names] if names is not None else None
        return Background(arr, np.asarray(data.weights, dtype=np.float64), names)
    arr, columns, _ = check_data(data, name="data")
    return Background(arr, np.full(arr.shape[0], 1.0 / arr.shape[0]), columns)


def kmeans(X, k: int, *, round_values: bool = True, seed: int = 0) -> Background:
    """Summarise ``X`` by ``k`` weighted cluster centres (as ``shap.kmeans``).

    Parameters
    ----------
    X : array-like or DataFrame, shape (n, d)
    k : int
        Number of centres, ``1 <= k <= n``.
    round_values : bool, default True
        Snap each coordinate of each centre to the nearest value of that feature in ``X``,
        so that discrete features keep valid values.
    seed : int, default 0

    Returns
    -------
    Background
        ``k`` rows weighted by the fraction of ``X`` in each cluster.
    """
    from sklearn.cluster import KMeans

    arr, columns, _ = check_data(X, name="X")
    arr = arr.astype(np.float64)
    if not is_int(k) or not 1 <= k <= len(arr):
        raise ValueError(
            f"k must be an int between 1 and the number of rows ({len(arr)}); got {k!r}."
        )
    nan = np.isnan(arr)
    if nan.any():  # impute column means, as shap does
        means = np.nanmean(np.where(nan.all(axis=0), 0.0, arr), axis=0)
        arr = np.where(nan, means[None, :], arr)
    km = KMeans(n_clusters=int(k), random_state=seed, n_init=10).fit(arr)
    centres = km.cluster_centers_.copy()
    if round_values:
        for j in range(arr.shape[1]):  # per feature: nearest value present in the data
            values = np.unique(arr[:, j])  # sorted
            if len(values) == 1:
                centres[:, j] = values[0]
                continue
            hi = np.clip(np.searchsorted(values, centres[:, j]), 1, len(values) - 1)
            lo = hi - 1
            closer_lo = np.abs(centres[:, j] - values[lo]) <= np.abs(values[hi] - centres[:, j])
            centres[:, j] = np.where(closer_lo, values[lo], values[hi])
    weights = np.bincount(km.labels_, minlength=int(k)).astype(np.float64)
    return Background(centres, weights, columns)


def sample(X, nsamples: int = 100, *, seed: int = 0):
    """Draw ``nsamples`` rows of ``X`` without replacement (all rows if fewer).

    Returns the same type as ``X`` (numpy array or DataFrame).
    """
    check_positive_int(nsamples, "nsamples")
    if not hasattr(X, "iloc"):
        X, _, _ = check_data(X, name="X")
    elif len(X) == 0:
        raise ValueError("X is empty; it needs at least one row.")
    n = X.shape[0]
    rows = np.random.default_rng(seed).permutation(n)[: min(int(nsamples), n)]
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    return np.asarray(X)[rows]
