"""The tabular masker: "feature absent" means "taken from a background row".

A coalition's value is the weighted mean of the model over the background with the coalition's
features set to the instance's. The rows are built and averaged by the backend's kernels on the
host; :mod:`.background_torch` does the same on a module's device.
"""

from __future__ import annotations

import numpy as np

from ..background import Background
from ..models import ModelAdapter

__all__ = ["BackgroundMasker", "check_means", "varying_features"]


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


def check_means(model: ModelAdapter, ey, S: int) -> None:
    """Raise if any background mean is not finite (the model returned NaN or inf somewhere).

    One check on the means replaces a check (and a device sync) per model call: a non-finite
    output makes its pair's weighted mean non-finite.
    """
    if not model.check_finite:
        return
    if hasattr(ey, "is_floating_point"):  # torch tensor: one sync
        import torch

        if bool(torch.isfinite(ey).all()):
            return
        bad_pairs = torch.nonzero(~torch.isfinite(ey).all(dim=1))[:, 0].cpu().numpy()
    else:
        if np.isfinite(ey).all():
            return
        bad_pairs = np.nonzero(~np.isfinite(ey).all(axis=1))[0]
    rows = np.unique(bad_pairs // S)
    raise ValueError(
        f"the model returned non-finite values (NaN or inf) on perturbed versions of {len(rows)} "
        f"explained row(s) (first, counted within this call's group: {rows[:5].tolist()}). "
        "Fix the model or its inputs, or wrap it as "
        "xai_fast.ModelAdapter(model, check_finite=False) to accept them."
    )


class BackgroundMasker:
    """Absent features take each background row's values in turn (numpy arrays, host kernels).

    Parameters
    ----------
    background : Background
    backend : Backend
        Supplies the ``fill_masked_rows`` and ``background_mean`` kernels.
    dtype : numpy.dtype
        dtype of the rows handed to the model.
    """

    def __init__(self, background: Background, backend, dtype):
        self.background = background
        self.fill = backend.fill_masked_rows
        self.mean = backend.background_mean
        self.dtype = np.dtype(dtype)
        self.B = np.ascontiguousarray(background.data, dtype=self.dtype)

    def pairs(self, model: ModelAdapter, Z, X, var_idx) -> _BackgroundPairs:
        """The pairs of rows ``X`` ``(n, d)`` (varying columns ``var_idx`` ``(n, M)``) and
        coalitions ``Z`` ``(S, M)``."""
        return _BackgroundPairs(self, model, Z, X, var_idx)


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

    def fill(self, start: int, P: int, worker: int) -> np.ndarray:
        rows = P * self.rows_per_pair
        if self.buf is None or self.buf.shape[0] < rows:
            self.buf = np.empty((rows, self.values_per_row), dtype=self.masker.dtype)
        out = self.buf[:rows]
        self.masker.fill(self.X, self.masker.B, self.Z, self.var_idx, start, out)
        return out

    def reduce(self, out: np.ndarray, start: int, P: int, worker: int) -> None:
        if self.ey is None:
            self.ey = np.empty((self.pairs, out.shape[1]))
        self.masker.mean(out, self.masker.background.weights, self.ey[start : start + P])

    def result(self) -> np.ndarray:
        check_means(self.model, self.ey, self.S)
        return self.ey.reshape(self.X.shape[0], self.S, -1)
