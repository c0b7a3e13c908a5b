"""BLAS thread limits around the small solves."""

from __future__ import annotations

import contextlib
import functools

__all__ = ["single_threaded_blas"]


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
