"""The tabular masker on a torch module's device: perturbed rows are built, evaluated and
averaged there.

Only the background means leave the evaluation (as a device tensor); nothing goes through numpy
on the way. On the CPU, chunks of pairs are evaluated side by side on
``ModelAdapter.chunk_workers()`` threads (see :mod:`xai_fast._chunk_workers`). Where many rows
repeat (categorical data), the distinct rows are found on the host (:mod:`.distinct`) and only
they are built and evaluated on the device.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from .._runtime import row_buffers
from ..background import Background
from ..models import ModelAdapter
from .distinct import MIN_SAVED_MODULE, plan_distinct, where_rows
from .distinct_pairs import pairs_once
from .finite_means import check_means

__all__ = ["BackgroundTorchMasker"]


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
        self.distinct = backend.distinct_masked_rows  # on the host
        self.fill_at = backend.fill_rows_at
        self.B_host = np.ascontiguousarray(background.data, dtype=model.input_dtype)
        self.B = torch.as_tensor(background.data, dtype=self.dtype, device=self.device)
        self.weights = torch.as_tensor(background.weights, dtype=torch.float64, device=self.device)

    def serves(self, model: ModelAdapter, background: Background) -> bool:
        """Whether this masker was made for ``model`` and ``background`` (so may be reused)."""
        return self.model is model and self.background is background

    def take_buffer(self, rows: int, d: int) -> torch.Tensor:
        """A buffer of at least ``rows`` rows of ``d`` values, a spare one of an earlier call
        when one fits (see :mod:`xai_fast._runtime.row_buffers`)."""
        return row_buffers.take(rows, d, self.dtype, self.device)

    def give_back(self, bufs) -> None:
        """Hand ``bufs`` back for later calls."""
        row_buffers.give_back(bufs)

    def to_device(self, a, dtype=None) -> torch.Tensor:
        """A numpy array as a contiguous tensor on the masker's device."""
        return torch.as_tensor(np.ascontiguousarray(a), device=self.device, dtype=dtype)

    def pairs(self, model: ModelAdapter, Z, X, var_idx) -> _TorchPairs:
        """The pairs of rows ``X`` ``(n, d)`` (varying columns ``var_idx`` ``(n, M)``) and
        coalitions ``Z`` ``(S, M)``."""
        return pairs_once(
            model, Z, X, var_idx, self.B_host, lambda *a: _TorchPairs(self, model, *a)
        )


class _TorchPairs:
    """One call's (row, coalition) pairs on the device; one row buffer per worker."""

    def __init__(self, masker: BackgroundTorchMasker, model: ModelAdapter, Z, X, var_idx):
        self.masker, self.model = masker, model
        self.host = (X, Z, var_idx)  # for finding equal rows
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

    def rebind(self, X, var_idx) -> None:
        """Other instances (at most as many as the first ones), the same coalitions and
        buffers."""
        self.host = (X, self.host[1], var_idx)
        self.X = self.masker.to_device(X, self.masker.dtype)
        self.var_idx = self.masker.to_device(var_idx, torch.int64)

    def buffer(self, rows: int, worker: int) -> torch.Tensor:
        """``rows`` rows of ``worker``'s row buffer (a larger one taken when too small)."""
        buf = self.bufs.get(worker)
        if buf is None or buf.shape[0] < rows:  # a worker's first chunk is its largest
            buf = self.masker.take_buffer(rows, self.values_per_row)
            self.bufs[worker] = buf
        return buf[:rows]

    def fill(self, start: int, P: int, worker: int) -> torch.Tensor:
        out = self.buffer(P * self.rows_per_pair, worker)
        with torch.inference_mode():
            self.masker.fill(self.X, self.masker.B, self.Z, self.var_idx, start, out)
        return out

    def reduce(self, out: torch.Tensor, start: int, P: int, worker: int) -> None:
        self.store_means(out, start, P)

    def store_means(self, out: torch.Tensor, start: int, P: int) -> None:
        """The values of pairs ``start .. start + P - 1`` from their rows' outputs."""
        if self.ey is None:
            with self.lock:
                if self.ey is None:
                    self.ey = torch.empty(
                        (self.pairs, out.shape[1]), dtype=torch.float64, device=self.masker.device
                    )
        with torch.inference_mode():
            self.masker.mean(out, self.masker.weights, self.ey[start : start + P])

    def row_plan(self):
        """The plan of equal rows (:mod:`.distinct`), or ``None`` to send every row; made once."""
        if not hasattr(self, "_row_plan"):
            m = self.masker
            X, Z, var_idx = self.host
            plan = None
            if self.model.dedup_rows is not None or m.device.type == "cpu":
                # (elsewhere numbering on the host is slower than a small model on the device)
                X = np.ascontiguousarray(X, dtype=m.B_host.dtype)
                plan = plan_distinct(
                    self.model, m.distinct, X, m.B_host, Z, var_idx, MIN_SAVED_MODULE
                )
            self._row_plan = plan
        return self._row_plan

    def distinct_blocks(self):
        """Blocks of distinct rows (see :mod:`.distinct`), or ``None`` to send every row."""
        plan = self.row_plan()
        return None if plan is None else (_TorchBlock(self, *block) for block in plan.blocks())

    def values(self) -> torch.Tensor:
        """Every pair's value ``(pairs, k)`` on the device, unchecked; the row buffers go back."""
        self.masker.give_back(self.bufs.values())
        self.bufs = {}
        return self.ey

    def result(self) -> torch.Tensor:
        check_means(self.model, self.values(), self.S)
        return self.ey.reshape(self.X.shape[0], self.S, -1)


class _TorchBlock:
    """The distinct rows of pairs ``start .. start + P - 1`` of a :class:`_TorchPairs`, built
    and evaluated on the device."""

    def __init__(self, job: _TorchPairs, start: int, P: int, ids, first):
        self.job, self.start, self.pairs = job, start, P
        self.ids = job.masker.to_device(ids)  # (P * N,) distinct row of each row
        where = where_rows(first, start, job.S, job.rows_per_pair)
        self.where = [job.masker.to_device(a) for a in where]  # 3 x (U,)
        self.rows = first.shape[0]
        self.outs = None  # (U, k) model outputs of the distinct rows

    def fill(self, start: int, U: int, worker: int) -> torch.Tensor:
        job = self.job
        out = job.buffer(U, worker)
        at = [a[start : start + U] for a in self.where]
        with torch.inference_mode():
            job.masker.fill_at(job.X, job.masker.B, job.Z, job.var_idx, *at, out)
        return out

    def reduce(self, out: torch.Tensor, start: int, U: int, worker: int) -> None:
        if self.outs is None:
            with self.job.lock:
                if self.outs is None:
                    self.outs = torch.empty(
                        (self.rows, out.shape[1]), dtype=out.dtype, device=out.device
                    )
        with torch.inference_mode():
            self.outs[start : start + U] = out

    def finish(self) -> None:
        # every row's output (P * N, k), averaged as if each row had been evaluated
        with torch.inference_mode():
            every = self.outs.index_select(0, self.ids)
        self.job.store_means(every, self.start, self.pairs)
        self.outs = None
