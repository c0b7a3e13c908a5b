"""Plain numpy reference of the Kernel SHAP coalition design (the test oracle).

Same signature and bit-identical output as
:func:`xai_fast.sampling.kernel_design_numba.kernel_design`.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._rng import stream_keys, uniforms


def kernel_design(M, nsamples, seed, weight_vector, num_full, num_paired, binoms, cdf):
    """Build the coalition design for ``M`` players.

    Parameters
    ----------
    M : int
        Number of players.
    nsamples : int
        Budget of coalitions (already capped at ``2**M - 2``).
    seed : numpy.uint64
        Key of the counter-based generator (see :mod:`xai_fast._rng`).
    weight_vector : ndarray of float64, shape (L,)
        Kernel mass of each subset size (paired sizes include their complements).
    num_full, num_paired : int
        Sizes ``1..num_full`` are enumerated; sizes ``<= num_paired`` come with complements.
    binoms : ndarray of float64, shape (L,)
        ``C(M, s)`` for ``s = 1..L``.
    cdf : ndarray of float64, shape (L - num_full,)
        Cumulative probabilities of the sampled sizes (one draw per pair).

    Returns
    -------
    Z : ndarray of bool, shape (S, M)
        Coalitions; ``True`` means the player takes the explained row's value.
    w : ndarray of float64, shape (S,)
        Kernel weights, summing to 1.
    """
    Zs, ws = [], []
    for s in range(1, num_full + 1):
        paired = s <= num_paired
        wgt = weight_vector[s - 1] / binoms[s - 1] / (2.0 if paired else 1.0)
        combos = np.array(list(itertools.combinations(range(M), s)), dtype=np.int64)
        block = np.zeros((len(combos), M), dtype=bool)
        block[np.arange(len(combos))[:, None], combos] = True
        if paired:  # each coalition followed by its complement
            block = np.stack([block, ~block], axis=1).reshape(-1, M)
        Zs.append(block)
        ws.append(np.full(len(block), wgt))
    n_enum = sum(len(b) for b in Zs)
    samples_left = nsamples - n_enum
    if num_full < len(weight_vector) and samples_left > 0:
        Zr, wr = _random_part(M, samples_left, seed, weight_vector, num_full, num_paired, cdf)
        Zs.append(Zr)
        ws.append(wr)
    if not Zs:
        return np.zeros((0, M), dtype=bool), np.zeros(0)
    return np.concatenate(Zs), np.concatenate(ws)


def _random_part(M, samples_left, seed, weight_vector, num_full, num_paired, cdf):
    masks, inv, is_new, paired, prev, processed = draws(
        M, samples_left, seed, num_full, num_paired, cdf
    )
    rows = np.arange(len(inv))

    # weight = how often the coalition was drawn (duplicates add up), as in shap
    mult = np.bincount(inv[processed], minlength=int(inv.max()) + 1).astype(np.float64)
    t_new = rows[processed & is_new]
    keep_comp = paired[t_new] & (prev[t_new] + 1 < samples_left)
    w_new = mult[inv[t_new]]
    n_out = len(t_new) + int(keep_comp.sum())
    pos = np.arange(len(t_new)) + np.cumsum(keep_comp) - keep_comp  # row of each original
    Z = np.zeros((n_out, M), dtype=bool)
    w = np.zeros(n_out)
    Z[pos] = masks[t_new]
    w[pos] = w_new
    Z[pos[keep_comp] + 1] = ~masks[t_new[keep_comp]]
    w[pos[keep_comp] + 1] = w_new[keep_comp]
    # sequential sums (cumsum) so every backend rounds identically
    w *= np.cumsum(weight_vector[num_full:])[-1] / np.cumsum(w)[-1]
    return Z, w


def draws(M, samples_left, seed, num_full, num_paired, cdf):
    """The proposals of the sampled part, and which of them the design keeps.

    Returns
    -------
    masks : ndarray of bool, shape (P, M)
        Proposal ``p``'s coalition (``P = 4 * samples_left``).
    inv : ndarray of int64, shape (P,)
        Index of the proposal's distinct coalition (numbered by first occurrence order of
        ``numpy.unique``, not by row).
    is_new : ndarray of bool, shape (P,)
        First proposal of its coalition.
    paired : ndarray of bool, shape (P,)
        Size at most ``num_paired`` (the complement comes along).
    prev : ndarray of int64, shape (P,)
        Design slots taken before the proposal.
    processed : ndarray of bool, shape (P,)
        Proposals drawn before the budget ran out (a prefix); each adds one to the weight of
        its coalition and of the complement row.
    """
    P = 4 * samples_left  # proposals, each a size draw and a partial shuffle
    L = len(cdf)
    smax = num_full + L
    keys = stream_keys(seed, np.arange(P, dtype=np.uint64))
    U = uniforms(keys[:, None], np.arange(smax + 1, dtype=np.uint64)[None, :])  # (P, smax+1)
    q = np.minimum(np.searchsorted(cdf, U[:, 0], side="right"), L - 1)
    size = q + num_full + 1

    rows = np.arange(P)
    perm = np.tile(np.arange(M), (P, 1))
    for j in range(smax):  # partial Fisher-Yates, vectorised over proposals
        a = rows[size > j]
        r = j + np.minimum((U[a, j + 1] * (M - j)).astype(np.int64), M - j - 1)
        tmp = perm[a, j].copy()
        perm[a, j] = perm[a, r]
        perm[a, r] = tmp
    masks = np.zeros((P, M), dtype=bool)
    masks[rows[:, None], perm] = np.arange(M)[None, :] < size[:, None]

    packed = np.ascontiguousarray(np.packbits(masks, axis=1))
    keyed = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inv = np.unique(keyed, return_index=True, return_inverse=True)
    inv = inv.ravel()
    is_new = first[inv] == rows
    paired = size <= num_paired
    slots = is_new * (1 + paired)
    prev = np.cumsum(slots) - slots
    processed = prev < samples_left  # a prefix: the loop stops once the budget is spent
    return masks, inv, is_new, paired, prev, processed
