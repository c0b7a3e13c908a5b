"""The rows of one call bound to a hierarchical masker: each row's trees and coalition values.

``bind(masker, model, X)`` gives an object with

- ``groups``: ``[(rows, trees, tree_ids)]``, rows sharing a number ``M`` of features;
- ``evaluate(rows, Z)``: the model's mean output ``(P, k)`` for coalition ``Z[p]`` ``(P, M)`` of
  row ``rows[p]``, all pairs in large model calls; pairs giving the same model input (a
  coalition that differs only on features equal to what hides them, or the same string) are
  evaluated once;
- ``model_rows``: model rows sent so far.
"""

from __future__ import annotations

import numpy as np

from ..models import ModelAdapter
from .background import varying_features
from .image_masker import Image
from .partition_masker import Partition
from .text_masker import Text

__all__ = ["bind", "unique_pairs"]

#: Input values of the perturbed rows built at once.
MAX_VALUES = 2**24


def unique_pairs(rows: np.ndarray, Z: np.ndarray):
    """Distinct ``(row, coalition)`` pairs: ``(first (U,), inverse (P,))``.

    Parameters
    ----------
    rows : ndarray of int, shape (P,)
    Z : ndarray of bool, shape (P, M)
    """
    key = np.concatenate(
        [np.ascontiguousarray(rows, dtype=np.int64).view(np.uint8).reshape(-1, 8),
         np.packbits(Z, axis=1)], axis=1,
    )  # fmt: skip
    key = np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1]))).ravel()
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _as_2d(out: np.ndarray) -> np.ndarray:
    return out[:, None] if out.ndim == 1 else out


class _Rows:
    """Shared bookkeeping: the model, rows sent, and the raw output's number of axes."""

    def __init__(self, model: ModelAdapter):
        self.model = model
        self.model_rows = 0
        self.vector_out = None

    def _call(self, inputs) -> np.ndarray:
        out = self.model.raw_call(inputs, check=True)
        if self.vector_out is None:
            self.vector_out = out.ndim == 2
            self.n_outputs = 1 if out.ndim == 1 else out.shape[1]
        self.model_rows += len(inputs)
        return _as_2d(out)


class TabularRows(_Rows):
    """Rows ``X`` ``(n, d)`` against the background of a :class:`Partition` masker."""

    def __init__(self, masker: Partition, model: ModelAdapter, X: np.ndarray):
        super().__init__(model)
        self.X = X
        self.B = masker.data.astype(X.dtype, copy=False)
        self.fixed = ~varying_features(X, masker.data)  # (n, d): equal to every background row
        tree = masker.tree()
        self.groups = [(np.arange(len(X)), [tree], np.zeros(len(X), dtype=np.int64))]

    def evaluate(self, rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
        first, inverse = unique_pairs(rows, Z | self.fixed[rows])
        r, z = rows[first], Z[first]
        N, d = self.B.shape
        step = max(1, MAX_VALUES // max(N * d, 1))
        means = []
        for s in range(0, len(r), step):  # chunks of whole coalitions
            full = np.where(z[s : s + step, None, :], self.X[r[s : s + step], None, :], self.B)
            out = np.concatenate([self._call(c) for c in _chunks(full.reshape(-1, d), self.model)])
            means.append(out.reshape(-1, N, out.shape[1]).mean(axis=1))
        return np.concatenate(means)[inverse]


class ImageRows(_Rows):
    """Images ``X`` ``(n, M)`` (flattened) under an :class:`Image` masker."""

    def __init__(self, masker: Image, model: ModelAdapter, X: np.ndarray):
        super().__init__(model)
        self.X = X
        self.shape = masker.input_shape
        fill = masker.fill_values(X.astype(np.float64))
        if X.dtype.kind in "iub":
            fill = np.rint(fill)
        self.fill = fill.astype(X.dtype)  # as shap writes the mask value into the image
        self.fixed = X == self.fill  # (n, M): pixels equal to what hides them
        tree = masker.tree()
        self.groups = [(np.arange(len(X)), [tree], np.zeros(len(X), dtype=np.int64))]

    def evaluate(self, rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
        first, inverse = unique_pairs(rows, Z | self.fixed[rows])
        r, z = rows[first], Z[first]
        fill = self.fill[r] if self.fill.shape[0] > 1 else self.fill
        imgs = np.where(z, self.X[r], fill)  # (U, M)
        outs = [self._call(c.reshape((-1,) + self.shape)) for c in _chunks(imgs, self.model)]
        return np.concatenate(outs)[inverse]


class TextRows(_Rows):
    """Strings under a :class:`Text` masker, grouped by their number of tokens."""

    def __init__(self, masker: Text, model: ModelAdapter, strings: list):
        super().__init__(model)
        self.masker = masker
        self.parts = [masker.segments(s) for s in strings]  # (segments, ids) per string
        from ..solvers.owen import tree_of

        trees = [tree_of(masker.tree_of(s), len(p[0])) for s, p in zip(strings, self.parts,
                                                                        strict=True)]  # fmt: skip
        sizes = np.array([len(p[0]) for p in self.parts])
        self.groups = []
        for M in np.unique(sizes):
            rows = np.nonzero(sizes == M)[0]
            self.groups.append((rows, [trees[i] for i in rows], np.arange(len(rows))))

    def evaluate(self, rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
        order = np.argsort(rows, kind="stable")
        cuts = np.flatnonzero(np.diff(rows[order])) + 1
        inputs = [None] * len(rows)
        for block in np.split(order, cuts):  # one vectorised masking per string
            segs, ids = self.parts[rows[block[0]]]
            for p, v in zip(block, self.masker.masked(segs, ids, Z[block]), strict=True):
                inputs[p] = v
        arr = np.array(inputs)
        if arr.ndim == 1:
            uniq, inverse = np.unique(arr, return_inverse=True)
        else:
            uniq, inverse = np.unique(arr, axis=0, return_inverse=True)
        outs = [self._call(c) for c in _chunks(uniq, self.model, 2048)]
        return np.concatenate(outs)[inverse.ravel()]


def _chunks(arr: np.ndarray, model: ModelAdapter, rows: int | None = None):
    """``arr`` in model calls of the adapter's batch rows."""
    step = rows if rows is not None and model.batch_size is None else None
    step = step or model.batch_rows(int(np.prod(arr.shape[1:])) if arr.ndim > 1 else 1)
    return [arr[s : s + step] for s in range(0, len(arr), step)]


def bind(masker, model: ModelAdapter, X):
    """The rows ``X`` under ``masker`` (:class:`Partition`, :class:`Image` or :class:`Text`)."""
    if isinstance(masker, Partition):
        return TabularRows(masker, model, X)
    if isinstance(masker, Image):
        return ImageRows(masker, model, X)
    if isinstance(masker, Text):
        return TextRows(masker, model, X)
    raise TypeError(f"no hierarchical masker: {type(masker).__name__}.")
