"""Plain Python reference of the Owen walk kernels (the test oracle of the Numba ones).

The walk is shap's ``PartitionExplainer.owen``: a priority queue of tree nodes, each with the
coalition ``lo`` (its context without it), ``hi`` (with it) and a weight; popping an internal
node evaluates ``lo`` plus either child, and queues the children in both contexts. Here every
row of a call walks at once, one batch per step, so that a step's coalitions of all rows go to
the model together. Ties of priority are broken by the order of queueing (shap draws a random
number for them).

Shapes (``n`` rows, ``T`` trees, ``M`` leaves, ``k`` outputs, ``H`` heap slots, ``C`` coalition
slots, ``E`` pending slots):

- ``left, right`` (T, M - 1) int64, ``dist`` (T, M - 1) float64; ``order`` (T, M), ``start``
  and ``sizes`` (T, 2 M - 1) int64: node ``i`` covers leaves ``order[start[i]:start[i] +
  sizes[i]]`` (see :class:`~xai_fast.solvers.owen.Tree`); ``tree_ids`` (n,) int64.
- heap: ``hp`` (n, H) float64 priorities, ``hs`` (n, H) int64 sequence numbers, ``hn``, ``hl``,
  ``hh`` (n, H) int64 node and coalitions ``lo`` / ``hi``, ``hw`` (n, H) float64 weights;
  ``hlen`` (n,) int64 entries; ``seqc`` (n,) int64 next sequence number.
- coalitions: ``cz`` (n, C, M) bool, ``cv`` (n, C, k) float64 their values, ``nc`` (n,) int64.
- ``evals`` (n,) int64 coalitions evaluated, ``done`` (n,) bool, ``dvalues`` (n, 2 M - 1, k).
- pending expansions: ``pend`` (n, E, 4) int64 (node, lo, hi, first new coalition), ``pw``
  (n, E) float64 weights, ``npend`` (n,) int64.
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["owen_absorb", "owen_plan"]


def _heap(hp, hs, hn, hl, hh, hw, r, length):
    h = [(hp[r, j], hs[r, j], hn[r, j], hl[r, j], hh[r, j], hw[r, j]) for j in range(length)]
    heapq.heapify(h)
    return h


def _store(h, hp, hs, hn, hl, hh, hw, hlen, r):
    for j, entry in enumerate(h):
        hp[r, j], hs[r, j], hn[r, j], hl[r, j], hh[r, j], hw[r, j] = entry
    hlen[r] = len(h)


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
    """Pop every row's next batch of nodes and build the coalitions they need.

    A row whose budget ``max_evals`` is spent moves what is left in its queue onto the nodes
    (``dvalues[node] += (cv[hi] - cv[lo]) * w``) and is done. Otherwise nodes are popped until
    ``batch_size`` coalitions are planned or the budget is reached: a leaf (or a node with a
    negative distance) takes its value, an internal node plans ``cz[lo]`` plus the child's
    leaves for both children in slots ``nc, nc + 1``.
    """
    n = hlen.shape[0]
    M = order.shape[1]
    for r in range(n):
        npend[r] = 0
        if done[r]:
            continue
        t = tree_ids[r]
        if hlen[r] == 0:
            done[r] = True
            continue
        h = _heap(hp, hs, hn, hl, hh, hw, r, hlen[r])
        if evals[r] >= max_evals:
            while h:
                _, _, node, lo, hi, w = heapq.heappop(h)
                dvalues[r, node] += (cv[r, hi] - cv[r, lo]) * w
            done[r] = True
            _store(h, hp, hs, hn, hl, hh, hw, hlen, r)
            continue
        e = 0
        while h and 2 * e < batch_size and evals[r] + 2 * e < max_evals:
            _, _, node, lo, hi, w = heapq.heappop(h)
            if node < M or dist[t, node - M] < 0:
                dvalues[r, node] += (cv[r, hi] - cv[r, lo]) * w
                continue
            a, b = left[t, node - M], right[t, node - M]
            c = nc[r]
            cz[r, c] = cz[r, lo]
            cz[r, c, order[t, start[t, a] : start[t, a] + sizes[t, a]]] = True
            cz[r, c + 1] = cz[r, lo]
            cz[r, c + 1, order[t, start[t, b] : start[t, b] + sizes[t, b]]] = True
            nc[r] = c + 2
            pend[r, e] = (node, lo, hi, c)
            pw[r, e] = w
            e += 1
        npend[r] = e
        _store(h, hp, hs, hn, hl, hh, hw, hlen, r)
        if e == 0 and not h:
            done[r] = True


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
    """Take every row's evaluated batch.

    For each expansion of node ``node`` (coalitions ``lo``, ``hi``; its children's ``c``,
    ``c + 1`` just evaluated): with ``fixed_context`` 0 (1) the interaction
    ``f11 - f10 - f01 + f00`` is added to (taken from) the node and the children are queued in
    that context only, with the node's weight; with ``-1`` (shap's ``None``) both contexts are
    queued, each with half the weight. Priority: ``-max |f(hi) - f(lo)| * weight``.
    """
    n = hlen.shape[0]
    M = left.shape[1] + 1
    for r in range(n):
        if npend[r] == 0:
            continue
        evals[r] += 2 * npend[r]
        t = tree_ids[r]
        h = _heap(hp, hs, hn, hl, hh, hw, r, hlen[r])
        for e in range(npend[r]):
            node, lo, hi, c = (int(v) for v in pend[r, e])
            w = pw[r, e]
            a, b = left[t, node - M], right[t, node - M]
            f00, f11, f10, f01 = cv[r, lo], cv[r, hi], cv[r, c], cv[r, c + 1]
            nw = w / 2 if fixed_context < 0 else w
            if fixed_context == 0:
                dvalues[r, node] += (f11 - f10 - f01 + f00) * w
            elif fixed_context == 1:
                dvalues[r, node] -= (f11 - f10 - f01 + f00) * w
            children = []
            if fixed_context != 1:
                children += [(f10, f00, a, lo, c), (f01, f00, b, lo, c + 1)]
            if fixed_context != 0:
                children += [(f11, f01, a, c + 1, hi), (f11, f10, b, c, hi)]
            for top, bottom, child, clo, chi in children:
                prio = -np.max(np.abs(top - bottom)) * nw
                heapq.heappush(h, (prio, seqc[r], child, clo, chi, nw))
                seqc[r] += 1
        _store(h, hp, hs, hn, hl, hh, hw, hlen, r)
        npend[r] = 0
