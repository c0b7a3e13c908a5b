"""Numba kernels of the Owen walk: one step of every row's priority-queue walk at once.

Same signatures and results as :mod:`xai_fast.sampling.owen_walk_ref` (see there for shapes).
Each row keeps a binary min-heap of pending tree nodes keyed by ``(priority, sequence)``;
the keys are unique, so any correct heap pops them in the same order.
"""

from __future__ import annotations

import numba as nb

__all__ = ["owen_absorb", "owen_plan"]


@nb.njit(cache=True, inline="always")
def _less(hp, hs, a, b):
    return hp[a] < hp[b] or (hp[a] == hp[b] and hs[a] < hs[b])


@nb.njit(cache=True)
def _swap(hp, hs, hn, hl, hh, hw, a, b):
    hp[a], hp[b] = hp[b], hp[a]
    hs[a], hs[b] = hs[b], hs[a]
    hn[a], hn[b] = hn[b], hn[a]
    hl[a], hl[b] = hl[b], hl[a]
    hh[a], hh[b] = hh[b], hh[a]
    hw[a], hw[b] = hw[b], hw[a]


@nb.njit(cache=True)
def _push(hp, hs, hn, hl, hh, hw, length, prio, seq, node, lo, hi, w):
    i = length
    hp[i], hs[i], hn[i], hl[i], hh[i], hw[i] = prio, seq, node, lo, hi, w
    while i > 0:
        parent = (i - 1) // 2
        if _less(hp, hs, i, parent):
            _swap(hp, hs, hn, hl, hh, hw, i, parent)
            i = parent
        else:
            break
    return length + 1


@nb.njit(cache=True)
def _pop(hp, hs, hn, hl, hh, hw, length):
    """Remove the smallest entry (moved to slot ``length - 1``); the new length."""
    last = length - 1
    _swap(hp, hs, hn, hl, hh, hw, 0, last)
    i = 0
    while True:
        a, b, best = 2 * i + 1, 2 * i + 2, i
        if a < last and _less(hp, hs, a, best):
            best = a
        if b < last and _less(hp, hs, b, best):
            best = b
        if best == i:
            break
        _swap(hp, hs, hn, hl, hh, hw, i, best)
        i = best
    return last


@nb.njit(cache=True)
def owen_plan(
    left,
    right,
    dist,
    order,
    start,
    sizes,
    tree_ids,
    hp,
    hs,
    hn,
    hl,
    hh,
    hw,
    hlen,
    cz,
    cv,
    nc,
    evals,
    done,
    dvalues,
    pend,
    pw,
    npend,
    max_evals,
    batch_size,
):
    """Pop every row's next batch of nodes and build the coalitions they need."""
    n = hlen.shape[0]
    M = order.shape[1]
    k = cv.shape[2]
    for r in range(n):
        npend[r] = 0
        if done[r]:
            continue
        t = tree_ids[r]
        if hlen[r] == 0:
            done[r] = True
            continue
        if evals[r] >= max_evals:  # budget spent: what is left stays on the nodes
            while hlen[r] > 0:
                hlen[r] = _pop(hp[r], hs[r], hn[r], hl[r], hh[r], hw[r], hlen[r])
                j = hlen[r]
                node, lo, hi, w = hn[r, j], hl[r, j], hh[r, j], hw[r, j]
                for q in range(k):
                    dvalues[r, node, q] += (cv[r, hi, q] - cv[r, lo, q]) * w
            done[r] = True
            continue
        e = 0
        while hlen[r] > 0 and 2 * e < batch_size and evals[r] + 2 * e < max_evals:
            hlen[r] = _pop(hp[r], hs[r], hn[r], hl[r], hh[r], hw[r], hlen[r])
            j = hlen[r]
            node, lo, hi, w = hn[r, j], hl[r, j], hh[r, j], hw[r, j]
            if node < M or dist[t, node - M] < 0:  # a leaf, or a group never split
                for q in range(k):
                    dvalues[r, node, q] += (cv[r, hi, q] - cv[r, lo, q]) * w
                continue
            a, b = left[t, node - M], right[t, node - M]
            c = nc[r]
            for f in range(M):
                cz[r, c, f] = cz[r, lo, f]
                cz[r, c + 1, f] = cz[r, lo, f]
            for j in range(start[t, a], start[t, a] + sizes[t, a]):
                cz[r, c, order[t, j]] = True
            for j in range(start[t, b], start[t, b] + sizes[t, b]):
                cz[r, c + 1, order[t, j]] = True
            nc[r] = c + 2
            pend[r, e, 0], pend[r, e, 1], pend[r, e, 2], pend[r, e, 3] = node, lo, hi, c
            pw[r, e] = w
            e += 1
        npend[r] = e
        if e == 0 and hlen[r] == 0:
            done[r] = True


@nb.njit(cache=True)
def _gap(cv, r, x, y):
    """``max |cv[r, x] - cv[r, y]|`` over the outputs."""
    m = 0.0
    for q in range(cv.shape[2]):
        v = abs(cv[r, x, q] - cv[r, y, q])
        if v > m:
            m = v
    return m


@nb.njit(cache=True)
def owen_absorb(
    left,
    right,
    tree_ids,
    hp,
    hs,
    hn,
    hl,
    hh,
    hw,
    hlen,
    seqc,
    cv,
    evals,
    dvalues,
    pend,
    pw,
    npend,
    fixed_context,
):
    """Take every row's evaluated batch: interaction terms and the children to visit."""
    n = hlen.shape[0]
    M = left.shape[1] + 1
    k = cv.shape[2]
    for r in range(n):
        if npend[r] == 0:
            continue
        evals[r] += 2 * npend[r]
        t = tree_ids[r]
        for e in range(npend[r]):
            node, lo, hi, c = pend[r, e, 0], pend[r, e, 1], pend[r, e, 2], pend[r, e, 3]
            w = pw[r, e]
            a, b = left[t, node - M], right[t, node - M]
            nw = w / 2 if fixed_context < 0 else w
            if fixed_context == 0:
                for q in range(k):
                    f00, f11, f10, f01 = cv[r, lo, q], cv[r, hi, q], cv[r, c, q], cv[r, c + 1, q]
                    dvalues[r, node, q] += (f11 - f10 - f01 + f00) * w
            elif fixed_context == 1:
                for q in range(k):
                    f00, f11, f10, f01 = cv[r, lo, q], cv[r, hi, q], cv[r, c, q], cv[r, c + 1, q]
                    dvalues[r, node, q] -= (f11 - f10 - f01 + f00) * w
            p_, s_, n_, l_, h_, w_ = hp[r], hs[r], hn[r], hl[r], hh[r], hw[r]
            if fixed_context != 1:
                p = -_gap(cv, r, c, lo) * nw
                hlen[r] = _push(p_, s_, n_, l_, h_, w_, hlen[r], p, seqc[r], a, lo, c, nw)
                p = -_gap(cv, r, c + 1, lo) * nw
                hlen[r] = _push(p_, s_, n_, l_, h_, w_, hlen[r], p, seqc[r] + 1, b, lo, c + 1, nw)
                seqc[r] += 2
            if fixed_context != 0:
                p = -_gap(cv, r, hi, c + 1) * nw
                hlen[r] = _push(p_, s_, n_, l_, h_, w_, hlen[r], p, seqc[r], a, c + 1, hi, nw)
                p = -_gap(cv, r, hi, c) * nw
                hlen[r] = _push(p_, s_, n_, l_, h_, w_, hlen[r], p, seqc[r] + 1, b, c, hi, nw)
                seqc[r] += 2
        npend[r] = 0
