"""Shape checks and column stacking of explanations (shap's ``hstack``)."""

from __future__ import annotations

import numpy as np

from .._validation import DimensionError
from .indexing import DATA_AXES


def check_data_shape(values_shape: tuple, axes: tuple, data) -> None:
    """Raise a :class:`DimensionError` when ``data``'s row and feature axes differ from those
    of values of ``values_shape`` (axes named ``axes``); data of another rank is not checked."""
    if data is None:
        return
    data_axes = [a for a in axes if a in DATA_AXES]
    if data.ndim != len(data_axes):
        return
    want = tuple(values_shape[axes.index(a)] for a in data_axes)
    if data.shape == want:
        return
    msg = (
        "The shape of the shap_values matrix does not match the shape of the provided data matrix."
    )
    if "feature" in data_axes and data.shape[-1] + 1 == want[-1]:
        msg += (
            " Perhaps the extra column in the shap_values matrix is the constant offset? If so, "
            "pass shap_values[:, :-1]."
        )
    raise DimensionError(f"{msg} (values {tuple(values_shape)}, data {data.shape})")


def hstack(a, b):
    """The features of ``a`` then those of ``b``, for the same rows.

    Parameters
    ----------
    a, b : Explanation
        Values ``(n, M_a, ...)`` and ``(n, M_b, ...)`` with equal base values (``atol=1e-6``).

    Returns
    -------
    Explanation
        Values ``(n, M_a + M_b, ...)``. Data and feature names are stacked when both have
        them (shap keeps ``a``'s), else dropped; ``error_std`` likewise.

    Raises
    ------
    DimensionError
        Different numbers of rows (also an ``AssertionError``, as shap's).
    ValueError
        Different base values.
    """
    if a.axes != b.axes or a.axes[:2] != ("row", "feature"):
        raise DimensionError(
            f"hstack needs two explanations with axes ('row', 'feature', ...); got {a.axes} "
            f"and {b.axes}."
        )
    if a.shape[0] != b.shape[0]:
        raise DimensionError(
            f"Can't hstack explanations with different numbers of rows! ({a.shape[0]} and "
            f"{b.shape[0]})"
        )
    if (a.base_values is None) != (b.base_values is None) or (
        a.base_values is not None and not np.allclose(a.base_values, b.base_values, atol=1e-6)
    ):
        raise ValueError("Can't hstack explanations with different base values!")

    def both(x, y, stack):
        return None if x is None or y is None else stack(x, y)

    names = both(a.feature_names, b.feature_names, lambda x, y: list(x) + list(y))
    return type(a)(
        np.concatenate([a.values, b.values], axis=1),
        a.base_values,
        both(a.data, b.data, lambda x, y: np.concatenate([x, y], axis=1)),
        names,
        a.output_names,
        axes=a.axes,
        error_std=both(a.error_std, b.error_std, lambda x, y: np.concatenate([x, y], axis=1)),
    )
