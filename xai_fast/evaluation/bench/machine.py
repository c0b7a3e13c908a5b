"""What a benchmark ran on: date, versions, backends, CPUs, threads and the load average."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone

import numpy as np

__all__ = ["load_average", "run_meta"]


def load_average() -> float | None:
    """The 1-minute load average (other work on the machine skews the timings)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on every platform
        return None


def run_meta(mode, repeats, seed, seconds, skips) -> dict:
    """The ``"meta"`` of a suite's result: date, settings, versions and machine.

    ``skips`` maps each library to ``None`` (installed) or the note of its skip; the version of
    a skipped reference is ``None``.
    """
    import torch

    from ... import __version__
    from ...backends import available

    versions = {"xai_fast": __version__, "numpy": np.__version__, "torch": torch.__version__}
    for lib, note in skips.items():
        if lib != "xai_fast":
            versions[lib] = _version(lib) if note is None else None
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "repeats": repeats,
        "seed": seed,
        "seconds": seconds,
        "python": platform.python_version(),
        "versions": versions,
        "backends": available(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }


def _version(lib: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(lib)
    except PackageNotFoundError:
        return None
