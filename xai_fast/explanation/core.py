"""Explanation: attributions with the base values, data and names they belong to.

Importing this module imports numpy only; pandas and shap are imported by the methods that need
them (:meth:`Explanation.to_pandas`, :meth:`Explanation.to_shap`). Indexing helpers live in
``_explanation_index.py``, the conversions in ``_explanation_convert.py``.
"""

from __future__ import annotations

import numpy as np

from .._validation import is_int
from .cohorts import Cohorts, auto_cohorts
from .convert import _from_shap, _to_pandas, _to_shap
from .indexing import (
    AXES,
    BASE_AXES,
    DATA_AXES,
    _expand_key,
    _pick,
    _resolve,
    _take,
    as_names,
)
from .stacking import check_data_shape, hstack

__all__ = ["Explanation"]


class Explanation:
    """Parallel arrays of an explanation, sliceable like ``shap.Explanation``.

    Parameters
    ----------
    values : ndarray, shape (n, M) or (n, M, k)
        Attribution of each feature (and output).
    base_values : ndarray, shape (n,) or (n, k), or None, optional
        Expected model output (in link space) that the values add up from.
    data : ndarray, shape (n, M), optional
        The explained rows; a ``DimensionError`` (a ``ValueError``) when its row and feature
        axes do not match those of ``values``.
    feature_names : list of str, or str, optional
        One name per feature; a single name (not a list) once the feature axis is sliced away,
        as ``exp[:, "bmi"]`` gives.
    output_names : list of str, or str, optional
        Likewise for the outputs (``exp[..., 1]`` keeps its output's name as a str).
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
    alongside ``values``. An int or a name takes its axis away and leaves that feature's (or
    output's) name as a string, as in shap: ``exp[:, 2].feature_names == "bmi"``.
    """

    # shap's optional fields, read by shap's own plots (force, decision, ...): never set here.
    display_data = instance_names = output_indexes = lower_bounds = upper_bounds = None
    main_effects = hierarchical_values = clustering = None

    def __init__(
        self,
        values,
        base_values=None,
        data=None,
        feature_names=None,
        output_names=None,
        *,
        axes=None,
        error_std=None,
    ):
        self.values = np.asarray(values)
        self.base_values = None if base_values is None else np.asarray(base_values)
        if self.base_values is not None and self.base_values.ndim == 0:
            self.base_values = self.base_values[()]  # a numpy scalar, as shap's slicing gives
        self.data = None if data is None else np.asarray(data)
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
        check_data_shape(self.values.shape, axes, self.data)
        names_axis = self._names_axis()
        out_axis = "output" if "output" in axes else None
        self.feature_names = as_names(feature_names, names_axis, self._size(names_axis))
        self.output_names = as_names(output_names, out_axis, self._size(out_axis))
        named = ((self.feature_names, names_axis), (self.output_names, "output"))
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
        """shap's form: ``.values``, then ``.base_values`` and ``.data`` when present."""
        out = f".values =\n{self.values!r}"
        if self.base_values is not None:
            base = self.base_values
            out += f"\n\n.base_values =\n{base.item() if base.ndim == 0 else base!r}"
        if self.data is not None:
            out += f"\n\n.data =\n{self.data!r}"
        return out

    def _size(self, axis) -> int | None:
        return None if axis is None else self.values.shape[self.axes.index(axis)]

    def _names_axis(self):
        """The axis ``feature_names`` follow: ``"feature"``, else ``"feature2"``, else None."""
        return next((a for a in ("feature", "feature2") if a in self.axes), None)

    # ------------------------------------------------------------------ slicing
    def _axes(self, key) -> list:
        """Expand ``key`` to one entry per axis of ``values``."""
        return _expand_key(key, self.axes, self.shape)

    def _resolve(self, axis: str, k):
        """Turn one axis's key into an int, a slice or a 1-D array of ints."""
        names = self.output_names if axis == "output" else self.feature_names
        return _resolve(axis, k, self._size(axis), names)

    def __getitem__(self, key) -> Explanation:
        keys = {a: self._resolve(a, k) for a, k in zip(self.axes, self._axes(key), strict=True)}
        values = _take(self.values, self.axes, keys)
        error_std = None if self.error_std is None else _take(self.error_std, self.axes, keys)
        base = self.base_values
        base_axes = tuple(a for a in self.axes if a in BASE_AXES)
        if base is not None and base.ndim == len(base_axes):
            base = _take(base, base_axes, keys)
        data = self.data
        data_axes = tuple(a for a in self.axes if a in DATA_AXES)
        if data is not None and data.ndim == len(data_axes):
            data = _take(data, data_axes, keys)
        names = self.feature_names
        names_axis = self._names_axis()
        if names_axis == "feature" and is_int(keys["feature"]) and "feature2" in keys:
            # Interaction values: one feature taken, the names now follow the second axis.
            if not is_int(keys["feature2"]):
                names_axis = "feature2"
        if names_axis is not None:
            names = _pick(names, keys[names_axis])
        outs = _pick(self.output_names, keys.get("output"))
        kept = tuple(a for a in self.axes if not is_int(keys[a]))
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
        if not is_int(axis):
            raise TypeError(f"axis must be an int or an axis name; got {axis!r}.")
        nd = self.values.ndim
        if not -nd <= axis < nd:
            raise ValueError(f"axis {axis} is out of range for axes {self.axes}.")
        return int(axis) % nd

    def _reduce(self, func, axis) -> Explanation:
        i = self._axis_index(axis)
        name = self.axes[i]
        base = self.base_values
        base_axes = tuple(a for a in self.axes if a in BASE_AXES)
        if base is not None and name in base_axes and base.ndim == len(base_axes):
            base = func(base, axis=base_axes.index(name))
        data = self.data
        data_axes = tuple(a for a in self.axes if a in DATA_AXES)
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

    # ------------------------------------------------------------------ shap's helpers
    def hstack(self, other) -> Explanation:
        """Both explanations' features side by side (see :func:`.stacking.hstack`)."""
        return hstack(self, other)

    def cohorts(self, cohorts) -> Cohorts:
        """Split the rows into cohorts, as ``shap.Explanation.cohorts``.

        Parameters
        ----------
        cohorts : int or array-like of shape (n,)
            An int builds that many cohorts of similar values with a decision tree on the data;
            an array gives each row's cohort name.

        Returns
        -------
        Cohorts
        """
        if self.values.ndim > 2 or "output" in self.axes:
            raise ValueError(
                "Cohorts cannot be calculated on multiple outputs at once. Pick one output "
                "first, e.g. exp[..., 0].cohorts(2)."
            )
        if is_int(cohorts):
            return auto_cohorts(self, int(cohorts))
        if isinstance(cohorts, (list, tuple, np.ndarray)):
            labels = np.asarray(cohorts)
            return Cohorts(**{str(name): self[labels == name] for name in np.unique(labels)})
        raise TypeError(f"cohorts must be an int or an array of names; got {cohorts!r}.")

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
        return _to_pandas(self)

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
        return _to_shap(self)

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
        return _from_shap(cls, explanation, axes=axes)
