"""DeepLIFT's rescale multipliers ``(y - y_b) / (x - x_b)`` of an elementwise op, one pass.

:func:`rescale_multiplier_ref` is the reference from torch ops (any device, any float dtype);
:func:`rescale_multiplier` runs the C++ op ``xai_fast::rescale_multiplier`` (one pass over the
four tensors instead of six) on float32 / float64 tensors on the CPU when the extension is
loaded (and on a CUDA device when it was built with its CUDA kernels), else the reference. The
two are bit-identical: the same IEEE subtractions and division.
"""

from __future__ import annotations

import torch

__all__ = ["rescale_multiplier", "rescale_multiplier_ref"]


def rescale_multiplier_ref(x, x_b, y, y_b, eps: float):
    """Multipliers of the rescale rule, and how many are undefined.

    Parameters
    ----------
    x, y : torch.Tensor, shape (R, ...)
        The op's input and output on the explained rows.
    x_b, y_b : torch.Tensor, shape (M, ...)
        The same on the baseline rows; ``R`` a multiple of ``M``, row ``r`` paired with baseline
        row ``r % M``.
    eps : float

    Returns
    -------
    m : torch.Tensor, shape (R, ...)
        ``(y - y_b) / (x - x_b)``; NaN where ``|x - x_b| < eps``.
    n_small : torch.Tensor, int64 scalar
        The number of those NaN positions.
    """
    R, M = x.shape[0], x_b.shape[0]
    dx = (x.view((R // M, M) + tuple(x.shape[1:])) - x_b).view(x.shape)
    dy = (y.view((R // M, M) + tuple(y.shape[1:])) - y_b).view(y.shape)
    small = dx.abs() < eps
    m = torch.where(small, torch.full_like(dx, float("nan")), dy / dx)
    return m, small.sum()


def _use_op(x, x_b, y, y_b) -> bool:
    dev = x.device
    if dev.type not in ("cpu", "cuda") or x.dtype not in (torch.float32, torch.float64):
        return False
    if not all(t.dtype == x.dtype and t.device == dev for t in (x_b, y, y_b)):
        return False
    from ...backends.extension import extension_status, has_cuda_kernel

    return extension_status()[0] and (dev.type == "cpu" or has_cuda_kernel("rescale_multiplier"))


def rescale_multiplier(x, x_b, y, y_b, eps: float):
    """:func:`rescale_multiplier_ref`, on the compiled op where it applies."""
    if _use_op(x, x_b, y, y_b):
        return torch.ops.xai_fast.rescale_multiplier(x, x_b, y, y_b, float(eps))
    return rescale_multiplier_ref(x, x_b, y, y_b, eps)
