"""Explanation: attributions with the base values, data and names they belong to.

Importing this module imports numpy only; pandas and shap are imported by the methods that need
them (:meth:`Explanation.to_pandas`, :meth:`Explanation.to_shap`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Explanation"]

AXES = ("row", "feature", "feature2", "output")
# Which axes of ``values`` the other arrays have.
_BASE_AXES = ("row", "output")
_DATA_AXES = ("row", "feature")
# How many names a KeyError lists.
_SHOWN_NAMES = 8


class Explanation:
    """Parallel arrays of an explanation, sliceable like ``shap.Explanation``.

    Parameters
    ----------
    values : ndarray, shape (n, M) or (n, M, k)
        Attribution of each feature (and output).
    base_values : ndarray, shape (n,) or (n, k), or None
        Expected model output (in link space) that the values add up from.
    data : ndarray, shape (n, M), optional
        The explained rows.
    feature_names : list of str, optional
    output_names : list of str, optional
    axes : tuple of str, optional, keyword-only
        Names of the axes of ``values``, from ``"row"``, ``"feature"``, ``"feature2"`` (the
        second feature of interaction values) and ``"output"``; inferred when omitted.
    error_std : ndarray, same shape as ``values``, optional, keyword-only
        Standard deviation of the estimation error of each value; ``None`` when unknown.

    Notes
    -----
    Index order is ``[row, feature, output]``; ``exp[0]`` is the first row, ``exp[:, 2]`` the
    third feature and ``exp[..., 1]`` the second output. ``values.sum(1) + base_values``
    equals the model output (in link space).

    Each axis is indexed on its own (outer indexing, unlike numpy's fancy indexing):
    ``exp[[0, 1], ["age", "bmi"]]`` is the 2 x 2 block of rows 0 and 1 and those two features.
    An axis takes an int, a slice, a boolean mask, an array of ints, or on the feature and output
    axes a name or a list of names. ``base_values``, ``data`` and ``error_std`` are sliced
    alongside ``values``.
    """

    def __init__(
        self,
        values,
        base_values,
        data=None,
        feature_names=None,
        output_names=None,
        *,
        axes=None,
        error_std=None,
    ):
        self.values = np.asarray(values)
        self.base_values = None if base_values is None else np.asarray(base_values)
        self.data = None if data is None else np.asarray(data)
        self.feature_names = None if feature_names is None else list(feature_names)
        self.output_names = None if output_names is None else list(output_names)
        self.error_std = None if error_std is None else np.asarray(error_std)
        if axes is None:  # a single explained row has no row axis
            single = self.data is not None and self.data.ndim == 1
            axes = ("feature", "output") if single else ("row", "feature", "output")
            axes = axes[: self.values.ndim]
        axes = tuple(axes)
        if len(axes) != self.values.ndim:
            raise ValueError(f"axes {axes} do not match values of shape {self.values.shape}.")
        unknown = [a for a in axes if a not in AXES]
        if unknown or len(set(axes)) != len(axes):
            raise ValueError(f"axes must be distinct names from {AXES}; got {axes}.")
        self.axes = axes
        if self.error_std is not None and self.error_std.shape != self.values.shape:
            raise ValueError(
                f"error_std has shape {self.error_std.shape} but values have shape "
                f"{self.values.shape}; pass one standard deviation per value."
            )
        named = ((self.feature_names, self._names_axis()), (self.output_names, "output"))
        for names, axis in named:
            if names is not None and axis in axes and len(names) != self._size(axis):
                raise ValueError(
                    f"{len(names)} names for the {axis!r} axis of length {self._size(axis)}."
                )

    # ------------------------------------------------------------------ shape
    @property
    def shape(self) -> tuple:
        """Shape of ``values``."""
        return self.values.shape

    def __len__(self) -> int:
        if self.values.ndim == 0:
            raise TypeError("len() of an Explanation of a single value.")
        return self.values.shape[0]

    def __iter__(self):
        """The rows, one Explanation each."""
        if "row" not in self.axes:  # checked here, not on the first next()
            raise TypeError(
                f"only an Explanation with a row axis can be iterated; this one has axes "
                f"{self.axes}. Iterate over range(exp.shape[i]) and slice instead."
            )
        if self.axes[0] != "row":
            raise TypeError(f"the row axis must come first to iterate; axes are {self.axes}.")
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return (
            f"Explanation(values shape={self.values.shape}, axes={self.axes}, base_values shape="
            f"{None if self.base_values is None else self.base_values.shape}, "
            f"feature_names={self.feature_names})"
        )

    def _size(self, axis: str) -> int:
        return self.values.shape[self.axes.index(axis)]

    def _names_axis(self):
        """The axis ``feature_names`` follow: ``"feature"``, else ``"feature2"``, else None."""
        return next((a for a in ("feature", "feature2") if a in self.axes), None)

    # ------------------------------------------------------------------ slicing
    def _axes(self, key) -> list:
        """Expand ``key`` to one entry per axis of ``values``."""
        key = key if isinstance(key, tuple) else (key,)
        nd = self.values.ndim
        n_ellipsis = sum(k is Ellipsis for k in key)
        if n_ellipsis > 1:
            raise IndexError("an index can only have a single ellipsis ('...').")
        if n_ellipsis:
            at = next(i for i, k in enumerate(key) if k is Ellipsis)
            fill = nd - (len(key) - 1)
            key = key[:at] + (slice(None),) * fill + key[at + 1 :]
        if len(key) > nd:
            raise IndexError(
                f"too many indices: the explanation has {nd} axes {self.axes} of shape "
                f"{self.shape}."
            )
        return list(key) + [slice(None)] * (nd - len(key))

    def _resolve(self, axis: str, k):
        """Turn one axis's key into an int, a slice or a 1-D array of ints."""
        size = self._size(axis)
        if k is None or isinstance(k, (bool, np.bool_)):
            raise IndexError(
                f"cannot index the {axis!r} axis with {k!r}; new axes are not supported."
            )
        if _is_int(k) or isinstance(k, slice):
            return k
        if isinstance(k, str):
            return self._name_index(axis, k)
        if hasattr(k, "detach") and hasattr(k, "cpu"):  # a torch tensor
            k = k.detach().cpu().numpy()
        arr = np.asarray(k)
        if arr.ndim == 0:
            return self._resolve(axis, arr.item())
        if arr.ndim != 1:
            raise IndexError(
                f"the {axis!r} axis takes a 1-D index; got an array of shape {arr.shape}."
            )
        if arr.dtype == bool:
            if len(arr) != size:
                raise IndexError(
                    f"boolean mask of length {len(arr)} for the {axis!r} axis of length {size}."
                )
            return np.flatnonzero(arr)
        if arr.dtype.kind in "US" or (arr.dtype == object and all(isinstance(s, str) for s in arr)):
            return np.array([self._name_index(axis, str(s)) for s in arr], dtype=np.intp)
        if arr.size == 0:
            return arr.astype(np.intp)
        if arr.dtype.kind not in "iu":
            raise IndexError(
                f"the {axis!r} axis takes ints, a boolean mask or names; got dtype {arr.dtype}."
            )
        return arr

    def _name_index(self, axis: str, name: str) -> int:
        """Position of ``name`` on ``axis`` (the first, if names repeat)."""
        if axis == "row":
            raise KeyError(
                f"rows have no names; index rows by position or boolean mask, not {name!r}."
            )
        names = self.output_names if axis == "output" else self.feature_names
        kind = "output" if axis == "output" else "feature"
        if names is None or len(names) != self._size(axis):
            raise KeyError(
                f"cannot look up {name!r}: the {axis!r} axis has no {kind} names. Index it by "
                f"position, or pass {kind}_names when creating the explanation."
            )
        try:
            return [str(s) for s in names].index(name)
        except ValueError:
            shown = ", ".join(repr(str(s)) for s in names[:_SHOWN_NAMES])
            more = f", ... ({len(names)} in all)" if len(names) > _SHOWN_NAMES else ""
            article = "an" if kind == "output" else "a"
            raise KeyError(
                f"{name!r} is not {article} {kind} name; valid names: {shown}{more}."
            ) from None

    def __getitem__(self, key) -> Explanation:
        keys = {a: self._resolve(a, k) for a, k in zip(self.axes, self._axes(key), strict=True)}
        values = _take(self.values, self.axes, keys)
        error_std = None if self.error_std is None else _take(self.error_std, self.axes, keys)
        base = self.base_values
        base_axes = tuple(a for a in self.axes if a in _BASE_AXES)
        if base is not None and base.ndim == len(base_axes):
            base = _take(base, base_axes, keys)
        data = self.data
        data_axes = tuple(a for a in self.axes if a in _DATA_AXES)
        if data is not None and data.ndim == len(data_axes):
            data = _take(data, data_axes, keys)
        names = self.feature_names
        names_axis = self._names_axis()
        if names_axis == "feature" and _is_int(keys["feature"]) and "feature2" in keys:
            # Interaction values: one feature taken, the names now follow the second axis.
            if not _is_int(keys["feature2"]):
                names_axis = "feature2"
        if names_axis is not None:
            names = _pick(names, keys[names_axis])
        outs = _pick(self.output_names, keys.get("output"))
        kept = tuple(a for a in self.axes if not _is_int(keys[a]))
        return Explanation(values, base, data, names, outs, axes=kept, error_std=error_std)

    # ------------------------------------------------------------------ reductions
    @property
    def abs(self) -> Explanation:
        """Absolute values; base values, data, names and ``error_std`` are kept (the standard
        deviation of ``|x|`` is at most that of ``x``)."""
        return Explanation(
            np.abs(self.values),
            self.base_values,
            self.data,
            self.feature_names,
            self.output_names,
            axes=self.axes,
            error_std=self.error_std,
        )

    def mean(self, axis) -> Explanation:
        """Mean over ``axis`` (an int or an axis name such as ``"row"``); see :meth:`sum`."""
        return self._reduce(np.mean, axis)

    def max(self, axis) -> Explanation:
        """Maximum over ``axis`` (an int or an axis name); see :meth:`sum`."""
        return self._reduce(np.max, axis)

    def sum(self, axis) -> Explanation:
        """Sum over ``axis`` (an int or an axis name such as ``"row"``).

        Reducing the row axis reduces ``base_values`` and ``data`` the same way and keeps the
        feature names (``exp.abs.mean(0)`` is the global importance of each feature). Reducing a
        feature axis keeps ``base_values`` (so ``exp.sum("feature").values + base_values`` is
        the model output), drops ``data`` and, once no feature axis is left, the feature names.
        Reducing the output axis drops the output names. ``error_std`` becomes ``None``.
        """
        return self._reduce(np.sum, axis)

    def _axis_index(self, axis) -> int:
        if isinstance(axis, str):
            if axis not in self.axes:
                raise ValueError(f"no {axis!r} axis; the axes are {self.axes}.")
            return self.axes.index(axis)
        if not _is_int(axis):
            raise TypeError(f"axis must be an int or an axis name; got {axis!r}.")
        nd = self.values.ndim
        if not -nd <= axis < nd:
            raise ValueError(f"axis {axis} is out of range for axes {self.axes}.")
        return int(axis) % nd

    def _reduce(self, func, axis) -> Explanation:
        i = self._axis_index(axis)
        name = self.axes[i]
        base = self.base_values
        base_axes = tuple(a for a in self.axes if a in _BASE_AXES)
        if base is not None and name in base_axes and base.ndim == len(base_axes):
            base = func(base, axis=base_axes.index(name))
        data = self.data
        data_axes = tuple(a for a in self.axes if a in _DATA_AXES)
        if data is not None and name == "feature":
            data = None  # a sum or mean of different features' values means nothing
        elif data is not None and name == "row" and data.ndim == len(data_axes):
            try:
                data = func(data, axis=data_axes.index(name))
            except (TypeError, ValueError):  # non-numeric data
                data = None
        kept = self.axes[:i] + self.axes[i + 1 :]
        names = self.feature_names
        if name in ("feature", "feature2") and not {"feature", "feature2"} & set(kept):
            names = None
        outs = None if name == "output" else self.output_names
        values = func(self.values, axis=i)
        return Explanation(values, base, data, names, outs, axes=kept)

    # ------------------------------------------------------------------ conversions
    def to_pandas(self):
        """Values as a ``pandas.DataFrame``, one row per explained row.

        Returns
        -------
        pandas.DataFrame, shape (n, M) or (n, k * M)
            Columns are the feature names (positions when there are none). With an output axis
            the columns are a ``MultiIndex`` of ``(output, feature)`` pairs, so ``df["yes"]``
            is the table of output ``"yes"``. A single row (no row axis) gives one row; an
            explanation whose feature axis was sliced away gives one column named after the
            feature (``"value"`` when unknown).

        Raises
        ------
        ValueError
            For interaction values (a ``"feature2"`` axis): slice or sum one feature axis first.
        """
        import pandas as pd

        if "feature2" in self.axes:
            raise ValueError(
                "interaction values do not fit a table; take one feature first (exp[:, j]) or "
                "sum the second feature axis (exp.sum('feature2'))."
            )
        # Bring values to (row, feature, output), with length-1 axes where one is missing.
        v, axes = self.values, list(self.axes)
        for a in ("row", "feature", "output"):
            if a not in axes:
                v, axes = v[..., None], axes + [a]
        v = np.transpose(v, [axes.index(a) for a in ("row", "feature", "output")])
        n, M, k = v.shape
        if self.feature_names is not None and len(self.feature_names) == M:
            features = list(self.feature_names)
        else:
            features = list(range(M)) if "feature" in self.axes else ["value"]
        if "output" not in self.axes:
            return pd.DataFrame(v[:, :, 0], columns=features)
        outs = self.output_names if self.output_names is not None else list(range(k))
        columns = pd.MultiIndex.from_product([outs, features], names=["output", "feature"])
        return pd.DataFrame(v.transpose(0, 2, 1).reshape(n, k * M), columns=columns)

    def to_shap(self):
        """The same explanation as a ``shap.Explanation``, for shap's plots.

        Values, base values, data, feature names, output names and ``error_std`` are carried
        over. An explanation whose feature (or output) axis was sliced away passes its one
        feature (or output) name as a string, as shap's own slicing does.

        Raises
        ------
        ImportError
            If shap is not installed.
        """
        try:
            import shap
        except ImportError as err:
            raise ImportError(
                "Explanation.to_shap needs shap; install it with `pip install shap`."
            ) from err
        has_features = self._names_axis() is not None
        features = self.feature_names
        if features is not None and not has_features:
            features = str(features[0]) if len(features) == 1 else None
        outs = self.output_names if "output" in self.axes else None
        out = shap.Explanation(
            self.values,
            base_values=_scalar(self.base_values),
            data=_scalar(self.data),
            feature_names=features,
            output_names=outs,
            error_std=self.error_std,
        )
        if outs is None and self.output_names is not None and len(self.output_names) == 1:
            # One output picked: shap's own slicing leaves its name as a string.
            out.output_names = str(self.output_names[0])
        return out

    @classmethod
    def from_shap(cls, explanation, *, axes=None) -> Explanation:
        """An Explanation from a ``shap.Explanation``.

        Parameters
        ----------
        explanation : shap.Explanation
            With rectangular values (not per-row token lists).
        axes : tuple of str, optional
            Names of the axes of its values; inferred when omitted from shap's output dimensions,
            the data's shape and the feature names (``(n, M, M)`` values with ``(n, M)`` data are
            interaction values; one value per row with a single feature name is one feature's
            column).

        Returns
        -------
        Explanation
        """
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
        features = _flat_names(explanation.feature_names, "feature_names")
        outs = _flat_names(explanation.output_names, "output_names")
        if axes is None:
            n_out = len(getattr(explanation, "output_dims", ()))
            if n_out > 1:
                raise ValueError("only explanations with at most one output axis are supported.")
            other = values.ndim - n_out
            if other >= 3:
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
            shape = tuple(values.shape[axes.index(a)] for a in axes if a in _BASE_AXES)
            if base.shape != shape:  # a shared base value: one per row and output
                try:
                    base = np.broadcast_to(base, shape).copy()
                except ValueError:
                    pass
        if outs is not None and "output" not in axes:
            outs = outs[:1]
        error_std = getattr(explanation, "error_std", None)
        return cls(values, base, data, features, outs, axes=axes, error_std=error_std)


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _take(arr, arr_axes, keys):
    """Index ``arr`` (whose axes are named ``arr_axes``) by ``keys[axis]``, one axis at a time."""
    for pos in reversed(range(len(arr_axes))):  # last first: earlier positions do not move
        k = keys[arr_axes[pos]]
        if not (isinstance(k, slice) and k == slice(None)):
            arr = arr[(slice(None),) * pos + (k,)]
    return arr


def _pick(names, k):
    """Names selected by index ``k`` (a list, even for one name)."""
    if names is None or k is None:
        return names
    picked = np.asarray(names, dtype=object)[k]
    return [picked] if _is_int(k) else list(picked)


def _scalar(arr):
    """A 0-d array as a Python scalar (shap takes a float base value, not a 0-d array)."""
    return arr.item() if isinstance(arr, np.ndarray) and arr.ndim == 0 else arr


def _flat_names(names, what):
    """shap's names as a list of str: a single name becomes a list of one; per-row names must
    agree between rows."""
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    names = list(names)
    if names and not isinstance(names[0], str) and np.ndim(names[0]) == 1:
        if any(list(row) != list(names[0]) for row in names):
            raise ValueError(f"per-row {what} that differ between rows are not supported.")
        names = list(names[0])
    return [str(s) for s in names]
