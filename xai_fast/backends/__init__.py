"""Kernel backends behind one picker: ``"numpy"`` (reference), ``"numba"`` and ``"torch"``.

Every backend exposes the same kernels with the same signatures:
``kernel_design``, ``constrained_wls``, ``fill_masked_rows`` and ``background_mean``.
``"torch"`` is the C++ extension ``xai_fast._C`` and is listed only when it loads.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backend", "available", "get_backend"]

_KNOWN = ("numpy", "numba", "torch")


@dataclass(frozen=True)
class Backend:
    """The kernels of one backend, as :func:`get_backend` returns them.

    Pickles as its name and loads as ``get_backend(name)``: compiled kernels pickled by value
    would lose Numba's on-disk cache and compile again in every process that loads them (about
    15 s per Ray actor), and loading ``"torch"`` by name also registers the extension's ops.
    """

    name: str
    kernel_design: Callable
    constrained_wls: Callable
    fill_masked_rows: Callable
    background_mean: Callable

    def __reduce__(self):
        return (get_backend, (self.name,))


def _is_available(name: str) -> bool:
    """Whether backend ``name`` runs here; only ``"torch"`` imports torch to find out."""
    if name == "numpy":
        return True
    if name == "numba":
        return importlib.util.find_spec("numba") is not None
    from .._extension import extension_status

    return extension_status()[0]


def available() -> list[str]:
    """Names of the backends usable on this machine, reference first."""
    return [name for name in _KNOWN if _is_available(name)]


def get_backend(name: str = "auto", *, model_is_module: bool = False) -> Backend:
    """Return the kernels of backend ``name``.

    ``"auto"`` picks ``"torch"`` for a ``torch.nn.Module`` when the extension is loaded (the
    whole pipeline then stays on the module's device), and ``"numba"`` otherwise.
    """
    if name not in _KNOWN + ("auto",):
        raise ValueError(f"backend must be 'auto' or one of {list(_KNOWN)}; got {name!r}.")
    if name == "auto":
        names = available()
        name = (
            "torch"
            if model_is_module and "torch" in names
            else ("numba" if "numba" in names else "numpy")
        )
    elif not _is_available(name):  # a named backend: a numpy or numba one never imports torch
        from .._extension import extension_status

        why = f" ({extension_status()[1]})" if name == "torch" else ""
        raise ValueError(f"backend {name!r} is not available here{why}; available: {available()}.")
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
    if name == "numba":
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
    from . import torch_ops

    return Backend(
        "torch",
        torch_ops.kernel_design,
        torch_ops.constrained_wls,
        torch_ops.fill_masked_rows,
        torch_ops.background_mean,
    )
