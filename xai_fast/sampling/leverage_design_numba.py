"""The leverage-score coalition design as a Numba kernel.

Same signature and bit-identical output as
:func:`xai_fast.sampling.leverage_design_ref.leverage_design`; repeats are found with an
open-addressing table of the subsets' bit words.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._rng_numba import stream_key, uniform
from .combinations_numba import next_combination
from .leverage_design_ref import STREAM_BASE
from .subset_table import EMPTY, find_subset

__all__ = ["leverage_design"]


def leverage_design(M, seed, sizes, pairs, enumerated, n_blocks):
    """See :func:`xai_fast.sampling.leverage_design_ref.leverage_design`."""
    S = 0
    for s, k, enum in zip(sizes.tolist(), pairs.tolist(), enumerated.tolist(), strict=True):
        S += (math.comb(M, s) * (1 if 2 * s == M else 2)) if enum else 2 * k
    Z = np.zeros((S, M), dtype=np.bool_)
    w = np.zeros(S)
    block = np.full(S, -1, dtype=np.int64)
    _fill(M, np.uint64(seed), sizes.astype(np.int64), pairs.astype(np.int64),
          enumerated.astype(np.bool_), int(n_blocks), Z, w, block)  # fmt: skip
    return Z, w / w.sum(), block


@nb.njit(cache=True)
def _fill(M, seed, sizes, pairs, enumerated, n_blocks, Z, w, block):
    row = 0
    dealt = 0
    nwords = (M + 63) // 64
    comb = np.empty(M, dtype=np.int64)
    perm = np.empty(M, dtype=np.int64)
    cur = np.empty(nwords, dtype=np.uint64)
    for g in range(sizes.shape[0]):
        s = sizes[g]
        k = pairs[g]
        middle = 2 * s == M
        kern = (M - 1.0) / (s * (M - s))
        if enumerated[g]:
            start = row
            for j in range(s):
                comb[j] = j
            while True:  # lexicographic combinations
                for j in range(s):
                    Z[row, comb[j]] = True
                row += 1
                if not middle:
                    for j in range(M):
                        Z[row, j] = not Z[row - 1, j]
                    row += 1
                if not next_combination(comb, s, M):
                    break
            b = (row - start) if middle else (row - start) // 2
            for r in range(start, row):
                w[r] = kern / b
            continue
        if k == 0:
            continue
        key = stream_key(seed, np.uint64(STREAM_BASE) + np.uint64(s))
        tsize = 1
        while tsize < 4 * k:
            tsize *= 2
        table = np.full(tsize, EMPTY, dtype=np.int64)
        words = np.zeros((k, nwords), dtype=np.uint64)
        found_n = 0
        attempt = 0
        wt = kern / (2 * k if middle else k)
        while found_n < k:
            base = attempt * M
            attempt += 1
            for j in range(M):
                perm[j] = j
            for j in range(s):  # partial Fisher-Yates
                r = j + min(np.int64(uniform(key, base + j) * (M - j)), M - j - 1)
                tmp = perm[j]
                perm[j] = perm[r]
                perm[r] = tmp
            cur[:] = 0
            for j in range(s):
                cur[perm[j] // 64] |= np.uint64(1) << np.uint64(perm[j] % 64)
            flip = middle and (cur[0] & np.uint64(1)) == 0  # canonical: contains player 0
            if flip:
                for q in range(nwords):
                    cur[q] = ~cur[q]
                rem = M - 64 * (nwords - 1)  # clear the unused high bits of the last word
                if rem < 64:
                    cur[nwords - 1] &= (np.uint64(1) << np.uint64(rem)) - np.uint64(1)
            slot, uid = find_subset(table, words, cur)
            if uid >= 0:  # drawn before: redraw
                continue
            table[slot] = found_n
            words[found_n] = cur
            found_n += 1
            for j in range(s):
                Z[row, perm[j]] = True
            for j in range(M):
                Z[row + 1, j] = not Z[row, j]
            w[row] = wt
            w[row + 1] = wt
            block[row] = dealt % n_blocks
            block[row + 1] = dealt % n_blocks
            dealt += 1
            row += 2
