"""Game = model composed with a masker: the value of coalitions of many instances at once.

One evaluation loop serves every masker (background rows for tables, a baseline and a feature
mask for tensors): the (instance, coalition) pairs are cut into chunks of whole pairs that fill
one model call, each chunk is built by the masker, evaluated by the :class:`ModelAdapter` and
reduced by the masker into its slot of the result. On the CPU, a module's chunks run side by side
(see :mod:`xai_fast._chunk_workers`).

A masker is any object with ``pairs(model, Z, *instances) -> PairJob``; a :class:`PairJob` is
the masker bound to one call's instances and coalitions. A job that finds equal rows (the
tabular maskers, see :mod:`.distinct`) hands out blocks of distinct rows instead: only those
are built and evaluated, in chunks of whole model calls as above.
"""

from __future__ import annotations

from typing import Protocol

from .._runtime.chunk_workers import map_chunks
from .._runtime.progress import Progress
from ..models import ModelAdapter

__all__ = ["DistinctBlock", "Game", "Masker", "PairJob"]

_LABEL = "xai_fast: evaluating coalitions"
# Input values a chunk holds at least (1 MiB of float32): a chunk is built and reduced in one
# kernel call each and runs as several model calls of ``batch_rows``, so the per-chunk
# dispatch is paid once for many model calls (on small models it was half the overhead).
FILL_VALUES = 2**18
# Chunks each worker needs before a second one pays for its hand-off: on small calls (a few
# chunks) one worker with torch's own threads is faster (measured: 1.6x the model alone against
# 1.9x with two workers on a 1M-value call; 1.01x against 1.12x with one on a 107M-value one).
MIN_CHUNKS_PER_WORKER = 8


class PairJob(Protocol):
    """The perturbed inputs of ``pairs`` (instance, coalition) pairs and where their values go.

    Attributes
    ----------
    pairs : int
        ``n * S``: instance ``i``, coalition ``s`` is pair ``i * S + s``.
    rows_per_pair : int
        Model rows each pair needs (the background size for tables, 1 for tensors).
    values_per_row : int
        Input values of one model row (sizes the chunks).
    workers : int
        Chunks evaluated side by side.

    A job may also have ``distinct_blocks()``: ``None`` to send every row, else an iterable of
    :class:`DistinctBlock`, which the Game evaluates in turn instead of the pairs.
    """

    pairs: int
    rows_per_pair: int
    values_per_row: int
    workers: int

    def fill(self, start: int, P: int, worker: int):
        """The model inputs of pairs ``start .. start + P - 1``: ``(P * rows_per_pair, ...)``,
        a numpy array or a tensor on the model's device (a per-``worker`` buffer may be reused).
        """

    def reduce(self, out, start: int, P: int, worker: int) -> None:
        """Store the values of those pairs from the model's outputs ``(P * rows_per_pair, k)``
        (``worker`` filled them just before)."""

    def result(self):
        """Every pair's value, ``(n, S, k)``; raises if the model returned NaN or inf."""


class DistinctBlock(Protocol):
    """The distinct rows of pairs ``start .. start + pairs - 1``, each evaluated once.

    Attributes
    ----------
    pairs : int
        Pairs of the block.
    rows : int
        Distinct rows among their ``pairs * rows_per_pair`` rows.
    """

    pairs: int
    rows: int

    def fill(self, start: int, U: int, worker: int):
        """The model inputs of distinct rows ``start .. start + U - 1``: ``(U, ...)``."""

    def reduce(self, out, start: int, U: int, worker: int) -> None:
        """Keep the model's outputs ``(U, k)`` of those rows."""

    def finish(self) -> None:
        """Store the values of the block's pairs (every row's output from its distinct row)."""


class Masker(Protocol):
    """What "feature absent" means: turns coalitions of instances into model inputs."""

    def pairs(self, model: ModelAdapter, Z, *instances) -> PairJob: ...


class Game:
    """``model`` composed with ``masker``; :meth:`evaluate` values coalitions of instances.

    Parameters
    ----------
    model : ModelAdapter
    masker : Masker
    """

    def __init__(self, model: ModelAdapter, masker):
        self.model = model
        self.masker = masker

    def evaluate(self, Z, *instances, progress=False, label: str | None = None):
        """Value of every (instance, coalition) pair.

        Parameters
        ----------
        Z : ndarray of bool, shape (S, M)
            Coalitions: ``True`` keeps the instance's feature, ``False`` masks it.
        *instances
            What the masker needs to know of the instances (rows and their varying columns
            for tables; example indices for tensors).
        progress : bool or Progress
            Show a progress bar on long evaluations; a :class:`~xai_fast._progress.Progress`
            is advanced (and left open) instead, for a bar over several evaluations.
        label : str, optional
            Text of the progress bar.

        Returns
        -------
        ndarray or torch.Tensor of float64, shape (n, S, k)
            On the model's device for maskers that work there.
        """
        job = self.masker.pairs(self.model, Z, *instances)
        pairs = job.pairs
        # None: every row is sent; else blocks of distinct rows (a tabular job's plan)
        blocks = job.distinct_blocks() if hasattr(job, "distinct_blocks") else None
        per_call = chunk_rows(self.model, job)
        shared = isinstance(progress, Progress)
        bar = progress if shared else Progress(pairs, label or _LABEL, enabled=bool(progress))
        per_chunk = max(1, per_call // job.rows_per_pair)
        # the workers of the whole call, distinct rows or not (a block's few chunks on one
        # worker would run torch's own threads, which stall each other on a loaded machine)
        workers = max(1, min(job.workers, -(-pairs // per_chunk) // MIN_CHUNKS_PER_WORKER))
        try:
            if blocks is None:
                self._run(job.fill, job.reduce, pairs, per_chunk, workers, bar.update)
            else:
                for block in blocks:
                    advance = _BlockShare(bar, block.pairs, block.rows)
                    self._run(block.fill, block.reduce, block.rows, per_call, workers, advance)
                    block.finish()
        finally:
            if not shared:
                bar.close()
        return job.result()

    def _run(self, fill, reduce, units: int, per_chunk: int, workers: int, advance) -> None:
        """``reduce(model(fill(...)))`` over ``units`` in chunks of ``per_chunk``, the chunks
        side by side on up to ``workers`` threads; ``advance(n)`` after each chunk of ``n``."""

        def chunk(c, w):
            start = c * per_chunk
            n = min(per_chunk, units - start)
            reduce(self.model.call_batch(fill(start, n, w)), start, n, w)

        map_chunks(
            chunk,
            -(-units // per_chunk),
            workers,
            on_done=lambda c: advance(min(per_chunk, units - c * per_chunk)),
        )


class _BlockShare:
    """Advances a bar counted in pairs by a block's ``pairs`` as its ``rows`` distinct rows
    are evaluated (in any order: the shares of all its chunks add up to ``pairs``)."""

    def __init__(self, bar: Progress, pairs: int, rows: int):
        self.bar, self.pairs, self.rows, self.done = bar, pairs, max(rows, 1), 0

    def __call__(self, n: int) -> None:
        before = self.done * self.pairs // self.rows
        self.done += n
        self.bar.update(self.done * self.pairs // self.rows - before)


def chunk_rows(model: ModelAdapter, job) -> int:
    """Model rows of one chunk: whole model calls of ``batch_rows``, at least
    :data:`FILL_VALUES` input values."""
    call = model.batch_rows(job.values_per_row)
    return call * max(1, FILL_VALUES // (call * max(1, job.values_per_row)))
