"""Equal coalitions of one design are evaluated once.

A tensor masker's perturbed row for an example and a coalition is ``where(z, x, b)``: equal
coalitions give equal rows. Designs repeat coalitions: every permutation of
``ShapleyValueSampling`` starts from the empty coalition and ends at the full one, and its
short and long prefixes recur across permutations (16 features, 25 permutations: 401
coalitions, about 347 distinct). Evaluating the distinct ones and copying each value to its
repeats gives the same values for a model whose output for a row depends on that row alone
(``ModelAdapter(model, dedup_rows=False)`` sends every coalition).
"""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_coalitions"]


def distinct_coalitions(Z: np.ndarray):
    """The distinct coalitions of ``Z`` ``(S, M)`` bool, in order of first appearance.

    Returns
    -------
    tuple of (ndarray of int, shape (U,), ndarray of int, shape (S,)) or None
        ``first``: the index of each distinct coalition's first appearance, increasing;
        ``inverse``: for each coalition, the position of its own in ``first``, so that
        ``Z[first][inverse] == Z``. ``None`` when no coalition repeats.
    """
    Z = np.asarray(Z, dtype=bool)
    if Z.shape[0] < 2:
        return None
    packed = np.ascontiguousarray(np.packbits(Z, axis=1))
    key = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if len(first) == Z.shape[0]:
        return None
    order = np.argsort(first)  # distinct coalitions in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]
