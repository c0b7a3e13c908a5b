"""The progress bar of long evaluations: tqdm's (notebooks too) when it is installed, else a
plain line on stderr. Nothing appears for work that ends within ``delay`` seconds."""

from __future__ import annotations

import sys
import time

__all__ = ["DEFAULT_DELAY", "Progress", "call_in_chunks"]

DEFAULT_DELAY = 2.0  # seconds of work before a bar appears


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """Report ``done / total`` units of work.

    Parameters
    ----------
    total : int
        Units of work; may grow later (``bar.total += n``).
    desc : str
        The label, e.g. captum's ``"Kernel Shap attribution"``.
    enabled : bool
        ``False`` prints nothing.
    delay : float, optional
        Seconds before the bar appears (0: at once); default :data:`DEFAULT_DELAY`.
    """

    def __init__(self, total: int, desc: str, *, enabled: bool = True, delay=None):
        delay = DEFAULT_DELAY if delay is None else delay
        self.desc, self.enabled, self.delay = desc, bool(enabled), float(delay)
        self.done = 0
        self._total = max(int(total), 0)
        self._bar = None
        self._plain = None
        self._tqdm = None
        self._start = time.perf_counter()
        if self.enabled:
            self._tqdm = _tqdm()
            if self._tqdm is None:
                self._plain = _PlainBar(desc, self.delay)
            elif self.delay <= 0:
                self._open()

    def _open(self) -> None:
        """The tqdm bar, made once the work has lasted ``delay`` (making one costs about
        0.1 ms, as much as a small call's own work), starting at the units done."""
        self._bar = self._tqdm(
            total=self._total, desc=self.desc, initial=self.done, file=sys.stderr
        )
        clock = getattr(self._bar, "_time", None)
        if callable(clock) and hasattr(self._bar, "start_t"):  # elapsed from the work's start
            self._bar.start_t = clock() - (time.perf_counter() - self._start)

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = max(int(value), 0)
        if self._bar is not None:
            self._bar.total = self._total  # shown at the next update

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._tqdm is not None:
            if time.perf_counter() - self._start >= self.delay:
                self._open()
                self._bar.refresh()
        elif self._plain is not None:
            self._plain.show(self.done, max(self._total, 1))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._plain is not None:
            self._plain.close()


def call_in_chunks(model, rows, desc: str, enabled: bool):
    """``model(rows)`` ``(n, k)`` for a :class:`~xai_fast.models.ModelAdapter`, one chunk of
    its ``batch_rows`` per call, with a bar when it takes long."""
    import numpy as np

    per = model.batch_rows(rows.shape[1])
    bar = Progress(len(rows), desc, enabled=enabled)
    out = []
    try:
        for c in range(0, len(rows), per):
            out.append(model(np.ascontiguousarray(rows[c : c + per])))
            bar.update(min(per, len(rows) - c))
    finally:
        bar.close()
    return np.concatenate(out)


class _PlainBar:
    """``desc: 42% [####      ] done/total (1.2s)`` on stderr, at most every 0.5 s (10 s when
    stderr is a file)."""

    def __init__(self, desc: str, delay: float):
        self.desc, self.delay = desc, delay
        self._start = self._last = time.perf_counter()
        self._shown = False
        self._tty = sys.stderr.isatty()

    def show(self, done: int, total: int) -> None:
        now = time.perf_counter()
        every = 0.5 if self._tty else 10.0
        if now - self._start < self.delay or (now - self._last < every and done < total):
            return
        self._last, self._shown = now, True
        frac = min(done / total, 1.0)
        line = (
            f"{self.desc}: {frac:.0%} [{'#' * int(frac * 30):<30}] {done}/{total} "
            f"({now - self._start:.1f}s)"
        )
        sys.stderr.write(f"\r{line}" if self._tty else f"{line}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._shown and self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
