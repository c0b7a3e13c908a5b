"""Every coalition of a hierarchy's exact Owen values: shap's ``partition_masks``, vectorised.

The exact values on a binary hierarchy are shap's recursion: a node with context ``m00`` (the
features outside it that are present) and values ``f(m00)``, ``f(m00 + node)`` passes to each
child two contexts, the sibling absent and the sibling present, with equal weight. A leaf at
depth ``d`` is reached in ``2**d`` contexts; its value is the mean of ``f(on) - f(off)`` over
them. The recursion runs one numpy step per tree level for many trees at once and gives the
coalitions to evaluate and the sparse map from their values to the leaves' values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["partition_coalition_count", "partition_contexts"]


def partition_coalition_count(tree) -> int:
    """Coalitions of a tree's exact Owen values: ``2 + 2 * sum(2**depth)`` over internal nodes."""
    return 2 + 2 * sum(len(nodes) * 2**d for d, nodes in enumerate(tree.levels))


def partition_contexts(trees):
    """The coalitions of the exact Owen values of trees over ``M`` leaves, and their weights.

    Parameters
    ----------
    trees : list of Tree
        ``T`` hierarchies over the same number ``M`` of leaves.

    Returns
    -------
    tree_of : ndarray of int64, shape (K,)
        The tree each coalition belongs to.
    masks : ndarray of bool, shape (K, M)
        The coalitions (the empty and full ones of tree ``t`` are rows ``2 t`` and ``2 t + 1``).
    weights : scipy.sparse.csr_matrix, shape (T * M, K)
        ``weights @ v`` (``v`` ``(K, k)``, the coalitions' values) gives leaf ``j`` of tree
        ``t`` at row ``t * M + j``.
    """
    import scipy.sparse

    T, M = len(trees), trees[0].M
    left = np.stack([t.left for t in trees])  # (T, M - 1)
    right = np.stack([t.right for t in trees])
    under = np.zeros((T, 2 * M - 1, M), dtype=bool)  # the leaves under every node
    for t, tree in enumerate(trees):
        node = np.repeat(np.arange(2 * M - 1), tree.sizes)
        under[t, node, tree.order[_ranges(tree.start, tree.sizes)]] = True
    tt = np.arange(T)
    masks = [np.zeros((T, M), dtype=bool), np.ones((T, M), dtype=bool)]
    owner = [tt, tt]
    # one item per (tree, node, context): the context's mask, its off and on coalitions
    it, node = tt, np.full(T, 2 * M - 2)
    ctx, off, on = masks[0], 2 * tt, 2 * tt + 1
    masks = [np.stack(masks, axis=1).reshape(2 * T, M)]
    owner = [np.stack(owner, axis=1).ravel()]
    K, depth = 2 * T, 0
    rows, cols, vals = [], [], []
    while len(it):
        leaf = node < M
        w = 0.5**depth
        rows += [it[leaf] * M + node[leaf]] * 2
        cols += [on[leaf], off[leaf]]
        vals += [np.full(leaf.sum(), w), np.full(leaf.sum(), -w)]
        it, node, ctx, off, on = (a[~leaf] for a in (it, node, ctx, off, on))
        n = len(it)
        lo, ro = left[it, node - M], right[it, node - M]
        m10 = ctx | under[it, lo]  # left child present
        m01 = ctx | under[it, ro]  # right child present
        i01, i10 = K + np.arange(n), K + n + np.arange(n)
        masks += [m01, m10]
        owner += [it, it]
        K += 2 * n
        it = np.tile(it, 4)
        node = np.concatenate([lo, ro, lo, ro])
        ctx = np.concatenate([ctx, m10, m01, ctx])
        off, on = np.concatenate([off, i10, i01, off]), np.concatenate([i10, on, on, i01])
        depth += 1
    weights = scipy.sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(T * M, K)
    )
    return np.concatenate(owner), np.concatenate(masks), weights


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lengths)])`` without a loop."""
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + np.arange(total) - offsets
