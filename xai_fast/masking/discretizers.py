"""Discretizers for LIME: bin continuous features, and draw values back from a bin.

Same meaning as ``lime.discretize``: thresholds ``q`` per feature (``np.unique``-ed), bin ``b``
holds ``q[b-1] < x <= q[b]`` (``np.searchsorted(q, x)``), and each bin keeps the mean,
standard deviation (plus 1e-11), minimum and maximum of its training values, so a sampled bin
becomes a value drawn from a normal truncated to the bin.
"""

from __future__ import annotations

import numpy as np

from .._validation import draw_lime_seed, is_int
from ..sampling.lime_neighbourhood_ref import truncated_normal, within_uniforms

__all__ = [
    "BaseDiscretizer",
    "DecileDiscretizer",
    "EntropyDiscretizer",
    "QuartileDiscretizer",
    "StatsDiscretizer",
    "make_discretizer",
]

_STD_FLOOR = 1e-11  # lime adds this to every bin's standard deviation
_BIN_STATS = ("mins", "maxs", "means", "stds")  # truncated_normal's (lo, hi, mu, sd)


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
    random_state : int, numpy RandomState or Generator, optional
        Seed of the entropy discretizer's tree and of :meth:`undiscretize` (and of the values
        drawn within bins when given to ``LimeTabularExplainer(discretizer=...)``). ``None``
        draws from numpy's global generator, as lime does.
    data_stats : dict, optional
        lime's per-bin ``"means"``, ``"stds"``, ``"mins"`` and ``"maxs"`` (one list per column,
        one entry per bin) instead of the data's.

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
        self,
        data,
        categorical_features,
        feature_names,
        labels=None,
        random_state=None,
        data_stats=None,
    ):
        data = np.asarray(data, dtype=np.float64)
        self.random_state = _check_random_state(random_state)
        self.data_stats = data_stats
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
            if data_stats is None:
                self._fit_stats(j, data[:, j], q)
            else:  # lime's precomputed per-bin statistics
                for key in ("means", "stds", "mins", "maxs"):
                    getattr(self, key)[j] = _stat(data_stats, key, j, q.size + 1)

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

    def undiscretize(self, data) -> np.ndarray:
        """Values drawn back from bins, as lime: a normal with the bin's mean and standard
        deviation truncated to the bin; columns not discretized are copied.

        Parameters
        ----------
        data : ndarray, shape (n, d) or (d,)
            Bin indices (from :meth:`discretize`) in the discretized columns.

        Returns
        -------
        ndarray of float64, same shape as ``data``
            Draws from this discretizer's ``random_state`` (one seed per call).
        """
        codes = np.array(data, dtype=np.float64, copy=True)
        out = codes.reshape(-1, codes.shape[-1])  # (n, d) view
        n, d = out.shape
        cell = np.arange(n * d, dtype=np.uint64).reshape(n, d)
        v = within_uniforms(draw_lime_seed(self.random_state), cell)  # (n, d)
        for j in self.thresholds:  # a loop over columns; rows are vectorised
            b = out[:, j].astype(np.int64)
            stats = [np.asarray(getattr(self, k)[j], dtype=np.float64)[b] for k in _BIN_STATS]
            out[:, j] = truncated_normal(v[:, j], *stats)
        return codes


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

        rs = self.random_state
        if isinstance(rs, np.random.Generator):  # scikit-learn takes ints and RandomStates
            rs = int(rs.integers(0, 2**31))
        out = []
        for j in self.to_discretize:
            tree = DecisionTreeClassifier(criterion="entropy", max_depth=3, random_state=rs).fit(
                data[:, j : j + 1], labels
            )
            q = tree.tree_.threshold[tree.tree_.children_left > -1]
            out.append(np.sort(q) if q.size else np.array([np.median(data[:, j])]))
        return out


