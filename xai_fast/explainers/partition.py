"""shap's ``PartitionExplainer`` on the engine: Owen values on a feature hierarchy.

Composition only: the masker binds the rows (tables against a background, images against a
mask value, texts against a mask token) -> the empty and full coalitions of every row -> the
Owen walk of every row at once (:func:`~xai_fast.sampling.owen_walk.owen_walk`: shap's
priority-queue walk, each step's coalitions of all rows in one batched, deduplicated
evaluation) -> node values lowered to the leaves (:func:`~xai_fast.solvers.owen.lower_credit`).
For the same hierarchy, ``max_evals`` and ``batch_size`` the values are shap's; shap evaluates
each row's batches of ``batch_size`` coalitions in their own model calls.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._runtime.progress import Progress
from .._validation import check_flag, check_positive_int
from ..sampling.owen_walk import owen_walk
from ..solvers.owen import lower_credit
from ._masker_common import MaskedModel, output_columns
from .permutation import _link_name

__all__ = ["PartitionExplainer"]

CALL_OPTIONS = (
    "max_evals",
    "fixed_context",
    "main_effects",
    "error_bounds",
    "batch_size",
    "outputs",
    "silent",
)
_DEFAULTS = dict(
    max_evals=500,
    fixed_context=None,
    main_effects=False,
    error_bounds=False,
    batch_size="auto",
    outputs=None,
    silent=False,
)


class PartitionExplainer:
    """Owen values on a hierarchy of the features, as ``shap.explainers.Partition``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps a batch of the masker's inputs (rows ``(n, d)``, images ``(n, H, W, C)`` or an
        array of ``n`` strings) to ``(n,)`` or ``(n, k)``.
    masker : xai_fast.maskers.Partition, Image or Text, or shap's maskers of those names
        What "feature absent" means and the hierarchy of the features.
    output_names : list of str, optional
    link : "identity", "logit" or shap's ``shap.links.identity`` / ``shap.links.logit``
    linearize_link : bool, default True
        shap's argument; with ``"logit"`` pass ``linearize_link=False`` (the link of the mean).
    feature_names : list of str, optional
        Names of a table's features (default: the masker's DataFrame columns).
    **call_args
        Defaults for :meth:`__call__`, as shap's.
    """

    def __init__(
        self,
        model,
        masker,
        *,
        output_names=None,
        link="identity",
        linearize_link=True,
        feature_names=None,
        **call_args,
    ):
        unknown = sorted(set(call_args) - set(CALL_OPTIONS))
        if unknown:
            raise TypeError(
                f"PartitionExplainer() got unexpected keyword argument(s) {unknown}; the call "
                f"options it takes as defaults are {list(CALL_OPTIONS)}."
            )
        self.link = _link_name(link)
        if self.link != "identity" and check_flag(linearize_link, "linearize_link"):
            raise ValueError(
                "linearize_link=True is shap's reweighting for a non-linear link, not supported "
                "here; pass linearize_link=False (the link of the mean model output)."
            )
        self.linearize_link = linearize_link
        self.call_args = dict(call_args)
        self._bound = MaskedModel(model, masker, self.link, feature_names, output_names)
        self.masker, self.model = self._bound.masker, self._bound.model
        self.feature_names = self._bound.feature_names
        self.last_eval_count = None

    def __call__(
        self,
        *args,
        max_evals=500,
        fixed_context=None,
        main_effects=False,
        error_bounds=False,
        batch_size="auto",
        outputs=None,
        silent=False,
    ):
        """Explain the rows, images or strings ``X`` (the one positional argument).

        Parameters
        ----------
        X : array-like (n, d), images (n, H, W, C) or one image, a str or a list of str
        max_evals : int or "auto", default 500
            Model evaluations per row (coalitions; ``"auto"``: 500), the empty and full ones
            included, as shap's (an odd budget may be passed by one, as shap's).
        fixed_context : None, 0 or 1
            shap's option: ``None`` averages both contexts of every split; 0 (1) only the
            context with the sibling hidden (shown), twice as fast.
        main_effects, error_bounds : bool
            Accepted for shap's signature; shap's partition explainer computes neither.
        batch_size : int or "auto"
            Coalitions each row's walk takes per step (``"auto"``: the masker's default, 10,
            or 5 for text); the walk, and so the values, depend on it as shap's. All rows'
            steps go to the model together.
        outputs : None, int, list of int, or a shap ``Explanation`` op chain
            Outputs to explain (default all); an op chain (``shap.Explanation.argsort.flip[:2]``)
            picks each row's outputs from its model output.
        silent : bool
            No progress bar.

        Returns
        -------
        Explanation (tables) or ArrayExplanation (images, texts)
        """
        if len(args) != 1:
            raise TypeError(
                f"PartitionExplainer takes the inputs as one argument; got {len(args)}."
            )
        o = dict(
            max_evals=max_evals,
            fixed_context=fixed_context,
            main_effects=main_effects,
            error_bounds=error_bounds,
            batch_size=batch_size,
            outputs=outputs,
            silent=silent,
        )
        for k, v in self.call_args.items():
            if o[k] is _DEFAULTS[k] or (isinstance(o[k], str) and o[k] == _DEFAULTS[k]):
                o[k] = v
        budget, bsize, ctx = self._options(o)
        X, was_1d = self._bound.inputs(args[0])
        rows = self._bound.bind(X)
        with self.model.evaluating():
            v00, v11 = self._bound.ends(rows)
            idx = output_columns(o["outputs"], v11, rows.vector_out)
            pick = lambda v, r: np.take_along_axis(v, idx[r], axis=1)  # noqa: E731
            n = len(v00)
            per_row = [None] * n
            hier = [None] * n
            evals = np.zeros(n, dtype=np.int64)
            bar = Progress(n * max(budget, 0), "xai_fast: Owen walk", enabled=not o["silent"])
            try:
                for g_rows, trees, tids in rows.groups:
                    ev = self._evaluator(rows, g_rows, idx)
                    dv, ev_count = owen_walk(
                        trees,
                        tids,
                        pick(v00[g_rows], g_rows),
                        pick(v11[g_rows], g_rows),
                        ev,
                        budget,
                        bsize,
                        ctx,
                        on_step=bar.update,
                    )
                    evals[g_rows] = ev_count + 2
                    vals = (
                        lower_credit(dv, trees[0])
                        if len(trees) == 1
                        else np.concatenate(
                            [lower_credit(dv[i : i + 1], t) for i, t in enumerate(trees)]
                        )
                    )
                    for j, r in enumerate(g_rows):
                        per_row[r], hier[r] = vals[j], dv[j]
            finally:
                bar.close()
        self.last_eval_count = evals
        base = pick(v00, np.arange(n))
        return self._bound.explanation(X, was_1d, per_row, base, idx, rows, o["outputs"], hier)

    # ------------------------------------------------------------------ internals
    def _options(self, o):
        me = o["max_evals"]
        me = 500 if isinstance(me, str) and me == "auto" else check_positive_int(me, "max_evals")
        if me < 2:
            raise ValueError(
                f"max_evals must be at least 2 (the empty and full coalitions); got {me}."
            )
        bs = o["batch_size"]
        auto = isinstance(bs, str) and bs == "auto"
        bs = self.masker.default_batch_size if auto else check_positive_int(bs, "batch_size")
        ctx = o["fixed_context"]
        if isinstance(ctx, str) and ctx == "auto":
            ctx = None
        if ctx is not None and (isinstance(ctx, bool) or ctx not in (0, 1)):
            raise ValueError(f"fixed_context must be None, 0 or 1; got {ctx!r}.")
        for flag in ("main_effects", "error_bounds", "silent"):
            check_flag(o[flag], flag)
        if o["main_effects"] or o["error_bounds"]:
            warnings.warn(
                "PartitionExplainer computes neither main effects nor error bounds (shap's "
                "partition explainer neither); use PermutationExplainer for them.",
                UserWarning,
                stacklevel=3,
            )
        return me - 2, bs, ctx

    def _evaluator(self, rows, g_rows, idx):
        def evaluate(local, Z):
            r = g_rows[local]
            return np.take_along_axis(self._bound.linked(rows.evaluate(r, Z)), idx[r], axis=1)

        return evaluate
