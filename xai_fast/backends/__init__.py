"""Kernel backends behind one picker: ``"numpy"`` (reference) and ``"numba"``.

Every backend exposes the same kernels with the same signatures:
``kernel_design``, ``constrained_wls``, ``fill_masked_rows`` and ``background_mean``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backend", "available", "get_backend"]

_KNOWN = ("numpy", "numba")


@dataclass(frozen=True)
class Backend:
    """The kernels of one backend."""

    name: str
    kernel_design: Callable
    constrained_wls: Callable
    fill_masked_rows: Callable
    background_mean: Callable


def available() -> list[str]:
    """Names of the backends usable on this machine, reference first."""
    names = ["numpy"]
    if importlib.util.find_spec("numba") is not None:
        names.append("numba")
    return names


def get_backend(name: str = "auto") -> Backend:
    """Return the kernels of backend ``name`` (``"auto"`` picks the fastest available)."""
    if name == "auto":
        name = available()[-1]
    if name not in _KNOWN:
        raise ValueError(f"backend must be 'auto' or one of {list(_KNOWN)}; got {name!r}.")
    if name not in available():
        raise ValueError(f"backend {name!r} is not available here; available: {available()}.")
    if name == "numpy":
        from ..masking import fill_ref
        from ..sampling import kernel_design_ref
        from ..solvers import kernel_wls_ref

        return Backend(
            "numpy",
            kernel_design_ref.kernel_design,
            kernel_wls_ref.constrained_wls,
            fill_ref.fill_masked_rows,
            fill_ref.background_mean,
        )
    from ..masking import fill_numba
    from ..sampling import kernel_design_numba
    from ..solvers import kernel_wls_numba

    return Backend(
        "numba",
        kernel_design_numba.kernel_design,
        kernel_wls_numba.constrained_wls,
        fill_numba.fill_masked_rows,
        fill_numba.background_mean,
    )
