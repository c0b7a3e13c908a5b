"""Kernel SHAP through an Image or Text masker: the players are the pixels or the tokens.

Composition only: the masker binds the rows -> each row's varying features (an image's
elements that differ from what hides them, a text's maskable tokens) -> shap's Kernel SHAP
design for every group of rows with as many -> the coalitions of all rows of a group in large
deduplicated model calls -> one efficiency-constrained weighted least squares per design,
solved for all rows and outputs at once. The hierarchy of the masker plays no part: these are
Shapley values, not Owen values.
"""

from __future__ import annotations

import numpy as np

from .._rng import normalize_seed, shap_seed
from .._validation import check_flag, check_link, check_nsamples
from ..backends import get_backend
from ..masking.image_masker import Image
from ..masking.partition_masker import Partition
from ..sampling import shap_design
from ..sampling.plan import plan_design
from ..solvers.constrained_wls import solve_constrained_wls
from ._masker_common import MAX_MASK_VALUES, MaskedModel, output_columns

__all__ = ["MaskerKernel"]


class MaskerKernel:
    """The masker path of :class:`~xai_fast.KernelExplainer`.

    Parameters
    ----------
    model, masker, link, output_names
        As the explainer's; ``masker`` an Image or Text masker (ours or shap's).
    seed : int, numpy Generator or None
        The design's seed, as the explainer's.
    backend : str
        Kernels of the design and the regression.
    """

    def __init__(self, model, masker, link, output_names, seed, backend):
        if isinstance(masker, Partition) or type(masker).__name__ == "Partition":
            raise TypeError(
                "KernelExplainer takes a table's background rows: pass masker.data (Kernel "
                "SHAP has no use for the hierarchy), or give the Partition masker to "
                "ExactExplainer, PermutationExplainer or PartitionExplainer."
            )
        self.bound = MaskedModel(
            model, masker, check_link(link), None, output_names, "KernelExplainer"
        )
        normalize_seed(0 if seed is None else seed)  # validate the type now
        self.seed = seed
        self.backend = get_backend("numba" if backend == "auto" else backend)

    def __call__(self, X, nsamples="auto", silent=False):
        """Kernel SHAP values of ``X``, in the shapes :class:`~xai_fast.PartitionExplainer`
        returns."""
        nsamples = check_nsamples(nsamples)
        check_flag(silent, "silent")
        bound = self.bound
        X, was_1d = bound.inputs(X)
        rows = bound.bind(X)
        vary = bound.varying(rows, X)
        if isinstance(bound.masker, Image):  # an element equal to its mask value is a dummy
            vary = list(~rows.fixed)
        M = np.array([len(v) for v in vary])
        Mv = np.array([v.sum() for v in vary])
        seed = shap_seed(self.seed)
        with bound.model.evaluating():
            v00, v11 = bound.ends(rows)
            phi = [np.zeros((m, v00.shape[1])) for m in M]
            for m, mv in sorted(set(zip(M, Mv, strict=True))):
                g = np.nonzero((M == m) & (Mv == mv))[0]
                if mv == 1:
                    for r in g:
                        phi[r][vary[r]] = v11[r] - v00[r]
                elif mv >= 2:
                    self._group(rows, g, vary, int(mv), nsamples, seed, v00, v11, phi)
        idx = output_columns(None, v11, rows.vector_out)
        return bound.explanation(X, was_1d, phi, v00, idx, rows, None)

    def _group(self, rows, g, vary, Mv, nsamples, seed, v00, v11, phi):
        """Rows ``g`` with ``Mv`` varying features share one design."""
        S = plan_design(Mv, nsamples).nsamples
        if S < Mv and S < 2**Mv - 2:
            raise ValueError(
                f"nsamples={S} is too small for {Mv} varying features: the regression needs at "
                f"least {Mv} coalitions. Use nsamples='auto' or at least {Mv}."
            )
        Zd, w, _ = shap_design(self.backend, Mv, nsamples, seed)  # (S, Mv), (S,)
        S, M = len(Zd), len(vary[g[0]])
        step = max(1, MAX_MASK_VALUES // (S * M))
        for s in range(0, len(g), step):
            r = g[s : s + step]
            at = np.stack([np.nonzero(vary[i])[0] for i in r])  # (n_c, Mv)
            Z = np.zeros((len(r), S, M), dtype=bool)
            Z[np.arange(len(r))[:, None, None], np.arange(S)[None, :, None], at[:, None, :]] = Zd
            out = self.bound.linked(rows.evaluate(np.repeat(r, S), Z.reshape(-1, M)))
            k = out.shape[1]
            Y = (out.reshape(len(r), S, k) - v00[r][:, None, :]).transpose(1, 0, 2).reshape(S, -1)
            tot = (v11[r] - v00[r]).reshape(-1)
            sol = solve_constrained_wls(
                self.backend.constrained_wls, Zd.astype(np.float64), w, Y, tot,
                hint="Raise nsamples.",
            )  # fmt: skip
            sol = np.asarray(sol).reshape(Mv, len(r), k)
            for j, i in enumerate(r):
                phi[i][at[j]] = sol[:, j]
