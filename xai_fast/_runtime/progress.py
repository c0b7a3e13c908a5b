"""A minimal progress bar on stderr for long evaluations (no extra dependency)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Report ``done / total`` units of work on stderr, at most every 0.5 s.

    Nothing is printed when ``enabled`` is false or the work finishes within ``delay`` seconds.
    """

    def __init__(self, total: int, desc: str, *, enabled: bool = True, delay: float = 2.0):
        self.total, self.desc, self.enabled, self.delay = max(int(total), 1), desc, enabled, delay
        self.done = 0
        self._start = self._last = time.perf_counter()
        self._shown = False
        self._tty = sys.stderr.isatty()

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.perf_counter()
        every = 0.5 if self._tty else 10.0  # a log file gets a line every 10 s at most
        if now - self._start < self.delay or (now - self._last < every and self.done < self.total):
            return
        self._last = now
        self._shown = True
        frac = self.done / self.total
        bar = "#" * int(frac * 30)
        line = (
            f"{self.desc}: {frac:.0%} [{bar:<30}] {self.done}/{self.total} "
            f"({now - self._start:.1f}s)"
        )
        sys.stderr.write(f"\r{line}" if self._tty else f"{line}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._shown and self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
