"""What lime's image and text explainers share: their ``random_state``, the checked classifier
call, the distances of binary perturbations to the instance and the surrogate fit of one
instance (the tabular explainer's selection and ridge kernels, reused as they are)."""

from __future__ import annotations

import numpy as np

from .._rng import numpy_global_seed
from .._runtime.model_errors import USER_ERRORS, reraise
from .._validation import is_int
from ..backends import get_backend
from ._lime_tabular_checks import _check_feature_selection, _check_kernel
from ._lime_tabular_surrogates import _fit_surrogates, _kernel_weights, _selection

__all__ = [
    "call_classifier",
    "chosen_labels",
    "fit_instance",
    "lime_random_state",
    "resolve_kernel",
]


def lime_random_state(random_state) -> np.random.RandomState:
    """lime's generator: an int seeds a ``RandomState`` of the explainer's own (advanced by
    every call, as lime's); a ``RandomState`` is used (and advanced) as it is; ``None`` seeds
    one from numpy's global generator, which is read, never advanced."""
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if random_state is None:
        return np.random.RandomState(int(numpy_global_seed()) & 0xFFFFFFFF)
    if not is_int(random_state) or not 0 <= int(random_state) < 2**32:
        raise TypeError(
            "random_state must be None, an int in [0, 2**32) or a numpy RandomState; got "
            f"{random_state!r}. Pass an integer such as random_state=0."
        )
    return np.random.RandomState(int(random_state))


def resolve_kernel(kernel, kernel_width, feature_selection):
    """``(kernel, kernel_width, feature_selection)`` checked; lime's default kernel is
    ``sqrt(exp(-d**2 / width**2))``."""
    from ._lime_tabular_surrogates import exponential_kernel

    width = float(kernel_width) if np.isscalar(kernel_width) else np.nan
    if not np.isfinite(width) or width <= 0:
        raise ValueError(f"kernel_width must be a positive number; got {kernel_width!r}.")
    kernel = _check_kernel(kernel)
    return kernel or exponential_kernel, width, _check_feature_selection(feature_selection)


def call_classifier(fn, batch, k=None) -> np.ndarray:
    """``fn(batch)`` as float64 ``(m, k)``, checked: one row of finite numbers per input."""
    m = len(batch)
    try:
        out = fn(batch)
    except USER_ERRORS as err:
        reraise(err, batch, "classifier_fn")
    if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor
        out = out.detach().cpu().numpy()
    try:
        out = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"classifier_fn returned {type(out).__name__}, which is not numeric; it must "
            f"return class probabilities of shape ({m}, k)."
        ) from None
    if out.ndim != 2 or out.shape[0] != m or (k is not None and out.shape[1] != k):
        want = f"({m}, {k})" if k is not None else f"({m}, k)"
        raise ValueError(
            f"classifier_fn returned an array of shape {out.shape} for {m} inputs; expected "
            f"{want}: one row of class probabilities per input (e.g. predict_proba)."
        )
    if not np.isfinite(out).all():
        bad = np.nonzero(~np.isfinite(out).all(axis=1))[0]
        raise ValueError(
            f"classifier_fn returned NaN or infinity for {len(bad)} of {m} inputs (first: "
            f"{bad[:5].tolist()}); it must return finite class probabilities."
        )
    return out


def chosen_labels(y0, labels, top_labels):
    """Labels to explain, in lime's order: the ``top_labels`` most probable (least probable
    first, as lime fits them) or ``labels``; and the ``top_labels`` list (most probable first)."""
    k = y0.shape[0]
    if top_labels:
        if not is_int(top_labels) or top_labels < 1:
            raise ValueError(f"top_labels must be a positive int or None; got {top_labels!r}.")
        chosen = [int(t) for t in np.argsort(y0)[-int(top_labels) :]]
        return chosen, chosen[::-1]
    try:
        chosen = [int(t) for t in labels]
    except (TypeError, ValueError):
        raise TypeError(f"labels must be a sequence of ints; got {labels!r}.") from None
    bad = [t for t in chosen if not 0 <= t < k]
    if bad:
        raise ValueError(
            f"labels {bad} are out of range: the classifier returns {k} classes (0..{k - 1})."
        )
    return chosen, None


def binary_distances(Z, metric: str) -> np.ndarray:
    """Distances ``(S,)`` from each row of ``Z`` ``(S, M)`` (0/1) to row 0 (all ones).

    The cosine distance is ``1 - sqrt(|z| / M)`` in closed form (1 for an empty ``z``, as
    scikit-learn gives it); any other metric goes to ``sklearn.metrics.pairwise_distances``.
    """
    if metric == "cosine":
        return 1.0 - np.sqrt(Z.sum(axis=1) / Z.shape[1])
    from sklearn.metrics import pairwise_distances

    if not isinstance(metric, str) and not callable(metric):
        raise TypeError(f"distance_metric must be a str or callable; got {metric!r}.")
    try:
        return pairwise_distances(Z, Z[:1], metric=metric).ravel()
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"distance_metric {metric!r} is not usable: {err}. Use a metric of "
            "sklearn.metrics.pairwise_distances, e.g. 'cosine' or 'euclidean'."
        ) from None


def fit_instance(Z, Y, label_ids, explainer, num_features, dist_scale, metric, regressor):
    """Surrogates of one instance for its labels: the dict of ``(1, L, ...)`` arrays of
    :func:`~xai_fast.explainers._lime_tabular_surrogates._fit_surrogates`.

    Parameters
    ----------
    Z : ndarray, shape (S, M)
        The binary samples (row 0 the instance).
    Y : ndarray, shape (S, k)
        The classifier's outputs on them.
    label_ids : sequence of int, length L
    explainer : LimeImageExplainer or LimeTextExplainer
        Gives ``kernel``, ``kernel_width`` and ``feature_selection``.
    num_features : int
    dist_scale : float
        lime's factor on the distances (100 for text, 1 for images).
    metric : str
    regressor : scikit-learn regressor or None
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)[None]  # (1, S, M)
    dist = binary_distances(Z[0], metric)[None] * dist_scale
    w = _kernel_weights(explainer.kernel, explainer.kernel_width, Z, dist, "euclidean")
    method = _selection(explainer.feature_selection, num_features)
    Yl = np.ascontiguousarray(Y[None][:, :, list(label_ids)])
    return _fit_surrogates(get_backend("numba"), Z, w, Yl, method, num_features, regressor)
