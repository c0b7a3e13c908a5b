"""shap's permutation values through a Partition, Image or Text masker, for many rows at once.

Composition only: the masker binds the rows -> each row's orders of its varying features, shap's
partition-tree shuffle of the row's hierarchy from the explainer's generator
(:mod:`~xai_fast.sampling.tree_orders`) -> the chain coalitions of every order of every row in
large deduplicated model calls -> marginal contributions forward and back, averaged
(:func:`~xai_fast.solvers.permutation_walks.walk_values`). shap walks one row and one order per
model call.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_flag, check_positive_int
from ..sampling.permutations import chain_coalitions
from ..sampling.tree_orders import shap_tree_switches, tree_orders
from ..solvers.permutation_walks import walk_values
from ._masker_common import MAX_MASK_VALUES, MaskedModel, output_columns

__all__ = ["MaskerPermutation"]


class MaskerPermutation:
    """The masker path of :class:`~xai_fast.PermutationExplainer`.

    Parameters
    ----------
    model, masker, link, feature_names, output_names
        As the explainer's (``link`` already ``"identity"`` or ``"logit"``).
    rs : numpy.random.RandomState
        The explainer's generator (shap's global one, seeded with ``seed``).
    """

    def __init__(self, model, masker, link, feature_names, output_names, rs):
        self.bound = MaskedModel(
            model, masker, link, feature_names, output_names, "PermutationExplainer"
        )
        self.rs = rs

    def __call__(self, X, o):
        """Explain ``X`` with the call options ``o`` (``max_evals``, ``main_effects``,
        ``error_bounds``, ``batch_size``, ``outputs``, ``silent``)."""
        for flag in ("main_effects", "error_bounds", "silent"):
            check_flag(o[flag], flag)
        if not (isinstance(o["batch_size"], str) and o["batch_size"] == "auto"):
            check_positive_int(o["batch_size"], "batch_size")  # values never depend on it
        bound = self.bound
        X, was_1d = bound.inputs(X)
        rows = bound.bind(X)
        n = len(X)
        tree = [None] * n
        for g_rows, trees, tids in rows.groups:
            for r, t in zip(g_rows, tids, strict=True):
                tree[r] = trees[t]
        vary = bound.varying(rows, X)
        M = np.array([t.M for t in tree])
        Mv = np.array([v.sum() for v in vary])
        P = self._npermutations(o["max_evals"], M, Mv)
        switches = shap_tree_switches(self.rs, M, np.where(Mv > 0, P, 0))
        with bound.model.evaluating():
            v00, v11 = bound.ends(rows)
            k = v00.shape[1]
            phi = [np.zeros((m, k)) for m in M]
            std = [np.zeros((m, k)) for m in M]
            for key in sorted(set(zip(M, Mv, P, strict=True))):
                g = np.nonzero((M == key[0]) & (Mv == key[1]) & (P == key[2]))[0]
                if key[1] == 0:
                    continue
                step = max(1, MAX_MASK_VALUES // max(1, key[2] * (2 * key[1] - 2) * key[0]))
                for s in range(0, len(g), step):  # chunks of rows bound the masks
                    self._walks(rows, g[s : s + step], tree, vary, switches, v00, v11, phi, std)
            main = self._main_effects(rows, vary, v00, M, k) if o["main_effects"] else None
        idx = output_columns(o["outputs"], v11, rows.vector_out)
        pick = lambda a: [a[r][:, idx[r]] for r in range(n)]  # noqa: E731
        extra = {}
        if o["error_bounds"]:
            extra["error_std"] = pick(std)
        if main is not None:
            extra["main_effects"] = pick(main)
        base = np.take_along_axis(v00, idx, axis=1)
        return bound.explanation(X, was_1d, pick(phi), base, idx, rows, o["outputs"], None, extra)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _npermutations(max_evals, M, Mv) -> np.ndarray:
        """Orders per row: ``max_evals // (2 Mv + 1)`` (``"auto"``: ``max_evals = 20 M``)."""
        if isinstance(max_evals, str) and max_evals == "auto":
            budget = 20 * M
        else:
            budget = np.full(len(M), check_positive_int(max_evals, "max_evals"))
        P = budget // (2 * Mv + 1)
        low = (Mv > 0) & (P == 0)
        if low.any():
            need = int(2 * Mv[low].max() + 1)
            raise ValueError(
                f"max_evals={max_evals} is too low for the Permutation explainer: it must be at "
                f"least 2 * (varying features) + 1 = {need}."
            )
        return P

    def _walks(self, rows, g, tree, vary, switches, v00, v11, phi, std):
        """Values of rows ``g``, which share ``M`` features, ``Mv`` varying, ``P`` orders."""
        M, P = tree[g[0]].M, len(switches[g[0]])
        vg = np.stack([vary[r] for r in g])  # (n_g, M)
        Mv = int(vg[0].sum())
        orders = tree_orders([tree[r] for r in g], np.stack([switches[r] for r in g]))
        keep = np.take_along_axis(np.repeat(vg[:, None, :], P, axis=1), orders, axis=2)
        perm = orders[keep].reshape(len(g) * P, Mv)  # the varying features in shap's orders
        C = chain_coalitions(Mv)  # (2 Mv - 2, Mv), in the orders' positions
        nP = len(perm)
        v = np.zeros((nP, len(C), v00.shape[1]))
        if len(C):
            Z = np.zeros((nP, len(C), M), dtype=bool)
            Z[np.arange(nP)[:, None, None], np.arange(len(C))[None, :, None], perm[:, None, :]] = C
            inst = np.repeat(g, P)
            out = rows.evaluate(np.repeat(inst, len(C)), Z.reshape(-1, M))
            v = self.bound.linked(out).reshape(nP, len(C), -1) - v00[inst][:, None, :]
        total = np.repeat(v11[g] - v00[g], P, axis=0)
        mean, sd = walk_values(v, total, perm, len(g))
        for j, r in enumerate(g):
            at = np.nonzero(vary[r])[0]
            phi[r][at], std[r][at] = mean[j], sd[j]

    def _main_effects(self, rows, vary, v00, M, k):
        """Each varying feature alone, minus the empty coalition: ``(M_r, k)`` per row."""
        out = [np.zeros((m, k)) for m in M]
        for m in np.unique(M):
            g = np.nonzero(M == m)[0]
            r = np.repeat(g, m)
            Z = np.tile(np.eye(m, dtype=bool), (len(g), 1))
            v = (self.bound.linked(rows.evaluate(r, Z)) - v00[r]).reshape(len(g), m, -1)
            for j, i in enumerate(g):
                out[i] = np.where(vary[i][:, None], v[j], 0.0)
        return out
