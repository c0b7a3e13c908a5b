"""Evaluate independent chunks of work on several CPU threads, each running torch single-threaded.

A small model on a few thousand rows cannot keep torch's intra-op threads busy: every layer
splits its work across the cores and waits for all of them. Running whole chunks side by side
instead, one thread per chunk with one intra-op thread each, keeps every core on useful work
and each chunk's rows in its own core's cache.

The calling thread works on chunks too; the others come from a small pool of threads that
live for the whole process, so their per-thread set-up (OpenMP, MKL) is paid once. Thread
counts are per-thread settings under OpenMP (torch's CPU backend on Linux); the caller's own
count and the process default are restored on the way out.
"""

from __future__ import annotations

import concurrent.futures
import functools
import threading

from .thread_pools import LazyThreadPool

__all__ = ["default_workers", "map_chunks", "per_thread_settings"]

_POOL_PREFIX = "xai_fast-chunks"
_POOL_SIZE = 7  # helper threads besides the calling one: at most 8 workers
_HELPERS = LazyThreadPool(_POOL_SIZE, _POOL_PREFIX)


@functools.lru_cache(maxsize=1)
def per_thread_settings() -> bool:
    """True when torch's thread count is a per-thread setting (the OpenMP backend).

    Torch's native thread pool has one process-wide size that cannot change once work has
    started, so side-by-side workers there would only share (and oversubscribe) it.
    """
    import torch

    return "parallel backend: OpenMP" in torch.__config__.parallel_info()


def default_workers(is_module: bool, device, workers: int | None) -> int:
    """Chunks to evaluate at once for a model: ``workers`` (default torch's thread count, at
    most 8) for a module on the CPU when torch's thread count is per-thread, else 1."""
    if not is_module or device is None or device.type != "cpu" or not per_thread_settings():
        return 1
    if workers is not None:
        return workers
    import torch

    return max(1, min(torch.get_num_threads(), _POOL_SIZE + 1))


def map_chunks(fn, n_chunks: int, workers: int, *, on_done=None) -> list:
    """``[fn(c, w) for c in range(n_chunks)]``, computed by ``workers`` threads.

    Parameters
    ----------
    fn : callable ``(chunk, worker) -> object``
        Computes chunk ``chunk`` (``0 <= chunk < n_chunks``) on worker ``worker``
        (``0 <= worker < workers``; 0 is the calling thread). A worker runs one chunk at a
        time, so per-worker buffers indexed by ``worker`` are never shared.
    n_chunks : int
    workers : int
        Threads to use, the calling one included; 1 (or a single chunk) runs everything in
        the calling thread with its own thread count.
    on_done : callable ``(chunk) -> None``, optional
        Called after each chunk, one call at a time (e.g. to advance a progress bar).

    Returns
    -------
    list
        The results, in chunk order. The first exception raised by any chunk (or a
        KeyboardInterrupt) is re-raised once every worker has finished its current chunk.
    """
    workers = max(1, min(int(workers), n_chunks, _POOL_SIZE + 1))
    if threading.current_thread().name.startswith(_POOL_PREFIX):
        workers = 1  # called from inside a chunk: never wait on our own pool
    results = [None] * n_chunks
    if workers == 1:
        for c in range(n_chunks):
            results[c] = fn(c, 0)
            if on_done is not None:
                on_done(c)
        return results

    import torch

    errors: list[BaseException] = []
    lock = threading.Lock()
    next_chunk = iter(range(n_chunks))
    outer_threads = torch.get_num_threads()
    per_worker = max(1, outer_threads // workers)

    def run(w):
        if torch.get_num_threads() != per_worker:
            torch.set_num_threads(per_worker)  # this thread's OpenMP/MKL setting
        while True:
            with lock:
                c = next(next_chunk, None) if not errors else None
            if c is None:
                return
            try:
                results[c] = fn(c, w)
            except BaseException as err:  # handed to the calling thread
                with lock:
                    errors.append(err)
                return
            if on_done is not None:
                with lock:
                    on_done(c)

    helpers = [_HELPERS.get().submit(run, w) for w in range(1, workers)]
    try:
        run(0)
    finally:
        pending = set(helpers)
        while pending:
            try:
                _, pending = concurrent.futures.wait(pending)
            except BaseException as err:  # Ctrl-C while waiting: stop handing out chunks
                with lock:
                    errors.append(err)
        torch.set_num_threads(outer_threads)  # this thread's count and the process default
    if errors:
        raise errors[0]
    return results
