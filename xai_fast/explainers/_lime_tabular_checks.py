"""Arguments of :class:`~xai_fast.explainers.lime_tabular.LimeTabularExplainer`, checked as
lime takes them: each check returns the converted value or raises a helpful error.

Also turns ``random_state`` (lime accepts a ``RandomState``) into the neighbourhood's seed and
the seed of the entropy discretizer's tree.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from .._rng import normalize_seed
from .._validation import check_data, draw_lime_seed, is_int

SELECTIONS = ("auto", "forward_selection", "highest_weights", "lasso_path", "none")

INIT_ARGS = (
    "training_data", "mode", "training_labels", "feature_names", "categorical_features",
    "categorical_names", "kernel_width", "kernel", "verbose", "class_names",
    "feature_selection", "discretize_continuous", "discretizer", "sample_around_instance",
    "random_state", "training_data_stats", "batch_size", "backend",
)  # fmt: skip
CALL_ARGS = (
    "data_row", "predict_fn", "labels", "top_labels", "num_features", "num_samples",
    "distance_metric", "model_regressor",
)  # fmt: skip


def _check_mode(mode) -> str:
    """``"classification"`` or ``"regression"``."""
    if mode not in ("classification", "regression"):
        raise ValueError(f"mode must be 'classification' or 'regression'; got {mode!r}.")
    return mode


def _check_feature_selection(feature_selection) -> str:
    """One of :data:`SELECTIONS`."""
    if feature_selection not in SELECTIONS:
        raise ValueError(
            f"feature_selection must be one of {SELECTIONS}; got {feature_selection!r}."
        )
    return feature_selection


def _check_kernel_width(kernel_width, d: int) -> float:
    """A positive width; ``None`` gives lime's ``0.75 * sqrt(d)``."""
    if kernel_width is None:
        kernel_width = 0.75 * np.sqrt(d)
    if not np.isfinite(kernel_width) or float(kernel_width) <= 0:
        raise ValueError(f"kernel_width must be a positive number; got {kernel_width!r}.")
    return float(kernel_width)


def _check_kernel(kernel):
    """``None`` or a callable ``kernel(distances, kernel_width)``."""
    if kernel is not None and not callable(kernel):
        raise TypeError(
            f"kernel must be callable(distances, kernel_width); got {type(kernel).__name__}."
        )
    return kernel


def _check_random_state(random_state):
    """``random_state`` unchanged: ``None``, a seed ``normalize_seed`` takes or a RandomState."""
    if random_state is not None and not isinstance(random_state, np.random.RandomState):
        normalize_seed(random_state)  # validate the type now
    return random_state


def _seed(random_state):
    """The neighbourhood's seed for one call: an int itself; a RandomState or Generator draws
    it (and advances); ``None`` draws it from numpy's global generator, as lime does."""
    return draw_lime_seed(random_state)


def _tree_seed(random_state):
    """A seed scikit-learn accepts (the entropy discretizer's tree)."""
    if random_state is None or isinstance(random_state, (int, np.integer, np.random.RandomState)):
        return random_state
    return int(normalize_seed(random_state) >> np.uint64(33))


def _check_categorical(categorical_features, d, columns):
    """Categorical columns as sorted unique indices; DataFrame column names are looked up."""
    if categorical_features is None:
        return []
    out = []
    for c in categorical_features:
        if isinstance(c, str):
            if columns is None or c not in columns:
                raise ValueError(
                    f"categorical feature {c!r} is not a column of training_data; pass column "
                    "indices or names of the DataFrame's columns."
                )
            c = columns.index(c)
        if not is_int(c) or not 0 <= c < d:
            raise ValueError(f"categorical_features must be column indices in [0, {d}); got {c!r}.")
        out.append(int(c))
    return sorted(set(out))


def _check_stats(stats):
    """lime's precomputed statistics: a dict with every key the neighbourhood needs."""
    need = {"means", "mins", "maxs", "stds", "feature_values", "feature_frequencies"}
    if not isinstance(stats, dict) or need - set(stats):
        missing = sorted(need - set(stats)) if isinstance(stats, dict) else sorted(need)
        raise ValueError(f"training_data_stats is missing keys {missing}.")


