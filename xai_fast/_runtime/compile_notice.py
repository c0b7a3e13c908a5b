"""The one stderr line that says Numba kernels are being compiled on first use."""

from __future__ import annotations

import sys

__all__ = ["compiling_notice"]

_NOTICED: set = set()


def compiling_notice(module) -> None:
    """Say once per process on stderr that ``module``'s Numba kernels are being compiled, when
    their on-disk cache is missing (the first use after an install that skipped the warm-up)."""
    import os
    import pathlib

    if os.environ.get("NUMBA_CACHE_DIR"):  # a cache elsewhere: nothing cheap to look at
        return
    path = pathlib.Path(module.__file__)
    stem = path.stem
    if stem in _NOTICED:
        return
    _NOTICED.add(stem)
    if not any((path.parent / "__pycache__").glob(f"{stem}.*.nbi")) and not _NOTICED & {"*"}:
        _NOTICED.add("*")  # one line per process is enough
        sys.stderr.write(
            "xai_fast: compiling Numba kernels on first use (cached on disk afterwards; "
            "`python -m xai_fast._runtime.warm_cache` does it ahead of time)\n"
        )
