"""The Owen walk of many rows at once: shap's priority-queue walk, one batch per step.

Every row walks its own tree (see :mod:`.owen_walk_ref`), but the rows step together: each
step pops every row's next batch of ``batch_size`` coalitions, sends all of them to
``evaluate`` in one call (many rows' batches: large model calls), and queues the children.
The walk of each row is exactly shap's for the same ``batch_size``, budget and tree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["owen_walk", "walk_kernels"]

#: Most bytes of coalition masks held at once; larger calls walk their rows in chunks.
MAX_MASK_BYTES = 2**28


def walk_kernels(name: str = "numba"):
    """``(owen_plan, owen_absorb)`` of ``"numba"`` (compiled) or ``"numpy"`` (the reference)."""
    if name == "numpy":
        from . import owen_walk_ref as m
    elif name == "numba":
        from . import owen_walk_numba as m
    else:
        raise ValueError(f"kernels must be 'numba' or 'numpy'; got {name!r}.")
    return m.owen_plan, m.owen_absorb


def owen_walk(
    trees,
    tree_ids,
    f00,
    f11,
    evaluate,
    max_evals: int,
    batch_size: int,
    fixed_context=None,
    kernels: str = "numba",
    on_step=None,
):
    """Node values of every row's Owen walk.

    Parameters
    ----------
    trees : list of Tree
        ``T`` hierarchies over the same number ``M`` of leaves.
    tree_ids : ndarray of int, shape (n,)
        The tree of each row.
    f00, f11 : ndarray of float64, shape (n, k)
        Value of the empty and of the full coalition of each row.
    evaluate : callable
        ``evaluate(rows (P,), Z (P, M) bool) -> (P, k)``: the value of coalition ``Z[p]`` of row
        ``rows[p]``.
    max_evals : int
        Coalitions each row may evaluate (shap's ``max_evals - 2``); a batch of two can pass an
        odd budget by one, as shap's.
    batch_size : int
        Coalitions a row's step pops (shap's ``batch_size``: the walk depends on it).
    fixed_context : None, 0 or 1
    kernels : {"numba", "numpy"}
    on_step : callable, optional
        Called with the number of coalitions of each step.

    Returns
    -------
    dvalues : ndarray of float64, shape (n, 2 M - 1, k)
    evals : ndarray of int64, shape (n,)
        Coalitions each row evaluated (besides the empty and the full one).
    """
    n, k = f00.shape
    M = trees[0].M
    C = max_evals + 4
    step = max(1, min(n, MAX_MASK_BYTES // max(C * M, 1)))
    if step < n:  # rows are independent: walk them in chunks that fit
        parts = [
            owen_walk(
                trees,
                tree_ids[s : s + step],
                f00[s : s + step],
                f11[s : s + step],
                _offset(evaluate, s),
                max_evals,
                batch_size,
                fixed_context,
                kernels,
                on_step,
            )
            for s in range(0, n, step)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    plan, absorb = walk_kernels(kernels)
    left = np.stack([t.left for t in trees])
    right = np.stack([t.right for t in trees])
    dist = np.stack([t.dist for t in trees])
    order = np.stack([t.order for t in trees])
    start = np.stack([t.start for t in trees])
    sizes = np.stack([t.sizes for t in trees])
    tree_ids = np.ascontiguousarray(tree_ids, dtype=np.int64)
    H = 2 * max_evals + 8
    E = max(1, min(batch_size, max_evals) // 2 + 2)
    hp, hw = np.zeros((n, H)), np.zeros((n, H))
    hs, hn, hl, hh = (np.zeros((n, H), dtype=np.int64) for _ in range(4))
    hn[:, 0], hl[:, 0], hh[:, 0], hw[:, 0] = 2 * M - 2, 0, 1, 1.0  # the root, weight 1
    hlen = np.ones(n, dtype=np.int64)
    seqc = np.ones(n, dtype=np.int64)
    cz = np.zeros((n, C, M), dtype=bool)
    cz[:, 1] = True
    cv = np.zeros((n, C, k))
    cv[:, 0], cv[:, 1] = f00, f11
    nc = np.full(n, 2, dtype=np.int64)
    evals = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    dvalues = np.zeros((n, 2 * M - 1, k))
    pend = np.zeros((n, E, 4), dtype=np.int64)
    pw = np.zeros((n, E))
    npend = np.zeros(n, dtype=np.int64)
    ctx = -1 if fixed_context is None else int(fixed_context)
    tree = (left, right, dist, order, start, sizes, tree_ids)  # the kernels' argument groups
    heap = (hp, hs, hn, hl, hh, hw, hlen)
    while True:
        plan(*tree, *heap, cz, cv, nc, evals, done, dvalues, pend, pw, npend, max_evals, batch_size)
        rows, e = np.nonzero(np.arange(E)[None, :] < npend[:, None])  # (P/2,) each
        if rows.size == 0:
            break
        first = pend[rows, e, 3]
        prow = np.repeat(rows, 2)
        pcoal = np.stack([first, first + 1], axis=1).ravel()
        cv[prow, pcoal] = evaluate(prow, cz[prow, pcoal])
        if on_step is not None:
            on_step(prow.size)
        absorb(left, right, tree_ids, *heap, seqc, cv, evals, dvalues, pend, pw, npend, ctx)
    return dvalues, evals


def _offset(evaluate, start: int):
    """``evaluate`` for a chunk of rows starting at row ``start``."""
    return lambda rows, Z: evaluate(rows + start, Z)