def _check_training_data(training_data, discretize: bool):
    """``(data, columns, sparse)``: float64 data ``(n, d)`` (CSR when sparse, as lime takes it)
    and a DataFrame's column names. Infinity is refused, and NaN where the quantile bins are
    made from the data (``discretize``); without them, the statistics skip NaN, as lime's
    ``StandardScaler``."""
    if hasattr(training_data, "toarray") and hasattr(training_data, "nnz"):
        return training_data.tocsr().astype(np.float64), None, True
    data, columns, _ = check_data(training_data, name="training_data")
    data = data.astype(np.float64)
    bad_values = np.isinf(data) | (np.isnan(data) if discretize else False)
    if bad_values.any():
        bad = np.nonzero(bad_values.any(axis=1))[0]
        what = "NaN or infinity" if discretize else "infinity"
        why = "the discretizer's bins would be NaN" if discretize else "its scale would be inf"
        raise ValueError(
            f"training_data contains {what} in {len(bad)} of {len(data)} rows (first: "
            f"{bad[:5].tolist()}); {why}. Impute or drop those rows first"
            + (
                ", or pass discretize_continuous=False (its statistics skip NaN)."
                if discretize
                else "."
            )
        )
    return data, columns, False


def _check_training_labels(training_labels, n: int, used: bool = True):
    """``None``, or one label per training row as an array ``(n,)``; labels a discretizer
    will not use are ignored, as lime ignores them."""
    if training_labels is None or not used:
        return None
    training_labels = np.asarray(training_labels)
    if training_labels.shape[0] != n:
        raise ValueError(
            f"training_labels has {training_labels.shape[0]} entries for "
            f"{n} training rows; pass one label per row."
        )
    return training_labels


def _check_rows(X, d: int):
    """Rows to explain as a finite float64 array ``(n, d)`` (one row ``(d,)`` becomes one)."""
    Xc, _, _ = check_data(X, name="X", allow_1d=True)
    if Xc.shape[1] != d:
        raise ValueError(
            f"X has {Xc.shape[1]} features but the training data has {d}; pass rows with "
            "the training data's columns."
        )
    if not np.isfinite(Xc).all():
        raise ValueError("X contains NaN or infinity; impute or drop those rows first.")
    return Xc.astype(np.float64)


def _check_labels(mode, class_names, labels, top_labels, k, y_self, y_shared, rows_y):
    """Columns of the model output to fit (all of them when ``top_labels`` is set), after
    checking the outputs ``(n, k)`` fit ``mode`` and ``class_names``.

    Returns
    -------
    ndarray of int, shape (L,)
    """
    if mode == "regression":
        if k != 1:
            raise ValueError(
                f"mode='regression' needs one output per row; the model returned {k}. "
                "Pass a function that returns the output to explain, e.g. "
                "lambda X: model(X)[:, 0]."
            )
        return np.array([0])
    if k == 1:
        raise ValueError(
            "mode='classification' needs class probabilities of shape (m, k); the model "
            "returned one value per row. Pass predict_proba, or use mode='regression'."
        )
    y_all = [y_self, y_shared if rows_y is None else rows_y.reshape(-1, k)]
    if not all(np.allclose(y.sum(axis=1), 1.0) for y in y_all):
        warnings.warn(
            "the model's outputs do not sum to 1 over classes; LIME explains probabilities "
            "(pass predict_proba, not log-probabilities or decision values).",
            UserWarning,
            stacklevel=3,
        )
    if class_names is not None and len(class_names) != k:
        raise ValueError(
            f"class_names has {len(class_names)} names but the model returned {k} classes."
        )
    if top_labels is not None:
        return np.arange(k)
    try:
        if isinstance(labels, (str, bytes)) or any(isinstance(t, (bool, np.bool_)) for t in labels):
            raise TypeError
        ids = np.asarray([operator.index(t) for t in labels], dtype=np.int64)
    except (TypeError, ValueError):
        raise TypeError(
            f"labels must be a sequence of class indices, e.g. labels=(1,); got {labels!r}."
        ) from None
    if ids.size == 0 or (ids < 0).any() or (ids >= k).any():
        raise ValueError(
            f"labels must be class indices in [0, {k}); got {list(labels)}. The model "
            f"returned {k} classes."
        )
    return ids
