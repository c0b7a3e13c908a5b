"""Plain numpy reference of the leverage-score coalition design (the test oracle).

Same signature and bit-identical output as
:func:`xai_fast.sampling.leverage_design_numba.leverage_design`.

Rows, group by group (sizes ``s = 1 .. M // 2``): an enumerated group lists its subsets in
lexicographic order, each followed by its complement (the middle size lists each subset once);
a sampled group draws ``pairs`` distinct subsets (distinct up to complement for the middle
size), each followed by its complement. Draw ``a`` of group ``s`` is a partial Fisher-Yates
shuffle from uniforms ``a * M + j`` of stream ``STREAM_BASE + s``; repeats are redrawn.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._rng import LEVERAGE_BASE, stream_keys, uniforms

__all__ = ["STREAM_BASE", "leverage_design"]

#: Streams of the sampled groups (far from the shap design's pair streams and LIME's).
STREAM_BASE = LEVERAGE_BASE


def leverage_design(M, seed, sizes, pairs, enumerated, n_blocks):
    """Build the design of a :class:`~xai_fast.sampling.leverage_plan.LeveragePlan`.

    Parameters
    ----------
    M : int
    seed : numpy.uint64
    sizes, pairs : ndarray of int64, shape (G,)
    enumerated : ndarray of bool, shape (G,)
    n_blocks : int
        Sampled pairs are dealt to blocks ``0 .. n_blocks - 1`` in turn (for the jackknife).

    Returns
    -------
    Z : ndarray of bool, shape (S, M)
    w : ndarray of float64, shape (S,)
        Shapley-kernel weight over inclusion probability, normalised to sum 1.
    block : ndarray of int64, shape (S,)
        Jackknife block of each sampled row; -1 for enumerated rows.
    """
    Zs, ws, bs = [], [], []
    dealt = 0
    for s, k, enum in zip(sizes.tolist(), pairs.tolist(), enumerated.tolist(), strict=True):
        middle = 2 * s == M
        kern = (M - 1.0) / (s * (M - s))  # kernel mass of the size, times C(M, s)
        if enum:
            rows = []
            for combo in itertools.combinations(range(M), s):
                z = np.zeros(M, dtype=bool)
                z[list(combo)] = True
                rows.append(z)
                if not middle:
                    rows.append(~z)
            b = len(rows) if middle else len(rows) // 2
            Zs.append(np.array(rows).reshape(-1, M))
            ws.append(np.full(len(rows), kern / b))
            bs.append(np.full(len(rows), -1, dtype=np.int64))
            continue
        if k == 0:
            continue
        key = stream_keys(seed, np.array([STREAM_BASE + s], dtype=np.uint64))[0]
        seen, rows, attempt = set(), [], 0
        while len(rows) < 2 * k:
            u = uniforms(key, np.arange(attempt * M, attempt * M + s, dtype=np.uint64))
            attempt += 1
            perm = list(range(M))
            for j in range(s):  # partial Fisher-Yates
                r = j + min(int(u[j] * (M - j)), M - j - 1)
                perm[j], perm[r] = perm[r], perm[j]
            z = np.zeros(M, dtype=bool)
            z[perm[:s]] = True
            canon = z if not middle or z[0] else ~z
            code = canon.tobytes()
            if code in seen:
                continue
            seen.add(code)
            rows += [z, ~z]
        Zs.append(np.array(rows))
        ws.append(np.full(2 * k, kern / (2 * k if middle else k)))
        bs.append(np.repeat((dealt + np.arange(k)) % n_blocks, 2))
        dealt += k
    Z = np.vstack(Zs) if Zs else np.zeros((0, M), dtype=bool)
    w = np.concatenate(ws) if ws else np.zeros(0)
    return Z, w / w.sum(), (np.concatenate(bs) if bs else np.zeros(0, dtype=np.int64))
