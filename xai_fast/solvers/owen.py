"""Owen values on a binary feature hierarchy: the tree, its node masks, and credit lowering.

A hierarchy is a scipy linkage matrix ``(M - 1, 4)`` over ``M`` leaves: row ``i`` merges nodes
``left = Z[i, 0]`` and ``right = Z[i, 1]`` into node ``M + i``, at distance ``Z[i, 2]``
(negative: never split) with ``Z[i, 3]`` leaves. The root is node ``2 M - 2``.

:func:`lower_credit` turns the values the walk leaves on every node (``(n, 2 M - 1, k)``) into
leaf values: each internal node's value is shared among its two children in proportion to
their leaf counts, top-down (shap's recursion, one numpy step per tree level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Tree", "check_clustering", "lower_credit", "tree_of"]


@dataclass(frozen=True)
class Tree:
    """A checked hierarchy over ``M`` leaves.

    Attributes
    ----------
    M : int
    left, right : ndarray of int64, shape (M - 1,)
        Children of internal node ``M + i``.
    dist : ndarray of float64, shape (M - 1,)
        Merge distance; a node with a negative distance is not split.
    sizes : ndarray of int64, shape (2 M - 1,)
        Leaves under every node.
    levels : list of ndarray of int64
        Internal nodes by depth, the root's level first.
    order : ndarray of int64, shape (M,)
        The leaves in depth-first order: node ``i`` covers ``order[start[i]:start[i] + sizes[i]]``.
    start : ndarray of int64, shape (2 M - 1,)
    """

    M: int
    left: np.ndarray
    right: np.ndarray
    dist: np.ndarray
    sizes: np.ndarray
    levels: list
    order: np.ndarray
    start: np.ndarray

    def mask(self, node: int) -> np.ndarray:
        """The leaves under ``node``: ``(M,)`` bool."""
        out = np.zeros(self.M, dtype=bool)
        out[self.order[self.start[node] : self.start[node] + self.sizes[node]]] = True
        return out


def check_clustering(clustering, M: int | None = None) -> np.ndarray:
    """``clustering`` as a float64 linkage matrix ``(M - 1, 4)``; ValueError otherwise.

    Parameters
    ----------
    clustering : array-like, shape (M - 1, 4)
    M : int, optional
        The number of features the hierarchy must cover.
    """
    try:
        Z = np.array(clustering, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"clustering must be a numeric linkage matrix (M - 1, 4); got "
            f"{type(clustering).__name__}."
        ) from None
    if Z.ndim != 2 or Z.shape[1] < 4 or (M is not None and Z.shape[0] != M - 1):
        want = "(M - 1, 4)" if M is None else f"({M - 1}, 4) for {M} features"
        raise ValueError(f"clustering must be a linkage matrix of shape {want}; got {Z.shape}.")
    n_leaves = Z.shape[0] + 1
    kids = Z[:, :2]
    if not np.isfinite(Z[:, :4]).all() or (kids != np.round(kids)).any():
        raise ValueError("clustering's first two columns must be whole node numbers.")
    kids = kids.astype(np.int64)
    bad = (kids < 0) | (kids >= 2 * n_leaves - 1)
    own = n_leaves + np.arange(Z.shape[0])[:, None]
    counts = np.bincount(kids.ravel(), minlength=2 * n_leaves - 1)
    if bad.any() or (kids == own).any() or (counts[:-1] != 1).any() or counts[-1] != 0:
        raise ValueError(
            "clustering is not a binary tree: every node but the root (node 2 M - 2) must be "
            "the child of exactly one merge, as in scipy.cluster.hierarchy.linkage's output."
        )
    return Z[:, :4]


def tree_of(clustering, M: int | None = None) -> Tree:
    """The :class:`Tree` of a linkage matrix (checked with :func:`check_clustering`)."""
    Z = check_clustering(clustering, M)
    M = Z.shape[0] + 1
    left = Z[:, 0].astype(np.int64)
    right = Z[:, 1].astype(np.int64)
    levels = []
    frontier = np.array([2 * M - 2]) if M > 1 else np.zeros(0, dtype=np.int64)
    seen = 0
    while frontier.size:
        internal = frontier[frontier >= M]
        if internal.size == 0:
            break
        levels.append(internal)
        seen += internal.size
        if seen > M - 1:
            raise ValueError("clustering has a cycle; pass a tree (a linkage matrix).")
        frontier = np.concatenate([left[internal - M], right[internal - M]])
    if seen != M - 1:
        raise ValueError("clustering does not connect every feature to the root node 2 M - 2.")
    sizes = np.ones(2 * M - 1, dtype=np.int64)
    for nodes in reversed(levels):  # bottom-up: children are done before their parents
        sizes[nodes] = sizes[left[nodes - M]] + sizes[right[nodes - M]]
    start = np.zeros(2 * M - 1, dtype=np.int64)
    for nodes in levels:  # top-down: the left child's leaves first
        lo = left[nodes - M]
        start[lo] = start[nodes]
        start[right[nodes - M]] = start[nodes] + sizes[lo]
    order = np.empty(M, dtype=np.int64)
    order[start[:M]] = np.arange(M)
    return Tree(M, left, right, Z[:, 2].copy(), sizes, levels, order, start)


def lower_credit(dvalues: np.ndarray, tree: Tree) -> np.ndarray:
    """Leaf values from the values left on every node.

    Parameters
    ----------
    dvalues : ndarray of float64, shape (n, 2 M - 1, k)
        Value of every node of every row (leaves first).
    tree : Tree

    Returns
    -------
    ndarray of float64, shape (n, M, k)
        Each leaf's own value plus its share of every ancestor's, shares in proportion to
        leaf counts.
    """
    M = tree.M
    v = dvalues.copy()
    for nodes in tree.levels:  # top-down; each child has one parent, so no write collides
        size = tree.sizes[nodes][None, :, None]
        lo, ro = tree.left[nodes - M], tree.right[nodes - M]
        v[:, lo] += v[:, nodes] * tree.sizes[lo][None, :, None] / size
        v[:, ro] += v[:, nodes] * tree.sizes[ro][None, :, None] / size
    return v[:, :M]
