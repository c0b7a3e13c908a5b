"""Process-wide thread pools, made on first use and forgotten in a forked child."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import weakref

__all__ = ["LazyThreadPool"]

_ALL: weakref.WeakSet = weakref.WeakSet()


class LazyThreadPool:
    """A ``ThreadPoolExecutor`` of ``size`` threads named ``prefix``, started on first use and
    kept for the process (per-thread set-up such as OpenMP's is paid once).

    A forked child inherits the pool object but none of its threads, so every pool is reset
    there and made again on its first use.
    """

    def __init__(self, size: int, prefix: str):
        self.size, self.prefix = size, prefix
        self._pool = None
        self._lock = threading.Lock()
        _ALL.add(self)

    def get(self) -> concurrent.futures.ThreadPoolExecutor:
        """The pool (started now if it is not yet)."""
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(self.size, self.prefix)
            return self._pool

    def _forget(self) -> None:
        self._pool, self._lock = None, threading.Lock()


def _forget_all_in_child() -> None:
    for pool in list(_ALL):
        pool._forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all_in_child)
