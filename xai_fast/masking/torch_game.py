"""The Game on a torch module's device: perturbed rows are built, evaluated and averaged there.

Only the background means leave :meth:`TorchGame.evaluate` (as a device tensor); nothing goes
through numpy on the way. On the CPU, chunks of pairs are evaluated side by side on
``ModelAdapter.chunk_workers()`` threads (see :mod:`xai_fast._chunk_workers`).
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from .._chunk_workers import map_chunks
from .._progress import Progress
from ..background import Background
from ..models import ModelAdapter
from . import check_means


class TorchGame:
    """Evaluate coalitions of many instances with every tensor on the module's device.

    Parameters
    ----------
    model : ModelAdapter
        Wrapping a ``torch.nn.Module``.
    background : Background
    backend : Backend
        The ``"torch"`` backend (its kernels accept device tensors).
    """

    def __init__(self, model: ModelAdapter, background: Background, backend):
        if not model.is_module:
            raise TypeError("TorchGame needs a torch.nn.Module model.")
        self.model = model
        self.device = model.device
        self.dtype = model.torch_dtype
        self.fill = backend.fill_masked_rows
        self.mean = backend.background_mean
        self.B = torch.as_tensor(background.data, dtype=self.dtype, device=self.device)
        self.weights = torch.as_tensor(background.weights, dtype=torch.float64, device=self.device)

    def to_device(self, a, dtype=None) -> torch.Tensor:
        """A numpy array as a contiguous tensor on the game's device."""
        return torch.as_tensor(np.ascontiguousarray(a), device=self.device, dtype=dtype)

    def evaluate(self, X, var_idx, Z, *, progress: bool = False) -> torch.Tensor:
        """Expected model output of every (instance, coalition) pair.

        Parameters
        ----------
        X : ndarray, shape (n, d)
        var_idx : ndarray of int64, shape (n, M)
        Z : ndarray of bool, shape (S, M)
        progress : bool

        Returns
        -------
        torch.Tensor of float64, shape (n, S, k), on the module's device
        """
        Xt = self.to_device(X, self.dtype)
        Vt = self.to_device(var_idx, torch.int64)
        Zt = self.to_device(Z, torch.bool)
        n, d = Xt.shape
        N, S = self.B.shape[0], Zt.shape[0]
        pairs = n * S
        per_chunk = max(1, self.model.batch_rows(d) // N)
        n_chunks = -(-pairs // per_chunk)
        workers = min(self.model.chunk_workers(), n_chunks)
        bufs = [None] * workers  # one row buffer per worker, made on first use
        ey = []  # [(pairs, k) float64], made by the first chunk to know k
        lock = threading.Lock()

        def chunk(c, w):
            start = c * per_chunk
            P = min(per_chunk, pairs - start)
            if bufs[w] is None:
                bufs[w] = torch.empty(
                    (min(per_chunk, pairs) * N, d), dtype=self.dtype, device=self.device
                )
            rows = bufs[w][: P * N]
            with torch.inference_mode():
                self.fill(Xt, self.B, Zt, Vt, start, rows)
                out = self.model.call_tensor(rows, check=False)  # (P*N, k) on the device
                if not ey:
                    with lock:
                        if not ey:
                            k = out.shape[1]
                            ey.append(
                                torch.empty((pairs, k), dtype=torch.float64, device=self.device)
                            )
                self.mean(out, self.weights, ey[0][start : start + P])

        bar = Progress(pairs, "xai_fast: evaluating coalitions", enabled=progress)
        try:
            map_chunks(
                chunk,
                n_chunks,
                workers,
                on_done=lambda c: bar.update(min(per_chunk, pairs - c * per_chunk)),
            )
        finally:
            bar.close()
        ey = ey[0]
        check_means(self.model, ey, S)
        return ey.reshape(n, S, -1)
