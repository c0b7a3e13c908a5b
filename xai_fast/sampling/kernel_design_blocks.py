"""Jackknife blocks of shap's Kernel SHAP design: how many draws of each row fell in each block.

shap's design draws coalitions with replacement and merges repeats into one row whose weight is
its number of draws. For a delete-a-block jackknife the draws, not the rows, are the units: draw
``d`` (in the sampler's order) goes to block ``d % n_blocks``, and a row drawn three times may
sit in three blocks. Enumerated rows belong to none. Plain numpy (the proposals are replayed by
the reference design, bit-identical to every backend's kernel); it runs only for error bars.
"""

from __future__ import annotations

import numpy as np

from .kernel_design_ref import draws

__all__ = ["kernel_design_blocks"]


def kernel_design_blocks(
    M, nsamples, seed, weight_vector, num_full, num_paired, binoms, cdf, n_blocks
):
    """Draws of each row of ``kernel_design(...)`` per jackknife block.

    Parameters
    ----------
    M, nsamples, seed, weight_vector, num_full, num_paired, binoms, cdf
        As for :func:`xai_fast.sampling.kernel_design_ref.kernel_design`.
    n_blocks : int

    Returns
    -------
    ndarray of float64, shape (S, n_blocks)
        ``counts[j, b]``: draws of row ``j`` (or of the coalition whose complement it is) dealt
        to block ``b``; rows sum to the row's number of draws, 0 for enumerated rows.
    """
    n_enum = sum(int(binoms[s - 1]) * (2 if s <= num_paired else 1) for s in range(1, num_full + 1))
    samples_left = nsamples - n_enum
    if num_full >= len(weight_vector) or samples_left <= 0:
        return np.zeros((n_enum, n_blocks))
    _, inv, is_new, paired, prev, processed = draws(
        M, samples_left, seed, num_full, num_paired, cdf
    )
    t_new = np.flatnonzero(processed & is_new)  # first draw of each row's coalition, in order
    keep_comp = paired[t_new] & (prev[t_new] + 1 < samples_left)
    pos = np.arange(len(t_new)) + np.cumsum(keep_comp) - keep_comp  # row of each coalition
    row_of = np.full(int(inv.max()) + 1, -1, dtype=np.int64)
    row_of[inv[t_new]] = pos
    comp_of = np.full_like(row_of, -1)
    comp_of[inv[t_new[keep_comp]]] = pos[keep_comp] + 1
    n_out = len(t_new) + int(keep_comp.sum())
    d = np.flatnonzero(processed)  # a prefix: draw index == proposal index
    counts = np.zeros((n_enum + n_out) * n_blocks)
    np.add.at(counts, (n_enum + row_of[inv[d]]) * n_blocks + d % n_blocks, 1.0)
    with_comp = d[comp_of[inv[d]] >= 0]
    np.add.at(counts, (n_enum + comp_of[inv[with_comp]]) * n_blocks + with_comp % n_blocks, 1.0)
    return counts.reshape(-1, n_blocks)
