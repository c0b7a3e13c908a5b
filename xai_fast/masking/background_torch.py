"""The tabular masker on a torch module's device: perturbed rows are built, evaluated and
averaged there.

Only the background means leave the evaluation (as a device tensor); nothing goes through numpy
on the way. On the CPU, chunks of pairs are evaluated side by side on
``ModelAdapter.chunk_workers()`` threads (see :mod:`xai_fast._chunk_workers`).
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from ..background import Background
from ..models import ModelAdapter
from .background import check_means

__all__ = ["BackgroundTorchMasker"]

SPARE_BUFFERS = 8  # one per chunk worker


class BackgroundTorchMasker:
    """Absent features take each background row's values in turn, on the module's device.

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
            raise TypeError("BackgroundTorchMasker needs a torch.nn.Module model.")
        self.model, self.background = model, background
        self.device = model.device
        self.dtype = model.torch_dtype
        self.fill = backend.fill_masked_rows
        self.mean = backend.background_mean
        self.B = torch.as_tensor(background.data, dtype=self.dtype, device=self.device)
        self.weights = torch.as_tensor(background.weights, dtype=torch.float64, device=self.device)
        # Row buffers of finished calls, reused by the next: a fresh 1 MiB buffer per call
        # cost as much as filling it (page faults), a tenth of a small model's time.
        self._spare: list[torch.Tensor] = []
        self._spare_lock = threading.Lock()

    def serves(self, model: ModelAdapter, background: Background) -> bool:
        """Whether this masker was made for ``model`` and ``background`` (so may be reused)."""
        return self.model is model and self.background is background

    def take_buffer(self, rows: int, d: int) -> torch.Tensor:
        """A buffer of at least ``rows`` rows of ``d`` values (a spare one when one is large
        enough; else a new one)."""
        with self._spare_lock:
            for k, buf in enumerate(self._spare):
                if buf.shape[0] >= rows and buf.shape[1] == d:
                    return self._spare.pop(k)
        return torch.empty((rows, d), dtype=self.dtype, device=self.device)

    def give_back(self, bufs) -> None:
        """Keep ``bufs`` for the next call (at most :data:`SPARE_BUFFERS` of them)."""
        with self._spare_lock:
            self._spare = (list(bufs) + self._spare)[:SPARE_BUFFERS]

    def to_device(self, a, dtype=None) -> torch.Tensor:
        """A numpy array as a contiguous tensor on the masker's device."""
        return torch.as_tensor(np.ascontiguousarray(a), device=self.device, dtype=dtype)

    def pairs(self, model: ModelAdapter, Z, X, var_idx) -> _TorchPairs:
        """The pairs of rows ``X`` ``(n, d)`` (varying columns ``var_idx`` ``(n, M)``) and
        coalitions ``Z`` ``(S, M)``."""
        return _TorchPairs(self, model, Z, X, var_idx)


class _TorchPairs:
    """One call's (row, coalition) pairs on the device; one row buffer per worker."""

    def __init__(self, masker: BackgroundTorchMasker, model: ModelAdapter, Z, X, var_idx):
        self.masker, self.model = masker, model
        self.X = masker.to_device(X, masker.dtype)
        self.var_idx = masker.to_device(var_idx, torch.int64)
        self.Z = masker.to_device(Z, torch.bool)
        self.S = self.Z.shape[0]
        self.pairs = self.X.shape[0] * self.S
        self.rows_per_pair = masker.B.shape[0]
        self.values_per_row = self.X.shape[1]
        self.workers = model.chunk_workers()
        self.bufs: dict[int, torch.Tensor] = {}  # worker -> (rows, d), made on first use
        self.ey = None  # (pairs, k) float64, made by the first chunk to know k
        self.lock = threading.Lock()

    def fill(self, start: int, P: int, worker: int) -> torch.Tensor:
        rows = P * self.rows_per_pair
        buf = self.bufs.get(worker)
        if buf is None or buf.shape[0] < rows:  # a worker's first chunk is its largest
            buf = self.masker.take_buffer(rows, self.values_per_row)
            self.bufs[worker] = buf
        with torch.inference_mode():
            self.masker.fill(self.X, self.masker.B, self.Z, self.var_idx, start, buf[:rows])
        return buf[:rows]

    def reduce(self, out: torch.Tensor, start: int, P: int, worker: int) -> None:
        if self.ey is None:
            with self.lock:
                if self.ey is None:
                    self.ey = torch.empty(
                        (self.pairs, out.shape[1]), dtype=torch.float64, device=self.masker.device
                    )
        with torch.inference_mode():
            self.masker.mean(out, self.masker.weights, self.ey[start : start + P])

    def result(self) -> torch.Tensor:
        self.masker.give_back(self.bufs.values())
        self.bufs = {}
        check_means(self.model, self.ey, self.S)
        return self.ey.reshape(self.X.shape[0], self.S, -1)
