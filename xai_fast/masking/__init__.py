"""Game = model composed with a masker: the value of coalitions of an instance's features.

"Feature absent" means "taken from a background row"; a coalition's value is the weighted
mean of the model over the background with the coalition's features set to the instance's.
"""

from __future__ import annotations

import numpy as np

from .._progress import Progress
from ..background import Background
from ..models import ModelAdapter

__all__ = ["Game", "varying_features"]


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
    for i in range(0, n, step):  # chunks bound the (rows, N, d) temporary
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


class Game:
    """Evaluate coalitions of many instances in large, chunked model calls.

    Parameters
    ----------
    model : ModelAdapter
    background : Background
    backend : Backend
        Supplies the masking and background-mean kernels.
    dtype : numpy.dtype
        dtype of the rows handed to the model.
    """

    def __init__(self, model: ModelAdapter, background: Background, backend, dtype):
        self.model = model
        self.background = background
        self.fill = backend.fill_masked_rows
        self.mean = backend.background_mean
        self.dtype = np.dtype(dtype)
        self.B = np.ascontiguousarray(background.data, dtype=self.dtype)

    def evaluate(self, X, var_idx, Z, *, progress: bool = False) -> np.ndarray:
        """Expected model output of every (instance, coalition) pair.

        Parameters
        ----------
        X : ndarray, shape (n, d)
        var_idx : ndarray of int64, shape (n, M)
            Columns of the varying features of each instance.
        Z : ndarray of bool, shape (S, M)
        progress : bool
            Show a progress bar on long evaluations.

        Returns
        -------
        ndarray of float64, shape (n, S, k)
        """
        X = np.ascontiguousarray(X, dtype=self.dtype)
        var_idx = np.ascontiguousarray(var_idx, dtype=np.int64)
        Z = np.ascontiguousarray(Z, dtype=np.bool_)
        n, d = X.shape
        N = self.B.shape[0]
        S = Z.shape[0]
        pairs = n * S
        per_chunk = max(1, self.model.batch_rows(d) // N)  # whole pairs per model call
        buf = np.empty((min(per_chunk, pairs) * N, d), dtype=self.dtype)
        bw = self.background.weights
        ey = None  # allocated once the number of outputs is known
        bar = Progress(pairs, "xai_fast: evaluating coalitions", enabled=progress)
        try:
            for start in range(0, pairs, per_chunk):
                P = min(per_chunk, pairs - start)
                rows = buf[: P * N]
                self.fill(X, self.B, Z, var_idx, start, rows)
                out = self.model(rows, check=False)  # (P*N, k); checked once below
                if ey is None:
                    ey = np.empty((pairs, out.shape[1]))
                self.mean(out, bw, ey[start : start + P])
                bar.update(P)
        finally:
            bar.close()
        check_means(self.model, ey, S)
        return ey.reshape(n, S, -1)
