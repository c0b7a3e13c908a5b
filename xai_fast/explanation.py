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

    Notes
    -----
    Index order is ``[row, feature, output]``; ``exp[0]`` is the first row, ``exp[:, 2]`` the
    third feature and ``exp[..., 1]`` the second output. ``values.sum(1) + base_values``
    equals the model output (in link space).
    """

    def __init__(self, values, base_values, data=None, feature_names=None, output_names=None):
        self.values = np.asarray(values)
        self.base_values = np.asarray(base_values)
        self.data = None if data is None else np.asarray(data)
        self.feature_names = None if feature_names is None else list(feature_names)
        self.output_names = None if output_names is None else list(output_names)

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
            raise IndexError(f"too many indices: the explanation has {nd} axes {self.shape}.")
        return list(key) + [slice(None)] * (nd - len(key))

    def __getitem__(self, key) -> Explanation:
        axes = self._axes(key)
        row, feat = axes[0], axes[1]
        out = axes[2] if len(axes) == 3 else None
        values = self.values[tuple(axes)]
        base = self.base_values[row] if out is None else self.base_values[row, ...][..., out]
        data = None
        if self.data is not None:
            data = self.data[row]
            data = data[..., feat] if np.ndim(data) == 2 else data[feat]
        names = self.feature_names
        if names is not None:
            names = (
                names[feat]
                if not isinstance(feat, (list, np.ndarray))
                else [names[i] for i in np.arange(len(names))[feat]]
            )
        outs = self.output_names
        if outs is not None and out is not None:
            outs = (
                outs[out]
                if not isinstance(out, (list, np.ndarray))
                else [outs[i] for i in np.arange(len(outs))[out]]
            )
        if isinstance(names, str):
            names = [names]
        if isinstance(outs, str):
            outs = [outs]
        return Explanation(values, base, data, names, outs)
