"""An :class:`~xai_fast.Explanation` to and from other formats: a pandas table and
``shap.Explanation``. pandas and shap are imported only when called."""

from __future__ import annotations

import numpy as np

from .indexing import BASE_AXES, name_list


def _to_pandas(exp):
    """``exp.values`` as a DataFrame; see :meth:`Explanation.to_pandas`."""
    import pandas as pd

    if "feature2" in exp.axes:
        raise ValueError(
            "interaction values do not fit a table; take one feature first (exp[:, j]) or "
            "sum the second feature axis (exp.sum('feature2'))."
        )
    # Bring values to (row, feature, output), with length-1 axes where one is missing.
    v, axes = exp.values, list(exp.axes)
    for a in ("row", "feature", "output"):
        if a not in axes:
            v, axes = v[..., None], axes + [a]
    v = np.transpose(v, [axes.index(a) for a in ("row", "feature", "output")])
    n, M, k = v.shape
    names = name_list(exp.feature_names)
    if names is not None and len(names) == M:
        features = names
    else:
        features = list(range(M)) if "feature" in exp.axes else ["value"]
    if "output" not in exp.axes:
        return pd.DataFrame(v[:, :, 0], columns=features)
    outs = exp.output_names if exp.output_names is not None else list(range(k))
    columns = pd.MultiIndex.from_product([outs, features], names=["output", "feature"])
    return pd.DataFrame(v.transpose(0, 2, 1).reshape(n, k * M), columns=columns)


def _to_shap(exp):
    """``exp`` as a ``shap.Explanation``; see :meth:`Explanation.to_shap`."""
    try:
        import shap
    except ImportError as err:
        raise ImportError(
            "Explanation.to_shap needs shap; install it with `pip install shap`."
        ) from err
    has_features = exp._names_axis() is not None
    features = exp.feature_names
    if features is not None and not has_features:
        names = name_list(features)
        features = str(names[0]) if len(names) == 1 else None
    outs = exp.output_names if "output" in exp.axes else None
    out = shap.Explanation(
        exp.values,
        base_values=_scalar(exp.base_values),
        data=_scalar(exp.data),
        feature_names=features,
        output_names=outs,
        error_std=exp.error_std,
    )
    picked = name_list(exp.output_names) if outs is None else None
    if picked is not None and len(picked) == 1:
        # One output picked: shap's own slicing leaves its name as a string.
        out.output_names = str(picked[0])
    return out


def _from_shap(cls, explanation, axes=None):
    """A ``cls`` from a ``shap.Explanation``; see :meth:`Explanation.from_shap`."""
    try:
        values = np.asarray(explanation.values)
    except ValueError:
        values = None
    if values is None or values.dtype == object:
        raise ValueError(
            "from_shap needs rectangular values (the same number of features in every row); "
            "per-row token explanations are not supported."
        )
    data = explanation.data
    data = None if data is None else np.asarray(data)
    # shap's one name (a str) for an axis sliced away stays a str
    features = _flat_names(explanation.feature_names, "feature_names")
    outs = _flat_names(explanation.output_names, "output_names")
    if axes is None:
        n_out = len(getattr(explanation, "output_dims", ()))
        if n_out > 1:
            raise ValueError("only explanations with at most one output axis are supported.")
        other = values.ndim - n_out
        if other == 3 and values.shape[1] != values.shape[2]:  # not square: outputs, not pairs
            other, n_out = 2, n_out + 1
            axes = ("row", "feature")
        elif other >= 3:
            axes = ("row", "feature", "feature2")[:other]
        elif other == 2:
            single = data is not None and data.ndim == 1
            axes = ("feature", "feature2") if single else ("row", "feature")
        elif other == 1:
            column = isinstance(explanation.feature_names, str)
            axes = ("row",) if column else ("feature",)
        else:
            axes = ()
        axes = axes + ("output",) * n_out
    base = explanation.base_values
    if base is not None:
        base = np.asarray(base)
        shape = tuple(values.shape[axes.index(a)] for a in axes if a in BASE_AXES)
        if base.shape != shape:  # a shared base value: one per row and output
            try:
                base = np.broadcast_to(base, shape).copy()
            except ValueError:
                pass
    if outs is not None and "output" not in axes and not isinstance(outs, str):
        outs = outs[:1]
    error_std = getattr(explanation, "error_std", None)
    return cls(values, base, data, features, outs, axes=axes, error_std=error_std)


def _scalar(arr):
    """A 0-d array as a Python scalar (shap takes a float base value, not a 0-d array)."""
    return arr.item() if isinstance(arr, np.ndarray) and arr.ndim == 0 else arr


def _flat_names(names, what):
    """shap's names as a list of str, or one str as shap gives it; per-row names must agree
    between rows."""
    if names is None:
        return None
    if isinstance(names, str):
        return names
    names = list(names)
    if names and not isinstance(names[0], str) and np.ndim(names[0]) == 1:
        if any(list(row) != list(names[0]) for row in names):
            raise ValueError(f"per-row {what} that differ between rows are not supported.")
        names = list(names[0])
    return [str(s) for s in names]


def flat_columns(values_shape, feature_names, output_names):
    """Column names of an explanation written flat, one line per row.

    Parameters
    ----------
    values_shape : tuple of int
        ``(n, d)`` or ``(n, d, k)``.
    feature_names : list of str or None
        Default ``x0, x1, ...``.
    output_names : list of str or None
        Default ``"0", "1", ...``.

    Returns
    -------
    columns : list of str
        ``base_value`` then one per feature; with ``k`` outputs, ``base_value[<o>]`` and
        ``<feature>[<o>]`` for each output ``o`` in turn.
    value_columns : list of str
        ``columns`` without the base values.
    k : int
        Outputs, 0 without an output axis.
    """
    d = values_shape[1]
    names = list(feature_names) if feature_names else [f"x{j}" for j in range(d)]
    if len(values_shape) == 2:
        return ["base_value", *names], list(names), 0
    k = values_shape[2]
    outs = output_names or [str(o) for o in range(k)]
    columns, value_columns = [], []
    for o in range(k):
        per_output = [f"{f}[{outs[o]}]" for f in names]
        columns += [f"base_value[{outs[o]}]", *per_output]
        value_columns += per_output
    return columns, value_columns, k
