"""The tabular Partition masker (shap's ``shap.maskers.Partition``): background rows plus a
hierarchy of the features.

Hidden features take each background row's values in turn (the value of a coalition is the
mean over the background, as :class:`~xai_fast.masking.BackgroundMasker`); the hierarchy is a
clustering of the features, by default single linkage on the correlation distance between the
background's columns, so that correlated features are split last.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_data, check_positive_int
from ..solvers.owen import Tree, check_clustering, tree_of
from .masker_io import SavableMasker

__all__ = ["Partition", "feature_clustering"]

#: Scale of the jitter added to the columns before clustering (ties, constant columns).
JITTER = 1e-8


class Partition(SavableMasker):
    """Background rows and a feature hierarchy, for :class:`~xai_fast.PartitionExplainer`.

    Parameters
    ----------
    data : array-like or DataFrame, shape (N, d)
        Background rows standing for "feature absent".
    max_samples : int, default 100
        Most background rows kept; more are summarised by ``max_samples`` rows drawn as
        ``shap.utils.sample`` draws them (``sklearn.utils.shuffle``, ``random_state=0``).
    clustering : str, ndarray or None, default "correlation"
        A ``scipy.spatial.distance.pdist`` metric for :func:`feature_clustering`, a linkage
        matrix ``(d - 1, 4)`` over the ``d`` features, or ``None`` (no hierarchy).

    Attributes
    ----------
    data : ndarray of float64, shape (N, d)
    clustering : ndarray of float64, shape (d - 1, 4)
    feature_names : list of str or None
        A DataFrame's columns (the model then gets DataFrames with them).
    shape : tuple
        ``(N, d)``.
    """

    default_batch_size = 10

    def __init__(self, data, max_samples=100, clustering="correlation"):
        max_samples = check_positive_int(max_samples, "max_samples")
        arr, columns, _ = check_data(data, name="data")
        if arr.shape[0] > max_samples:
            from sklearn.utils import shuffle

            arr = shuffle(arr, n_samples=max_samples, random_state=0)
        self.data = np.asarray(arr, dtype=np.float64)
        self.feature_names = None if columns is None else [str(c) for c in columns]
        self.max_samples = max_samples
        self.shape = self.data.shape
        self.fixed_background = True
        if clustering is None:  # no hierarchy (shap's option; PartitionExplainer needs one)
            self.clustering = None
        elif isinstance(clustering, str):
            self.clustering = feature_clustering(self.data, clustering)
        else:
            self.clustering = check_clustering(clustering, self.data.shape[1])
        self._tree = None

    def __repr__(self) -> str:
        return f"Partition(data of shape {self.shape})"

    def tree(self) -> Tree:
        """The hierarchy as a checked :class:`~xai_fast.solvers.owen.Tree` (built once)."""
        if self.clustering is None:
            kind = type(self).__name__
            raise ValueError(
                f"this {kind} masker has no hierarchy (clustering=None); PartitionExplainer "
                "needs one: use xai_fast.maskers.Partition(data) (clustering='correlation' "
                "by default, or a linkage matrix)."
            )
        if self._tree is None:
            self._tree = tree_of(self.clustering, self.data.shape[1])
        return self._tree

    def __call__(self, mask, x):
        """shap's masker call: the background rows with the features of ``mask`` set to ``x``'s
        values, ``(N, d)``."""
        x = np.asarray(x, dtype=np.float64).ravel()
        mask = np.asarray(mask, dtype=bool).ravel()
        return (np.where(mask[None, :], x[None, :], self.data),)


def feature_clustering(data, metric: str = "correlation", seed: int = 0) -> np.ndarray:
    """Single-linkage clustering of the columns of ``data`` (shap's ``shap.utils.hclust``).

    Parameters
    ----------
    data : ndarray, shape (N, d)
        Missing values take their column's mean.
    metric : str
        A ``scipy.spatial.distance.pdist`` metric between columns.
    seed : int
        Seeds the ``1e-8`` jitter that keeps constant columns apart (its own generator; shap
        draws it from numpy's global one, so its hierarchy can differ on exact ties).

    Returns
    -------
    ndarray of float64, shape (d - 1, 4)
    """
    import scipy.cluster.hierarchy
    import scipy.spatial.distance

    X = np.array(data, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(
            f"a feature clustering needs rows of at least 2 features; got shape {X.shape}."
        )
    means = np.nanmean(np.where(np.isnan(X), np.nan, X), axis=0)
    X = np.where(np.isnan(X), means[None, :], X)
    jitter = np.random.default_rng(seed).standard_normal(X.T.shape) * JITTER
    try:
        D = scipy.spatial.distance.pdist(X.T + jitter, metric=metric)
    except ValueError as err:
        raise ValueError(f"clustering metric {metric!r} failed: {err}") from None
    return scipy.cluster.hierarchy.single(D)


def refuse_hierarchical_masker(data, explainer: str) -> None:
    """TypeError for a masker with a hierarchy (ours or shap's Partition, Image, Text) given to
    an explainer that takes background rows."""
    kind = type(data).__name__
    ours = type(data).__module__.startswith("xai_fast.masking")
    theirs = type(data).__module__.startswith("shap.maskers") and kind in (
        "Partition", "Image", "Text",
    )  # fmt: skip
    if (ours and kind in ("Partition", "Image", "Text")) or theirs:
        hint = " (or its background rows, masker.data)" if kind == "Partition" else ""
        article = "an" if kind[0] in "AEIOU" else "a"
        raise TypeError(
            f"{explainer} takes background rows (an array, DataFrame, Background or "
            f"shap.maskers.Independent); {article} {kind} masker (a feature hierarchy) is for "
            f"xai_fast.PartitionExplainer, ExactExplainer or PermutationExplainer{hint}."
        )
