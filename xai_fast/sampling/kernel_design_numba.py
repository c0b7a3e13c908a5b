"""Numba kernel of the Kernel SHAP coalition design.

Bit-identical to :func:`xai_fast.sampling.kernel_design_ref.kernel_design` for the same seed.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .._rng_numba import stream_key, uniform
from .combinations_numba import next_combination
from .subset_table import EMPTY as _EMPTY
from .subset_table import find_subset


@nb.njit(cache=True)
def kernel_design(M, nsamples, seed, weight_vector, num_full, num_paired, binoms, cdf):
    """Build the coalition design for ``M`` players (see the numpy reference for shapes)."""
    Z = np.zeros((nsamples, M), dtype=np.bool_)
    w = np.zeros(nsamples)
    n = _enumerate_sizes(M, num_full, num_paired, weight_vector, binoms, Z, w)
    samples_left = nsamples - n
    if num_full < weight_vector.shape[0] and samples_left > 0:
        n += _random_part(
            M, samples_left, seed, weight_vector, num_full, num_paired, cdf, Z[n:], w[n:]
        )
    return Z[:n].copy(), w[:n].copy()


@nb.njit(cache=True)
def _enumerate_sizes(M, num_full, num_paired, weight_vector, binoms, Z, w):
    n = 0
    idx = np.empty(M, dtype=np.int64)
    for s in range(1, num_full + 1):
        paired = s <= num_paired
        wgt = weight_vector[s - 1] / binoms[s - 1] / (2.0 if paired else 1.0)
        for i in range(s):
            idx[i] = i
        while True:  # combinations of range(M) of size s, lexicographic
            for i in range(s):
                Z[n, idx[i]] = True
            w[n] = wgt
            n += 1
            if paired:
                for j in range(M):
                    Z[n, j] = not Z[n - 1, j]
                w[n] = wgt
                n += 1
            if not next_combination(idx, s, M):
                break
    return n


@nb.njit(cache=True)
def _random_part(M, samples_left, seed, weight_vector, num_full, num_paired, cdf, Z, w):
    P = 4 * samples_left
    L = cdf.shape[0]
    nwords = (M + 63) // 64
    tsize = 1
    while tsize < 2 * samples_left:
        tsize *= 2
    table = np.full(tsize, _EMPTY, dtype=np.int64)  # open addressing: slot -> unique id
    words = np.zeros((samples_left, nwords), dtype=np.uint64)
    row_of = np.zeros(samples_left, dtype=np.int64)
    has_comp = np.zeros(samples_left, dtype=np.bool_)
    mult = np.zeros(samples_left)
    perm = np.empty(M, dtype=np.int64)
    cur = np.empty(nwords, dtype=np.uint64)
    mask = np.empty(M, dtype=np.bool_)
    n_unique = 0
    added = 0
    for t in range(P):
        if added >= samples_left:
            break
        key = stream_key(seed, t)
        u0 = uniform(key, 0)
        q = 0
        while q < L - 1 and u0 >= cdf[q]:
            q += 1
        s = q + num_full + 1
        for j in range(M):
            perm[j] = j
        for j in range(s):  # partial Fisher-Yates
            r = j + min(np.int64(uniform(key, j + 1) * (M - j)), M - j - 1)
            tmp = perm[j]
            perm[j] = perm[r]
            perm[r] = tmp
        mask[:] = False
        for j in range(s):
            mask[perm[j]] = True
        cur[:] = 0
        for j in range(M):
            if mask[j]:
                cur[j // 64] |= np.uint64(1) << np.uint64(j % 64)
        slot, found = find_subset(table, words, cur)
        if found >= 0:
            mult[found] += 1.0
            continue
        uid = n_unique
        n_unique += 1
        table[slot] = uid
        words[uid] = cur
        row_of[uid] = added
        mult[uid] = 1.0
        Z[added] = mask
        added += 1
        if s <= num_paired and added < samples_left:
            for j in range(M):
                Z[added, j] = not mask[j]
            has_comp[uid] = True
            added += 1
    for uid in range(n_unique):  # weight = draws of the coalition, as in shap
        w[row_of[uid]] = mult[uid]
        if has_comp[uid]:
            w[row_of[uid] + 1] = mult[uid]
    total = 0.0
    for i in range(added):
        total += w[i]
    left = 0.0
    for k in range(num_full, weight_vector.shape[0]):
        left += weight_vector[k]
    for i in range(added):
        w[i] *= left / total
    return added
