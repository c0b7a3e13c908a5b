"""BLAS thread limits around the small solves."""

from __future__ import annotations

import contextlib
import functools

__all__ = ["single_threaded_blas", "single_torch_thread"]


def single_threaded_blas():
    """Run the (small) solve on one BLAS thread.

    A multi-threaded BLAS keeps its threads spinning after each call; on a small machine
    they then compete with the model's own threads for the next evaluation (measured: 2x
    slower model calls right after a threaded solve on 2 cores).
    """
    controller = _controller()
    if controller is None:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


@functools.lru_cache(maxsize=1)
def _controller():
    """One scan of the loaded BLAS libraries per process (a scan reads the process's memory
    map: about 3 ms, which every small solve paid before)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def single_torch_thread(*tensors):
    """Run a small solve on CPU tensors with one torch thread in the calling thread.

    After the model's chunks, torch's OpenMP threads are asleep or spinning, and waking them
    for a solve of a few thousand values costs more than the solve (measured: 1-6 ms against
    0.1-0.4 ms on 2 cores). Thread counts are per-thread under OpenMP, so other threads are
    not affected; elsewhere (and for device tensors) this does nothing.
    """
    import sys

    torch = sys.modules.get("torch")
    on_cpu = torch is not None and all(
        not isinstance(t, torch.Tensor) or t.device.type == "cpu" for t in tensors
    )
    if not on_cpu or not any(isinstance(t, torch.Tensor) for t in tensors):
        yield
        return
    from .chunk_workers import per_thread_settings

    before = torch.get_num_threads()
    if before == 1 or not per_thread_settings():
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
