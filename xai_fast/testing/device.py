"""Checks of how an explainer uses an accelerator."""

from __future__ import annotations

import warnings

__all__ = ["count_host_syncs"]


def count_host_syncs(fn) -> int:
    """Host synchronisations during ``fn()``, as torch's CUDA sync debug mode reports them.

    Parameters
    ----------
    fn : callable
        Called once, with no arguments, on a machine with CUDA.

    Returns
    -------
    int
        The number of synchronising calls (``.item()``, ``.cpu()``, ``nonzero`` ...) it made.
    """
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("count_host_syncs needs a CUDA device; torch sees none.")
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)
