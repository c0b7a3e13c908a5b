"""The tabular masker: "feature absent" means "taken from a background row".

A coalition's value is the weighted mean of the model over the background with the coalition's
features set to the instance's. The rows are built and averaged by the backend's kernels on the
host; :mod:`.background_torch` does the same on a module's device. Where many rows repeat
(categorical data), each distinct row is built and evaluated once (:mod:`.distinct`).
"""

from __future__ import annotations

import numpy as np

from ..background import Background
from ..models import ModelAdapter
from .distinct import plan_distinct, where_rows
from .distinct_pairs import pairs_once
from .finite_means import check_means

__all__ = ["BackgroundMasker", "varying_features"]


def varying_features(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Which features of each row differ from at least one background row.

    Equality is ``numpy.isclose`` (rtol 1e-5, atol 1e-8, NaN equal to NaN), as in shap,
    so features equal to every background row get a Shapley value of 0.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    B : ndarray, shape (N, d)

    Returns
    -------
    ndarray of bool, shape (n, d)
    """
    n, d = X.shape
    N = B.shape[0]
    step = max(1, 2**22 // max(N * d, 1))
    out = np.empty((n, d), dtype=bool)
    numeric = X.dtype.kind == "f" and B.dtype.kind == "f"  # ints: isclose casts them first
    finite = numeric and bool(np.isfinite(X).all()) and bool(np.isfinite(B).all())
    tol = 1e-8 + 1e-5 * np.abs(B) if finite else None  # isclose's bound, (N, d)
    for i in range(0, n, step):  # chunks bound the (rows, N, d) temporary
        if finite:  # isclose's formula without its NaN and inf handling (a tenth of the time)
            close = np.abs(X[i : i + step, None, :] - B[None, :, :]) <= tol
        else:
            close = np.isclose(
                X[i : i + step, None, :], B[None, :, :], rtol=1e-5, atol=1e-8, equal_nan=True
            )
        out[i : i + step] = ~close.all(axis=1)
    return out


class BackgroundMasker:
    """Absent features take each background row's values in turn (numpy arrays, host kernels).

    Parameters
    ----------
    background : Background
    backend : Backend
        Supplies the ``fill_masked_rows``, ``background_mean``, ``distinct_masked_rows`` and
        ``fill_rows_at`` kernels.
    dtype : numpy.dtype
        dtype of the rows handed to the model.
    """

    def __init__(self, background: Background, backend, dtype):
        self.background = background
        self.fill = backend.fill_masked_rows
        self.mean = backend.background_mean
        self.distinct = backend.distinct_masked_rows
        self.fill_at = backend.fill_rows_at
        self.dtype = np.dtype(dtype)
        self.B = np.ascontiguousarray(background.data, dtype=self.dtype)

    def pairs(self, model: ModelAdapter, Z, X, var_idx) -> _BackgroundPairs:
        """The pairs of rows ``X`` ``(n, d)`` (varying columns ``var_idx`` ``(n, M)``) and
        coalitions ``Z`` ``(S, M)``."""
        return pairs_once(
            model, Z, X, var_idx, self.B, lambda *a: _BackgroundPairs(self, model, *a)
        )


class _BackgroundPairs:
    """One call's (row, coalition) pairs: ``N`` background rows per pair, serial chunks."""

    workers = 1

    def __init__(self, masker: BackgroundMasker, model: ModelAdapter, Z, X, var_idx):
        self.masker, self.model = masker, model
        self.X = np.ascontiguousarray(X, dtype=masker.dtype)
        self.var_idx = np.ascontiguousarray(var_idx, dtype=np.int64)
        self.Z = np.ascontiguousarray(Z, dtype=np.bool_)
        self.S = self.Z.shape[0]
        self.pairs = self.X.shape[0] * self.S
        self.rows_per_pair = masker.B.shape[0]
        self.values_per_row = self.X.shape[1]
        self.buf = None  # (rows, d), sized by the first (largest) chunk
        self.ey = None  # (pairs, k), allocated once the number of outputs is known

    def rebind(self, X, var_idx) -> None:
        """Other instances (at most as many as the first ones), the same coalitions and
        buffers."""
        self.X = np.ascontiguousarray(X, dtype=self.masker.dtype)
        self.var_idx = np.ascontiguousarray(var_idx, dtype=np.int64)

    def buffer(self, rows: int) -> np.ndarray:
        """``rows`` rows of the row buffer (grown when too small)."""
        if self.buf is None or self.buf.shape[0] < rows:
            self.buf = np.empty((rows, self.values_per_row), dtype=self.masker.dtype)
        return self.buf[:rows]

    def fill(self, start: int, P: int, worker: int) -> np.ndarray:
        out = self.buffer(P * self.rows_per_pair)
        self.masker.fill(self.X, self.masker.B, self.Z, self.var_idx, start, out)
        return out

    def reduce(self, out: np.ndarray, start: int, P: int, worker: int) -> None:
        self.store_means(out, start, P)

    def store_means(self, out: np.ndarray, start: int, P: int) -> None:
        """The values of pairs ``start .. start + P - 1`` from their rows' outputs."""
        if self.ey is None:
            self.ey = np.empty((self.pairs, out.shape[1]))
        self.masker.mean(out, self.masker.background.weights, self.ey[start : start + P])

    def row_plan(self):
        """The plan of equal rows (:mod:`.distinct`), or ``None`` to send every row; made once."""
        if not hasattr(self, "_row_plan"):
            m = self.masker
            self._row_plan = plan_distinct(
                self.model, m.distinct, self.X, m.B, self.Z, self.var_idx
            )
        return self._row_plan

    def distinct_blocks(self):
        """Blocks of distinct rows (see :mod:`.distinct`), or ``None`` to send every row."""
        plan = self.row_plan()
        return None if plan is None else (_HostBlock(self, *block) for block in plan.blocks())

    def values(self) -> np.ndarray:
        """Every pair's value ``(pairs, k)``, unchecked."""
        return self.ey

    def result(self) -> np.ndarray:
        check_means(self.model, self.ey, self.S)
        return self.ey.reshape(self.X.shape[0], self.S, -1)


class _HostBlock:
    """The distinct rows of pairs ``start .. start + P - 1`` of a :class:`_BackgroundPairs`."""

    def __init__(self, job: _BackgroundPairs, start: int, P: int, ids, first):
        self.job, self.start, self.pairs = job, start, P
        self.ids = ids  # (P * N,) distinct row of each row
        self.where = where_rows(first, start, job.S, job.rows_per_pair)  # 3 x (U,)
        self.rows = first.shape[0]
        self.outs = None  # (U, k) model outputs of the distinct rows

    def fill(self, start: int, U: int, worker: int) -> np.ndarray:
        job = self.job
        out = job.buffer(U)
        at = [a[start : start + U] for a in self.where]
        job.masker.fill_at(job.X, job.masker.B, job.Z, job.var_idx, *at, out)
        return out

    def reduce(self, out: np.ndarray, start: int, U: int, worker: int) -> None:
        if self.outs is None:
            self.outs = np.empty((self.rows, out.shape[1]), dtype=out.dtype)
        self.outs[start : start + U] = out

    def finish(self) -> None:
        # every row's output (P * N, k), averaged as if each row had been evaluated
        self.job.store_means(self.outs[self.ids], self.start, self.pairs)
        self.outs = None
