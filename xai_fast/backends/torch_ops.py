"""The ``"torch"`` backend: the C++ ops of ``xai_fast._C`` behind the kernel signatures.

Each function takes numpy arrays (zero-copy views are handed to the op) or tensors, with the
same signature as the numpy reference, so the same tests cover every backend. ``fill_masked_rows``
and ``background_mean`` run the compiled op on CPU tensors and on CUDA tensors when the extension
was built with its CUDA kernels, and fall back to plain torch ops elsewhere.
"""

from __future__ import annotations

import numpy as np
import torch

from .extension import has_cuda_kernel

_ops = torch.ops.xai_fast
_OP_DTYPES = (torch.float32, torch.float64)  # others (half, bfloat16) use plain torch ops


def _compiled(op: str, t: torch.Tensor) -> bool:
    """Whether the compiled ``op`` takes tensor ``t``: a 32- or 64-bit float on the CPU, or on
    a CUDA device when the CUDA kernels are registered."""
    if t.dtype not in _OP_DTYPES:
        return False
    return t.device.type == "cpu" or (t.device.type == "cuda" and has_cuda_kernel(op))


def _t(a):
    return a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))


def kernel_design(M, nsamples, seed, weight_vector, num_full, num_paired, binoms, cdf):
    """See :func:`xai_fast.sampling.kernel_design_ref.kernel_design`; returns numpy arrays."""
    seed = int(np.uint64(seed).astype(np.int64))  # same 64 bits, as the schema's int
    Z, w, n = _ops.kernel_design(
        int(M),
        int(nsamples),
        seed,
        _t(weight_vector),
        int(num_full),
        int(num_paired),
        _t(binoms),
        _t(cdf),
    )
    n = int(n)
    return Z[:n].numpy(), w[:n].numpy()


def fill_masked_rows(X, B, Z, var_idx, start, out):
    """See :func:`xai_fast.masking.fill_ref.fill_masked_rows` (writes into ``out``)."""
    out_t = _t(out) if isinstance(out, torch.Tensor) else torch.from_numpy(out)
    if _compiled("fill_masked_rows", out_t):
        _ops.fill_masked_rows(_t(X), _t(B), _t(Z), _t(var_idx), int(start), out_t)
    else:
        fill_masked_rows_torch(_t(X), _t(B), _t(Z), _t(var_idx), int(start), out_t)


def fill_masked_rows_torch(X, B, Z, var_idx, start, out):
    """Device-agnostic version of the masking kernel from plain torch ops (same contract)."""
    n, d = X.shape
    N, S = B.shape[0], Z.shape[0]
    P = out.shape[0] // N
    p = start + torch.arange(P, device=X.device)
    i, s = p // S, p % S
    full = torch.zeros((P, d), dtype=torch.bool, device=X.device)
    full.scatter_(1, var_idx[i], Z[s])
    rows = torch.where(full[:, None, :], X[i][:, None, :], B[None, :, :])
    out.copy_(rows.reshape(P * N, d))


def fill_rows_at(X, B, Z, var_idx, inst, coal, bg, out):
    """See :func:`xai_fast.masking.fill_ref.fill_rows_at` (writes into ``out``): Numba's kernel
    on CPU views of 32- and 64-bit floats, plain torch ops otherwise (any device)."""
    args = [_t(a) for a in (X, B, Z, var_idx, inst, coal, bg)]
    out_t = out if isinstance(out, torch.Tensor) else torch.from_numpy(out)
    if out_t.device.type == "cpu" and out_t.dtype in _OP_DTYPES and out_t.is_contiguous():
        from ..masking import fill_numba

        fill_numba.fill_rows_at(*(a.contiguous().numpy() for a in args), out_t.numpy())
        return
    X, B, Z, var_idx, inst, coal, bg = args
    full = torch.zeros(out_t.shape, dtype=torch.bool, device=out_t.device)
    full.scatter_(1, var_idx[inst], Z[coal])
    torch.where(full, X[inst], B[bg], out=out_t)


def background_mean(out, weights, ey):
    """See :func:`xai_fast.masking.fill_ref.background_mean` (writes into ``ey``)."""
    out_t, w_t = _t(out), _t(weights)
    ey_t = ey if isinstance(ey, torch.Tensor) else torch.from_numpy(ey)
    if ey_t.is_contiguous() and ey_t.device == out_t.device and _compiled("background_mean", out_t):
        _ops.background_mean(out_t, w_t, ey_t)
    else:
        N = w_t.shape[0]
        ey_t.copy_(
            torch.einsum("pnk,n->pk", out_t.to(w_t.dtype).reshape(-1, N, out_t.shape[1]), w_t)
        )


def constrained_wls(Z, w, Y, total):
    """See :func:`xai_fast.solvers.kernel_wls_ref.constrained_wls`.

    Returns numpy for numpy inputs and a tensor on the inputs' device for tensors; raises
    ``numpy.linalg.LinAlgError`` when the normal equations are singular.
    """
    as_numpy = not isinstance(Y, torch.Tensor)
    try:
        phi = _ops.constrained_wls(_t(Z), _t(w), _t(Y), _t(total))
    except torch.linalg.LinAlgError as err:
        raise np.linalg.LinAlgError(str(err)) from None
    return phi.numpy() if as_numpy else phi
