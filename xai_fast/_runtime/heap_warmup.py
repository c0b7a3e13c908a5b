"""One freed 32 MiB block, so that glibc serves a call's large temporaries from its heap.

glibc's ``malloc`` maps a block of at least its mmap threshold afresh from the system, and
returns it on ``free``; every page of a fresh mapping costs a page fault on its first touch. The
threshold starts at 128 KiB and rises to the size of each larger mapped block freed, up to
32 MiB (the trim threshold, above which the heap's free top goes back to the system, follows at
twice that). A call's chunks allocate model temporaries of a few MiB; in a process that has not
freed a larger block yet, those of the largest size are mapped afresh every time. On the bench
CNN (``benchmarks/bench_layer.py``), ``LayerConductance`` took 66-86 ms a call in a new process,
with 8,000-14,000 page faults; after one 32 MiB block is freed, 54-55 ms and none. Most
processes that have loaded data or a model have freed such a block already; :func:`warm_heap`
frees one once per process, where the C library is glibc, before the first chunked call.

The process may then keep up to about 64 MiB of freed heap memory for reuse instead of
returning it at once. ``XAI_FAST_KEEP_MALLOC=1`` in the environment skips the block; glibc's own
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set the thresholds for any program.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["warm_heap"]

#: Bytes of the block: under glibc's 32 MiB ceiling for the threshold, with room for its header.
BLOCK_BYTES = 32 * 2**20 - 2**16

_done = False


def warm_heap() -> None:
    """Free one :data:`BLOCK_BYTES` block, once per process, under glibc (see the module)."""
    global _done
    if _done:
        return
    _done = True
    if os.environ.get("XAI_FAST_KEEP_MALLOC", "") not in ("", "0") or not _is_glibc():
        return
    block = np.empty(BLOCK_BYTES, dtype=np.uint8)  # mapped, never touched: no page faults
    del block


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, OSError, ValueError, TypeError):
        return False
