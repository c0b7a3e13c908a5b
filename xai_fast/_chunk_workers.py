"""Evaluate independent chunks of work on several CPU threads, each running torch single-threaded.

A small model on a few thousand rows cannot keep torch's intra-op threads busy: every layer
splits its work across the cores and waits for all of them. Running whole chunks side by side
instead, one thread per chunk with one intra-op thread each, keeps every core on useful work
and each chunk's rows in its own core's cache.

Per-thread torch settings are thread-local under OpenMP (torch's CPU backend on Linux), so the
caller's own thread keeps its thread count; the process default is restored on the way out.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["map_chunks", "per_thread_settings"]


@functools.lru_cache(maxsize=1)
def per_thread_settings() -> bool:
    """True when torch's thread count is a per-thread setting (the OpenMP backend).

    Torch's native thread pool has one process-wide size that cannot change once work has
    started, so side-by-side workers there would only share (and oversubscribe) it.
    """
    import torch

    return "parallel backend: OpenMP" in torch.__config__.parallel_info()


def map_chunks(fn, n_chunks: int, workers: int, *, on_done=None) -> list:
    """``[fn(c, w) for c in range(n_chunks)]``, computed by ``workers`` threads.

    Parameters
    ----------
    fn : callable ``(chunk, worker) -> object``
        Computes chunk ``chunk`` (``0 <= chunk < n_chunks``) on worker ``worker``
        (``0 <= worker < workers``); a worker runs one chunk at a time, so per-worker buffers
        indexed by ``worker`` are never shared.
    n_chunks : int
    workers : int
        Threads to use; 1 (or a single chunk) runs everything in the calling thread.
    on_done : callable ``(chunk) -> None``, optional
        Called after each chunk, one call at a time (e.g. to advance a progress bar).

    Returns
    -------
    list
        The results, in chunk order. The first exception raised by any chunk is re-raised
        (after the other threads stop taking new chunks).
    """
    workers = max(1, min(int(workers), n_chunks))
    if workers == 1:
        results = []
        for c in range(n_chunks):
            results.append(fn(c, 0))
            if on_done is not None:
                on_done(c)
        return results

    import torch

    results = [None] * n_chunks
    errors: list[BaseException] = []
    lock = threading.Lock()
    next_chunk = iter(range(n_chunks))
    outer_threads = torch.get_num_threads()
    per_worker = max(1, outer_threads // workers)

    def run(w):
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

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in range(workers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.1)  # wakes up for KeyboardInterrupt
    except BaseException:
        with lock:
            errors.append(KeyboardInterrupt())  # stop handing out chunks
        for t in threads:
            t.join()
        raise
    finally:
        torch.set_num_threads(outer_threads)  # the process default the workers changed
    if errors:
        raise errors[0]
    return results
