"""Discretizers for LIME: bin continuous features, and draw values back from a bin.

Same meaning as ``lime.discretize``: thresholds ``q`` per feature (``np.unique``-ed), bin ``b``
holds ``q[b-1] < x <= q[b]`` (``np.searchsorted(q, x)``), and each bin keeps the mean,
standard deviation (plus 1e-11), minimum and maximum of its training values, so a sampled bin
becomes a value drawn from a normal truncated to the bin.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BaseDiscretizer",
    "DecileDiscretizer",
    "EntropyDiscretizer",
    "QuartileDiscretizer",
    "StatsDiscretizer",
    "make_discretizer",
]

_STD_FLOOR = 1e-11  # lime adds this to every bin's standard deviation


class BaseDiscretizer:
    """Bins for the continuous columns of ``data``; subclasses define :meth:`bins`.

    Parameters
    ----------
    data : ndarray, shape (n, d)
        Training data.
    categorical_features : sequence of int
        Columns left alone.
    feature_names : list of str
        One name per column, used for bin names such as ``"age <= 31.00"``.
    labels : array-like of shape (n,), optional
        Training labels (the entropy discretizer needs them).
    random_state : int, optional
        Seed of anything random in :meth:`bins` (the entropy discretizer's tree).

    Attributes
    ----------
    thresholds : dict[int, ndarray]
        Sorted unique thresholds of each discretized column; ``len + 1`` bins.
    names : dict[int, list of str]
        A readable name per bin.
    means, stds, mins, maxs : dict[int, ndarray]
        Per-bin statistics of the training values, each of length ``len(thresholds) + 1``.
    """

    def __init__(
        self, data, categorical_features, feature_names, labels=None, random_state=None, **_stats
    ):
        data = np.asarray(data, dtype=np.float64)
        self.random_state = random_state
        cats = set(int(c) for c in categorical_features)
        self.to_discretize = [j for j in range(data.shape[1]) if j not in cats]
        raw = self.bins(data, labels)
        if len(raw) != len(self.to_discretize):
            raise ValueError(
                f"{type(self).__name__}.bins() returned thresholds for {len(raw)} columns; "
                f"expected one array per continuous column ({len(self.to_discretize)})."
            )
        self.thresholds, self.names = {}, {}
        self.means, self.stds, self.mins, self.maxs = {}, {}, {}, {}
        for j, q in zip(self.to_discretize, raw, strict=True):
            q = np.unique(np.asarray(q, dtype=np.float64))
            if q.size == 0:
                raise ValueError(f"no thresholds for column {j}; a bin needs at least one.")
            self.thresholds[j] = q
            self.names[j] = _bin_names(str(feature_names[j]), q)
            self._fit_stats(j, data[:, j], q)

    def bins(self, data, labels):  # pragma: no cover - abstract
        """Thresholds for each column of ``self.to_discretize``; a list of 1-D arrays."""
        raise NotImplementedError("a discretizer must define bins(data, labels)")

    def _fit_stats(self, j: int, column: np.ndarray, q: np.ndarray) -> None:
        b = np.searchsorted(q, column)
        nb = q.size + 1
        count = np.bincount(b, minlength=nb)
        total = np.bincount(b, weights=column, minlength=nb)
        mean = np.divide(total, count, out=np.zeros(nb), where=count > 0)
        sq = np.bincount(b, weights=(column - mean[b]) ** 2, minlength=nb)
        std = np.sqrt(np.divide(sq, count, out=np.zeros(nb), where=count > 0))
        self.means[j], self.stds[j] = mean, std + _STD_FLOOR
        self.mins[j] = np.concatenate([[column.min()], q])
        self.maxs[j] = np.concatenate([q, [column.max()]])

    def discretize(self, data) -> np.ndarray:
        """Bin indices of the discretized columns (others unchanged); same shape as ``data``."""
        out = np.array(data, dtype=np.float64, copy=True)
        for j, q in self.thresholds.items():
            out[..., j] = np.searchsorted(q, out[..., j])
        return out


class QuartileDiscretizer(BaseDiscretizer):
    """Four bins per column at the 25th, 50th and 75th percentiles."""

    def bins(self, data, labels):
        return [np.percentile(data[:, j], [25, 50, 75]) for j in self.to_discretize]


class DecileDiscretizer(BaseDiscretizer):
    """Ten bins per column at the deciles."""

    def bins(self, data, labels):
        return [np.percentile(data[:, j], np.arange(10, 100, 10)) for j in self.to_discretize]


class EntropyDiscretizer(BaseDiscretizer):
    """Up to eight bins per column from a depth-3 entropy decision tree on ``labels``."""

    def __init__(self, data, categorical_features, feature_names, labels=None, random_state=None):
        if labels is None:
            raise ValueError(
                "discretizer='entropy' needs training_labels; pass training_labels=y or use "
                "discretizer='quartile'."
            )
        super().__init__(data, categorical_features, feature_names, labels, random_state)

    def bins(self, data, labels):
        from sklearn.tree import DecisionTreeClassifier

        out = []
        for j in self.to_discretize:
            tree = DecisionTreeClassifier(
                criterion="entropy", max_depth=3, random_state=self.random_state
            ).fit(data[:, j : j + 1], labels)
            q = tree.tree_.threshold[tree.tree_.children_left > -1]
            out.append(np.sort(q) if q.size else np.array([np.median(data[:, j])]))
        return out


class StatsDiscretizer(BaseDiscretizer):
    """Bins and per-bin statistics given by ``training_data_stats`` instead of the data."""

    def __init__(self, data, categorical_features, feature_names, data_stats, **_):
        self._stats = data_stats
        super().__init__(data, categorical_features, feature_names)

    def bins(self, data, labels):
        bins = self._stats["bins"]
        missing = [j for j in self.to_discretize if j not in bins]
        if missing:
            raise ValueError(
                f"training_data_stats['bins'] has no thresholds for columns {missing}; give "
                "thresholds for every continuous column."
            )
        return [np.asarray(bins[j], dtype=np.float64) for j in self.to_discretize]

    def _fit_stats(self, j, column, q):
        nb = q.size + 1
        for key, store in (("means", self.means), ("stds", self.stds)):
            store[j] = _stat(self._stats, key, j, nb)
        self.mins[j] = _stat(self._stats, "mins", j, nb)
        self.maxs[j] = _stat(self._stats, "maxs", j, nb)


def _stat(stats, key, j, nb) -> np.ndarray:
    vals = np.asarray(stats[key][j], dtype=np.float64)
    if vals.shape != (nb,):
        raise ValueError(
            f"training_data_stats[{key!r}][{j}] has {vals.size} values; column {j} has {nb} "
            "bins (one more than its thresholds)."
        )
    return vals


def _bin_names(name: str, q: np.ndarray) -> list[str]:
    names = [f"{name} <= {q[0]:.2f}"]
    names += [f"{q[i]:.2f} < {name} <= {q[i + 1]:.2f}" for i in range(q.size - 1)]
    return names + [f"{name} > {q[-1]:.2f}"]


_BY_NAME = {
    "quartile": QuartileDiscretizer,
    "decile": DecileDiscretizer,
    "entropy": EntropyDiscretizer,
}


def make_discretizer(
    discretizer, data, categorical_features, feature_names, labels, random_state, stats
):
    """Build the discretizer named by ``discretizer`` (or adopt a ready one)."""
    if stats is not None:
        return StatsDiscretizer(data, categorical_features, feature_names, stats)
    if isinstance(discretizer, str):
        if discretizer not in _BY_NAME:
            raise ValueError(
                f"discretizer must be 'quartile', 'decile', 'entropy' or a discretizer "
                f"instance; got {discretizer!r}."
            )
        return _BY_NAME[discretizer](
            data, categorical_features, feature_names, labels, random_state
        )
    if isinstance(discretizer, BaseDiscretizer):
        return discretizer
    if hasattr(discretizer, "bins") and hasattr(discretizer, "to_discretize"):
        # e.g. a lime discretizer: reuse its thresholds, recompute the bin statistics
        return _Adopted(discretizer, data, categorical_features, feature_names)
    raise TypeError(
        "discretizer must be 'quartile', 'decile', 'entropy' or an object with a "
        f"bins(data, labels) method; got {type(discretizer).__name__}."
    )


class _Adopted(BaseDiscretizer):
    def __init__(self, other, data, categorical_features, feature_names):
        self._other = other
        super().__init__(data, categorical_features, feature_names)

    def bins(self, data, labels):
        return self._other.bins(data, labels)
