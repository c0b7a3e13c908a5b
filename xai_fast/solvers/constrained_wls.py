"""The constrained weighted least squares of Kernel SHAP, with its fallback in one place.

Every caller (tabular and tensor Kernel SHAP, the l1-selected refits) solves through
:func:`solve_constrained_wls`; the backends supply only the inner kernel.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from .._runtime.blas import single_threaded_blas, single_torch_thread
from .kernel_wls_ref import constrained_lstsq
from .kernel_wls_ref import constrained_wls as constrained_wls_ref

__all__ = ["solve_constrained_wls"]

# Systems up to this many multiply-adds (S * M * (M + R)) are solved on CPU tensors by the
# extension's serial kernel (kDirectWork in csrc/cpu/constrained_wls.cpp): it uses neither BLAS
# nor torch's threads, so switching their thread counts (about 0.1 ms after a model's chunks)
# is skipped.
SERIAL_WLS_WORK = 2**24


def _serial_on_cpu(Zf, S: int, M: int, R: int) -> bool:
    torch = sys.modules.get("torch")  # tensors reach only the torch backend's kernel
    on_cpu = torch is not None and isinstance(Zf, torch.Tensor) and Zf.device.type == "cpu"
    return on_cpu and S * M * (M + R) <= SERIAL_WLS_WORK


def solve_constrained_wls(
    kernel, Zf, w, Y, total, *, hint: str, warn: bool = True, threads_limited: bool = False
):
    """Coefficients ``phi`` ``(M, R)`` minimising ``sum_s w[s] (Y[s] - Zf[s] @ phi)**2`` with
    ``phi.sum(axis=0) == total``.

    Parameters
    ----------
    kernel : callable
        A backend's ``constrained_wls`` (numpy arrays, or device tensors for ``"torch"``).
    Zf : ndarray or torch.Tensor of float64, shape (S, M)
    w : ndarray or torch.Tensor of float64, shape (S,)
    Y : ndarray or torch.Tensor of float64, shape (S, R)
    total : ndarray or torch.Tensor of float64, shape (R,)
    hint : str
        What the user can do when the normal equations are singular (ends the warning).
    warn : bool, default True
        Warn when falling back to the least-squares solution.
    threads_limited : bool, default False
        The caller already runs BLAS on one thread (a loop of small solves): no switch here.

    Returns
    -------
    ndarray of float64, shape (M, R), or a tensor on the inputs' device
        A singular system gets the minimum-norm least-squares solution, as numpy, with a
        RuntimeWarning. NaN in ``Y`` (a model allowed to return NaN) propagates to the
        affected columns instead of failing.
    """
    if isinstance(Y, np.ndarray):
        Y = np.ascontiguousarray(Y)
        if not np.isfinite(Y).all():  # compiled kernels refuse NaN; numpy's propagates it
            return constrained_wls_ref(Zf, w, Y, total)
    S, M = Zf.shape
    small = S * M <= 2**18  # a few thousand coalitions of 100 players
    try:
        if threads_limited or _serial_on_cpu(Zf, S, M, Y.shape[1]):  # no switches to make
            return kernel(Zf, w, Y, total)
        with single_threaded_blas(), single_torch_thread(*((Zf, Y) if small else ())):
            return kernel(Zf, w, Y, total)
    except np.linalg.LinAlgError:
        if warn:
            warnings.warn(
                f"The Kernel SHAP regression is singular; using a least-squares solution. {hint}",
                RuntimeWarning,
                stacklevel=3,
            )
        as_np = [a.cpu().numpy() if hasattr(a, "cpu") else a for a in (Zf, w, Y, total)]
        return constrained_lstsq(*as_np)
