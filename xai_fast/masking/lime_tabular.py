"""What "perturbed" means for tabular LIME: the training statistics behind the neighbourhood.

:class:`TabularNeighbourhood` holds, per column, how lime perturbs it (a standard-normal
draw scaled by the training standard deviation, a category drawn from its training
frequencies, or a quantile bin drawn from its frequencies and then a value within the bin),
and turns the shared draws into each explained row's interpretable data
(lime's ``scaled_data``) and model inputs (lime's ``inverse``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..sampling.lime_neighbourhood_ref import BINNED, CATEGORICAL, GAUSSIAN
from .discretizers import make_discretizer

__all__ = ["TabularNeighbourhood"]


@dataclass(frozen=True)
class TabularNeighbourhood:
    """Per-column perturbation tables (see :mod:`xai_fast.sampling.lime_neighbourhood_ref`).

    Attributes
    ----------
    kinds : ndarray of int8, shape (d,)
    cdf, values, lo, hi, mu, sd : ndarray, shape (d, V)
    center, scale : ndarray, shape (d,)
        ``GAUSSIAN`` columns draw ``z * scale + center`` (``center`` is 0 when sampling
        around the instance: the row's value is added per row).
    mean : ndarray, shape (d,)
        lime's ``scaler.mean_`` (0 for categorical and binned columns).
    around_instance : bool
    discretizer : BaseDiscretizer or None
    own_seed : bool
        Whether the discretizer was passed in ready-made: its own ``random_state`` then draws
        the values within bins (lime's meaning), the explainer's the bins.
    feature_values, feature_frequencies : dict[int, ndarray]
        Values (or bins) of each categorical or binned column and their training frequencies.
    """

    kinds: np.ndarray
    cdf: np.ndarray
    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    mean: np.ndarray
    around_instance: bool
    discretizer: object
    own_seed: bool
    feature_values: dict
    feature_frequencies: dict

    @classmethod
    def fit(
        cls,
        data,
        categorical_features,
        feature_names,
        *,
        discretize_continuous,
        discretizer,
        labels,
        random_state,
        sample_around_instance,
        stats,
    ):
        """Training statistics of ``data`` ``(n, d)`` (an array, or a scipy sparse matrix
        without discretization), as ``LimeTabularExplainer`` keeps them."""
        n, d = data.shape
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler(with_mean=False).fit(data)  # lime's scaler (zero std -> 1)
        mean, scale = scaler.mean_.astype(np.float64), scaler.scale_.astype(np.float64)
        disc = None
        cats = list(categorical_features)
        if discretize_continuous:
            disc = make_discretizer(
                discretizer, data, cats, feature_names, labels, random_state, stats
            )
            cats = list(range(d))
            coded = disc.discretize(data) if stats is None else None
        else:
            coded = data
        kinds = np.full(d, GAUSSIAN, dtype=np.int8)
        feature_values, feature_frequencies = {}, {}
        for j in cats:
            if stats is not None:
                vals = np.asarray(stats["feature_values"][j], dtype=np.float64)
                freq = np.asarray(stats["feature_frequencies"][j], dtype=np.float64)
            else:
                column = coded[:, j]  # a sparse matrix's column is (n, 1) and sparse
                column = column.toarray().ravel() if hasattr(column, "toarray") else column
                counts = sorted(Counter(column.tolist()).items())
                vals = np.array([v for v, _ in counts], dtype=np.float64)
                freq = np.array([c for _, c in counts], dtype=np.float64)
            if vals.size == 0 or vals.shape != freq.shape or (freq < 0).any() or freq.sum() <= 0:
                raise ValueError(
                    f"column {j} needs matching non-empty values and non-negative frequencies; "
                    f"got {vals.size} values and {freq.size} frequencies."
                )
            order = np.argsort(vals, kind="stable")  # given stats in any order draw alike
            feature_values[j], feature_frequencies[j] = vals[order], freq[order] / freq.sum()
            binned = disc is not None and j in disc.thresholds
            kinds[j] = BINNED if binned else CATEGORICAL
            mean[j], scale[j] = 0.0, 1.0

        V = max([v.size for v in feature_values.values()], default=1)
        cdf, values = np.ones((d, V)), np.zeros((d, V))
        lo, hi, mu, sd = np.zeros((d, V)), np.zeros((d, V)), np.zeros((d, V)), np.ones((d, V))
        for j, vals in feature_values.items():
            c = np.cumsum(feature_frequencies[j])
            c[-1] = 1.0
            cdf[j, : vals.size], values[j, : vals.size] = c, vals
            if kinds[j] == BINNED:  # bin statistics behind each drawn bin index
                b = vals.astype(np.int64)
                lo[j, : b.size] = np.asarray(disc.mins[j])[b]
                hi[j, : b.size] = np.asarray(disc.maxs[j])[b]
                mu[j, : b.size] = np.asarray(disc.means[j])[b]
                sd[j, : b.size] = np.asarray(disc.stds[j])[b]
        around = bool(sample_around_instance) and disc is None
        center = np.where(kinds == GAUSSIAN, 0.0 if around else mean, 0.0)
        return cls(
            kinds, cdf, values, lo, hi, mu, sd, center, scale, mean, around, disc,
            disc is not None and stats is None and not isinstance(discretizer, str),
            feature_values, feature_frequencies,
        )  # fmt: skip

    @property
    def row_dependent(self) -> bool:
        """Whether the model inputs depend on the explained row (not only its first row)."""
        return self.around_instance and bool((self.kinds == GAUSSIAN).any())

    def instance_codes(self, X):
        """Each row's code per column (bin index, category value or raw value); (n, d)."""
        return X if self.discretizer is None else self.discretizer.discretize(X)

    def interpretable(self, X, codes, rows_kernel):
        """lime's ``scaled_data`` for each row and its distances to the row.

        Parameters
        ----------
        X : ndarray, shape (n, d)
            Explained rows.
        codes : ndarray, shape (S - 1, d)
            Shared draws from the sampler.
        rows_kernel : callable
            :func:`xai_fast.masking.lime_rows_ref.interpretable_rows` or a compiled twin.

        Returns
        -------
        Xs : ndarray, shape (n, S, d)
            Row 0 is the explained row itself.
        dist : ndarray, shape (n, S)
            Euclidean distance of each sample to the row.
        """
        inst = np.ascontiguousarray(self.instance_codes(X))
        z0 = np.ascontiguousarray((X - self.mean) / self.scale)
        return rows_kernel(codes, inst, z0, self.kinds, self.around_instance)

    def model_rows(self, X, inverse):
        """Model inputs of rows ``X`` (n, d) for shared draws ``inverse`` (S - 1, d).

        Returns ``(n, S - 1, d)`` (the Gaussian columns shifted to each row) when sampling
        around the instance; otherwise the shared ``inverse`` itself.
        """
        if not self.row_dependent:
            return inverse
        gauss = self.kinds == GAUSSIAN
        return inverse[None, :, :] + np.where(gauss, X, 0.0)[:, None, :]
