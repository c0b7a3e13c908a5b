"""Feature orders that respect a hierarchy: shap's partition-tree shuffle, for many rows at once.

shap's ``PermutationExplainer`` orders the features of a row with a hierarchy (a Partition,
Image or Text masker) by walking the tree from the root and, at every internal node, listing
one child's leaves before the other's: node ``i`` (row ``i`` of the linkage matrix) lists its
left child first when a standard normal draw ``z[i]`` is negative. Each order draws ``M - 1``
normals, one per internal node in the node's row order (``numpy.random.randn(M - 1)``, shap's
``partition_tree_shuffle``), so every group of the hierarchy is contiguous in every order.

:func:`tree_orders` turns the draws of many orders of many trees into the orders, one numpy
step per tree level; :func:`shap_tree_switches` draws them as shap does, row after row.
"""

from __future__ import annotations

import numpy as np

__all__ = ["shap_tree_switches", "tree_orders"]


def shap_tree_switches(rs: np.random.RandomState, sizes: np.ndarray, npermutations: np.ndarray):
    """The switches of shap's tree shuffles of rows with ``sizes`` leaves, drawn in turn.

    Parameters
    ----------
    rs : numpy.random.RandomState
        Advanced as shap's global generator is: ``M - 1`` normals per order, row after row.
    sizes : ndarray of int, shape (n,)
        Leaves ``M`` of each row's tree.
    npermutations : ndarray of int, shape (n,)
        Orders of each row (0 for a row without varying features: it draws nothing).

    Returns
    -------
    list of ndarray of bool, shape (P_r, M_r - 1)
        ``True``: the node lists its left child first.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = np.asarray(npermutations, dtype=np.int64) * np.maximum(sizes - 1, 0)
    z = rs.standard_normal(int(counts.sum())) < 0  # one stream: shap's draws in order
    parts = np.split(z, np.cumsum(counts)[:-1])
    return [p.reshape(int(P), max(int(M) - 1, 0)) for p, P, M in zip(parts, npermutations, sizes,
                                                                     strict=True)]  # fmt: skip


def tree_orders(trees, switches: np.ndarray) -> np.ndarray:
    """The leaf orders the switches give, for trees over the same number of leaves.

    Parameters
    ----------
    trees : list of Tree
        ``T`` hierarchies over ``M`` leaves (:class:`~xai_fast.solvers.owen.Tree`).
    switches : ndarray of bool, shape (T, P, M - 1)
        ``switches[t, p, i]``: in order ``p`` of tree ``t`` node ``M + i`` lists its left child
        first.

    Returns
    -------
    ndarray of int64, shape (T, P, M)
        The leaves of every order, first to last.
    """
    T, P = switches.shape[:2]
    M = trees[0].M
    if M == 1:
        return np.zeros((T, P, 1), dtype=np.int64)
    left = np.stack([t.left for t in trees])  # (T, M - 1)
    right = np.stack([t.right for t in trees])
    sizes = np.stack([t.sizes for t in trees])  # (T, 2 M - 1)
    depth = np.full((T, M - 1), -1, dtype=np.int64)  # each internal node's level
    for t, tree in enumerate(trees):  # a tree's levels are a few index arrays
        for d, nodes in enumerate(tree.levels):
            depth[t, nodes - M] = d
    start = np.zeros((T, P, 2 * M - 1), dtype=np.int64)  # first position of every node's leaves
    pp = np.arange(P)[None, :]
    for d in range(int(depth.max()) + 1):  # top-down: a parent's start is set before its kids'
        tt, ii = np.nonzero(depth == d)
        sw = switches[tt, :, ii]  # (n_d, P)
        lo, ro = left[tt, ii][:, None], right[tt, ii][:, None]
        first, second = np.where(sw, lo, ro), np.where(sw, ro, lo)
        at = start[tt[:, None], pp, (M + ii)[:, None]]
        start[tt[:, None], pp, first] = at
        start[tt[:, None], pp, second] = at + sizes[tt[:, None], first]
    return np.argsort(start[:, :, :M], axis=2, kind="stable")
