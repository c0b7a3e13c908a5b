"""shap's exact values through a Partition, Image or Text masker: Owen values on the hierarchy.

Composition only: the masker binds the rows -> every coalition of each hierarchy's exact Owen
values (:func:`~xai_fast.sampling.partition_contexts.partition_contexts`, shap's
``partition_masks``) for every row, in large deduplicated model calls -> the sparse map from
coalition values to leaf values. shap computes these for a masker with a clustering array
(tables, images); for text, whose hierarchy is a function of each string, shap's explainer
fails, and this is the same computation on each string's own hierarchy.
"""

from __future__ import annotations

import numpy as np

from ..masking.partition_masker import Partition
from ..sampling.partition_contexts import partition_coalition_count, partition_contexts
from ._masker_common import MAX_MASK_VALUES, MaskedModel, output_columns

__all__ = ["MaskerExact"]


class MaskerExact:
    """The masker path of :class:`~xai_fast.ExactExplainer`.

    Parameters
    ----------
    model, masker, link, feature_names, output_names
        As the explainer's.
    max_evals : int
        Most model evaluations per row: coalitions, times the background rows of a table.
    """

    def __init__(self, model, masker, link, feature_names, output_names, max_evals):
        self.bound = MaskedModel(model, masker, link, feature_names, output_names, "ExactExplainer")
        self.max_evals = max_evals

    def __call__(self, X, interactions=False, silent=False):
        """Owen values of ``X``, as :class:`~xai_fast.PartitionExplainer` returns them."""
        if interactions:
            raise ValueError(
                "interaction values need background rows without a hierarchy; pass the rows "
                "(or masker.data) to ExactExplainer for shap_interaction_values."
            )
        bound = self.bound
        X, was_1d = bound.inputs(X)
        rows = bound.bind(X)
        N = len(bound.masker.data) if isinstance(bound.masker, Partition) else 1
        for _, trees, _ in rows.groups:
            need = max(partition_coalition_count(t) for t in trees) * N
            if need > self.max_evals:
                raise ValueError(
                    f"exact Owen values on this hierarchy of {trees[0].M} features need {need:,} "
                    f"model evaluations per row; max_evals={self.max_evals:,}. Raise max_evals, "
                    "or use PartitionExplainer (a budget) or PermutationExplainer."
                )
        n = len(X)
        phi, base = [None] * n, [None] * n
        with bound.model.evaluating():
            for g_rows, trees, tids in rows.groups:
                if len(trees) == 1:  # one hierarchy for every row (tables, images)
                    self._shared(rows, g_rows, trees[0], phi, base)
                else:  # each row its own (texts)
                    self._own(rows, g_rows, [trees[t] for t in tids], phi, base)
        base = np.array(base)
        idx = output_columns(None, base, rows.vector_out)
        return bound.explanation(X, was_1d, phi, base, idx, rows, None)

    def _shared(self, rows, g_rows, tree, phi, base):
        _, masks, W = partition_contexts([tree])  # (K, M), (M, K); row 0: the empty coalition
        K, M = masks.shape
        step = max(1, MAX_MASK_VALUES // (K * M))
        for s in range(0, len(g_rows), step):
            r = g_rows[s : s + step]
            v = self.bound.linked(rows.evaluate(np.repeat(r, K), np.tile(masks, (len(r), 1))))
            v = v.reshape(len(r), K, -1)  # (n_c, K, k)
            k = v.shape[2]
            vals = (W @ v.transpose(1, 0, 2).reshape(K, -1)).reshape(M, len(r), k)
            for j, i in enumerate(r):
                phi[i], base[i] = vals[:, j], v[j, 0]

    def _own(self, rows, g_rows, trees, phi, base):
        M = trees[0].M
        sizes = np.array([partition_coalition_count(t) for t in trees])
        s = 0
        while s < len(g_rows):  # chunks of rows whose masks fit
            e = s + max(1, int(np.searchsorted(np.cumsum(sizes[s:]) * M, MAX_MASK_VALUES)))
            owner, masks, W = partition_contexts(trees[s:e])
            v = self.bound.linked(rows.evaluate(g_rows[s:e][owner], masks))  # (K, k)
            vals = np.asarray(W @ v).reshape(e - s, M, -1)
            for j, i in enumerate(g_rows[s:e]):  # row 2 j: tree j's empty coalition
                phi[i], base[i] = vals[j], v[2 * j]
            s = e
