"""Explanation: attributions with the base values, data and names they belong to."""

from __future__ import annotations

import numpy as np

__all__ = ["Explanation"]


class Explanation:
    """Parallel arrays of an explanation, sliceable like ``shap.Explanation``.

    Parameters
    ----------
    values : ndarray, shape (n, M) or (n, M, k)
        Attribution of each feature (and output).
    base_values : ndarray, shape (n,) or (n, k)
        Expected model output (in link space) that the values add up from.
    data : ndarray, shape (n, M)
        The explained rows.
    feature_names : list of str, optional
    output_names : list of str, optional
    axes : tuple of str, optional, keyword-only
        Names of the axes of ``values``, from ``"row"``, ``"feature"``, ``"feature2"`` (the
        second feature of interaction values) and ``"output"``; inferred when omitted.

    Notes
    -----
    Index order is ``[row, feature, output]``; ``exp[0]`` is the first row, ``exp[:, 2]`` the
    third feature and ``exp[..., 1]`` the second output. ``values.sum(1) + base_values``
    equals the model output (in link space).
    """

    def __init__(
        self, values, base_values, data=None, feature_names=None, output_names=None, *, axes=None
    ):
        self.values = np.asarray(values)
        self.base_values = np.asarray(base_values)
        self.data = None if data is None else np.asarray(data)
        self.feature_names = None if feature_names is None else list(feature_names)
        self.output_names = None if output_names is None else list(output_names)
        if axes is None:  # a single explained row has no row axis
            single = self.data is not None and self.data.ndim == 1
            axes = ("feature", "output") if single else ("row", "feature", "output")
            axes = axes[: self.values.ndim]
        if len(axes) != self.values.ndim:
            raise ValueError(f"axes {axes} do not match values of shape {self.values.shape}.")
        self.axes = tuple(axes)

    @property
    def shape(self) -> tuple:
        return self.values.shape

    def __len__(self) -> int:
        return self.values.shape[0]

    def __repr__(self) -> str:
        return (
            f"Explanation(values shape={self.values.shape}, base_values shape="
            f"{self.base_values.shape}, feature_names={self.feature_names})"
        )

    def _axes(self, key) -> list:
        """Expand ``key`` to one entry per axis of ``values``."""
        key = key if isinstance(key, tuple) else (key,)
        nd = self.values.ndim
        if any(k is Ellipsis for k in key):
            at = next(i for i, k in enumerate(key) if k is Ellipsis)
            fill = nd - (len(key) - 1)
            key = key[:at] + (slice(None),) * fill + key[at + 1 :]
        if len(key) > nd:
            raise IndexError(
                f"too many indices: the explanation has {nd} axes {self.axes} of shape "
                f"{self.shape}."
            )
        return list(key) + [slice(None)] * (nd - len(key))

    def __getitem__(self, key) -> Explanation:
        keys = dict(zip(self.axes, self._axes(key), strict=True))
        values = self.values[tuple(keys[a] for a in self.axes)]
        base_axes = [a for a in self.axes if a not in ("feature", "feature2")]
        base = self.base_values
        if base.ndim == len(base_axes):
            base = base[tuple(keys[a] for a in base_axes)]
        data = self.data
        if data is not None:
            data_axes = [a for a in self.axes if a not in ("output", "feature2")]
            data = data[tuple(keys[a] for a in data_axes)]
        names = _pick(self.feature_names, keys.get("feature", keys.get("feature2")))
        outs = _pick(self.output_names, keys.get("output"))
        kept = tuple(a for a in self.axes if not _is_int(keys[a]))
        return Explanation(values, base, data, names, outs, axes=kept)


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer))


def _pick(names, k):
    """Names selected by index ``k`` (a list, even for one name)."""
    if names is None or k is None:
        return names
    picked = np.asarray(names, dtype=object)[k]
    return [picked] if _is_int(k) else list(picked)