class StatsDiscretizer(BaseDiscretizer):
    """Bins and per-bin statistics given by ``data_stats`` (lime's ``training_data_stats``)
    instead of the data."""

    def bins(self, data, labels):
        if not isinstance(self.data_stats, dict) or "bins" not in self.data_stats:
            raise ValueError(
                "StatsDiscretizer needs data_stats, a dict with 'bins', 'means', 'stds', "
                "'mins' and 'maxs'; pass training_data_stats with those keys."
            )
        bins = self.data_stats["bins"]
        missing = [j for j in self.to_discretize if j not in bins]
        if missing:
            raise ValueError(
                f"training_data_stats['bins'] has no thresholds for columns {missing}; give "
                "thresholds for every continuous column."
            )
        return [np.asarray(bins[j], dtype=np.float64) for j in self.to_discretize]


def _stat(stats, key, j, nb) -> np.ndarray:
    if key not in stats or j not in stats[key]:
        raise ValueError(
            f"training_data_stats[{key!r}] has no entry for column {j}; give per-bin {key} "
            "for every discretized column."
        )
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
    """Build the discretizer named by ``discretizer`` (or adopt a ready one, lime's included).

    Returns
    -------
    BaseDiscretizer
    """
    if stats is not None:
        return StatsDiscretizer(
            data, categorical_features, feature_names, labels, random_state, stats
        )
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
    if all(hasattr(discretizer, a) for a in _LIME_ATTRS):
        return _Adopted.from_fitted(discretizer)  # e.g. lime's: its bins and statistics
    if hasattr(discretizer, "bins") and hasattr(discretizer, "to_discretize"):
        return _Adopted(discretizer, data, categorical_features, feature_names, labels)
    raise TypeError(
        "discretizer must be 'quartile', 'decile', 'entropy' or a discretizer instance (ours "
        f"or lime's, with a bins(data, labels) method); got {type(discretizer).__name__}."
    )


_LIME_ATTRS = ("to_discretize", "names", "means", "stds", "mins", "maxs", "random_state")


class _Adopted(BaseDiscretizer):
    """Another library's discretizer: its ``bins`` (or, fitted, its bins and statistics)."""

    def __init__(self, other, data, categorical_features, feature_names, labels):
        self._other = other
        super().__init__(
            data, categorical_features, feature_names, labels, getattr(other, "random_state", None)
        )

    def bins(self, data, labels):
        return self._other.bins(data, labels)

    @classmethod
    def from_fitted(cls, other):
        """Adopt a fitted lime discretizer: thresholds are its bins' upper edges but the last,
        and its random state (a RandomState, advanced as lime would) draws within bins."""
        self = cls.__new__(cls)
        self._other, self.data_stats = other, None
        self.random_state = _check_random_state(other.random_state)
        self.to_discretize = [int(j) for j in other.to_discretize]
        self.thresholds, self.names = {}, {}
        self.means, self.stds, self.mins, self.maxs = {}, {}, {}, {}
        for j in self.to_discretize:
            for key in _BIN_STATS:
                getattr(self, key)[j] = np.asarray(getattr(other, key)[j], dtype=np.float64)
            self.thresholds[j] = self.maxs[j][:-1].copy()
            self.names[j] = list(other.names[j])
            if self.thresholds[j].size == 0 or any(
                getattr(self, key)[j].size != self.thresholds[j].size + 1 for key in _BIN_STATS
            ):
                raise ValueError(
                    f"discretizer {type(other).__name__} has inconsistent bin statistics for "
                    f"column {j}; expected one mean, std, min and max per bin."
                )
        return self


def _check_random_state(random_state):
    """``random_state`` unchanged if :func:`draw_lime_seed` takes it; TypeError otherwise."""
    ok = (np.random.RandomState, np.random.Generator)
    if random_state is not None and not isinstance(random_state, ok) and not is_int(random_state):
        raise TypeError(
            "random_state must be None, an int, a numpy RandomState or Generator; got "
            f"{type(random_state).__name__}."
        )
    return random_state
