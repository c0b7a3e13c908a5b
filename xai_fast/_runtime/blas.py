"""BLAS thread limits around the small solves."""

from __future__ import annotations

import contextlib

__all__ = ["single_threaded_blas"]


def single_threaded_blas():
    """Run the (small) solve on one BLAS thread.

    A multi-threaded BLAS keeps its threads spinning after each call; on a small machine
    they then compete with the model's own threads for the next evaluation (measured: 2x
    slower model calls right after a threaded solve on 2 cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - shipped with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
