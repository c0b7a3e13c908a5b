"""Fake (meta) implementations of the ``torch.ops.xai_fast`` ops: output shapes and dtypes only."""

from __future__ import annotations

import torch


@torch.library.register_fake("xai_fast::kernel_design")
def _kernel_design(M, nsamples, seed, weight_vector, num_full, num_paired, binoms, cdf):
    torch._check(M >= 2)
    Z = weight_vector.new_empty((nsamples, M), dtype=torch.bool)
    w = weight_vector.new_empty((nsamples,), dtype=torch.float64)
    n_used = weight_vector.new_empty((), dtype=torch.int64)
    return Z, w, n_used


@torch.library.register_fake("xai_fast::fill_masked_rows")
def _fill_masked_rows(X, B, Z, var_idx, start, out):
    torch._check(X.dtype == B.dtype and X.dtype == out.dtype)
    torch._check(out.shape[0] % B.shape[0] == 0)


@torch.library.register_fake("xai_fast::background_mean")
def _background_mean(out, weights, ey):
    torch._check(out.shape[0] == ey.shape[0] * weights.shape[0])


@torch.library.register_fake("xai_fast::constrained_wls")
def _constrained_wls(Z, w, Y, total):
    torch._check(Z.shape[0] == Y.shape[0])
    return Y.new_empty((Z.shape[1], Y.shape[1]))


@torch.library.register_fake("xai_fast::rescale_multiplier")
def _rescale_multiplier(x, x_b, y, y_b, eps):
    torch._check(x.shape == y.shape and x_b.shape == y_b.shape)
    torch._check(x.shape[0] % x_b.shape[0] == 0)
    return torch.empty_like(x), x.new_empty((), dtype=torch.int64)
