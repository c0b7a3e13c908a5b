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
from .._validation import check_data, check_feature_names, check_flag, check_positive_int
from ..explanation import Explanation
from ..links import apply_link
from ..masking.image_masker import Image
from ..masking.partition_masker import Partition
from ..masking.partition_rows import bind
from ..masking.text_masker import Text
from ..model_inputs import AsFittedFrame, output_names_of
from ..models import ModelAdapter
from ..sampling.owen_walk import owen_walk
from ..solvers.owen import lower_credit
from ._partition_output import ArrayExplanation, as_hierarchical_masker
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
        self.masker = as_hierarchical_masker(masker)
        self.link = _link_name(link)
        if self.link != "identity" and check_flag(linearize_link, "linearize_link"):
            raise ValueError(
                "linearize_link=True is shap's reweighting for a non-linear link, not supported "
                "here; pass linearize_link=False (the link of the mean model output)."
            )
        self.linearize_link = linearize_link
        self.call_args = dict(call_args)
        names = getattr(self.masker, "feature_names", None)
        self._user_model = model
        if isinstance(self.masker, Partition):
            d = self.masker.data.shape[1]
            self.feature_names = check_feature_names(feature_names, d) or names
            if names is not None:  # the model gets DataFrames, as shap's masker gives
                model = AsFittedFrame(model, names)
        elif feature_names is not None:
            raise ValueError("feature_names applies to tables; images and texts name no features.")
        else:
            self.feature_names = None
        self.model = ModelAdapter(model)
        self._output_names = output_names
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
        X, was_1d = self._inputs(args[0])
        rows = bind(self.masker, self.model, X)
        with self.model.evaluating():
            v00, v11 = self._ends(rows)
            idx = _output_columns(o["outputs"], v11, rows.vector_out)
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
        return self._explanation(X, was_1d, per_row, hier, pick(v00, np.arange(n)), idx, rows, o)

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

    def _inputs(self, X):
        m = self.masker
        if isinstance(m, Text):
            if isinstance(X, str):
                return [X], True
            strings = list(np.ravel(np.asarray(X, dtype=object)))
            bad = [type(s).__name__ for s in strings if not isinstance(s, str)]
            if bad or not strings:
                raise TypeError(f"the text masker explains a str or a list of str; got {bad[:3]}.")
            return strings, False
        if isinstance(m, Image):
            single = tuple(np.shape(X)) == m.input_shape
            return m.images(X), single
        Xc, _, was_1d = check_data(X, name="X", allow_1d=True)
        d = m.data.shape[1]
        if Xc.shape[1] != d:
            raise ValueError(
                f"X has {Xc.shape[1]} features but the masker's background has {d}; pass rows "
                "with the background's columns."
            )
        return np.asarray(Xc, dtype=np.float64), was_1d

    def _link(self, raw):
        return apply_link(self.link, raw, what="model output averaged over the masked inputs")

    def _ends(self, rows):
        """Link-space values of every row's empty and full coalitions, ``(n, k)`` each."""
        n = sum(len(g[0]) for g in rows.groups)
        v00, v11 = [None] * n, [None] * n
        for g_rows, trees, _ in rows.groups:
            M, m = trees[0].M, len(g_rows)
            Z = np.zeros((2 * m, M), dtype=bool)
            Z[m:] = True
            v = self._link(rows.evaluate(np.concatenate([g_rows, g_rows]), Z))
            for j, r in enumerate(g_rows):
                v00[r], v11[r] = v[j], v[m + j]
        return np.array(v00), np.array(v11)

    def _evaluator(self, rows, g_rows, idx):
        def evaluate(local, Z):
            r = g_rows[local]
            return np.take_along_axis(self._link(rows.evaluate(r, Z)), idx[r], axis=1)

        return evaluate

    def _explanation(self, X, was_1d, per_row, hier, base, idx, rows, o):
        vector = rows.vector_out or o["outputs"] is not None
        k = base.shape[1]
        names = None
        if rows.vector_out:
            names = output_names_of(self._user_model, self._output_names, rows.n_outputs, None)
            if names is not None and o["outputs"] is not None:
                names = [names[c] for c in idx[0]] if (idx == idx[:1]).all() else None
        squeeze = (lambda a: a) if vector else (lambda a: a[..., 0])  # noqa: E731
        if isinstance(self.masker, Partition):
            vals = squeeze(np.stack(per_row))
            exp = Explanation(
                vals[0] if was_1d else vals,
                squeeze(base)[0] if was_1d else squeeze(base),
                X[0] if was_1d else X,
                feature_names=self.feature_names,
                output_names=names if vector else None,
                axes=(() if was_1d else ("row",)) + ("feature",) + (("output",) if vector else ()),
            )
            exp.hierarchical_values = squeeze(np.stack(hier))
            exp.clustering = self.masker.clustering
            return exp
        out_idx = None if o["outputs"] is None else idx
        if isinstance(self.masker, Image):
            shape = self.masker.input_shape
            vals = squeeze(np.stack(per_row)).reshape((len(X),) + shape + ((k,) if vector else ()))
            exp = ArrayExplanation(
                vals,
                squeeze(base),
                X.reshape((len(X),) + shape),
                output_names=names,
                hierarchical_values=squeeze(np.stack(hier)),
                clustering=self.masker.clustering,
                output_indices=out_idx,
            )
        else:
            segs = [np.array(p[0], dtype=object) for p in rows.parts]
            exp = ArrayExplanation(
                _objects([squeeze(v) for v in per_row]),
                squeeze(base),
                _objects(segs),
                feature_names=_objects(
                    [np.array([s.strip() for s in g], dtype=object) for g in segs]
                ),
                output_names=names,
                hierarchical_values=_objects([squeeze(h) for h in hier]),
                clustering=_objects([self.masker.tree_of(s) for s in X]),
                output_indices=out_idx,
            )
        return exp[0] if was_1d else exp


def _objects(arrays) -> np.ndarray:
    """A 1-D object array holding one array per row (rows of different lengths)."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = a
    return out


def _output_columns(outputs, v11: np.ndarray, vector_out: bool) -> np.ndarray:
    """The outputs each row explains, ``(n, o)`` column indices."""
    n, k = v11.shape
    if outputs is None:
        return np.broadcast_to(np.arange(k), (n, k))
    if hasattr(outputs, "apply") and type(outputs).__module__.startswith("shap"):
        import shap

        cols = [np.asarray(outputs.apply(shap.Explanation(v11[i])).values) for i in range(n)]
        cols = np.stack([np.atleast_1d(c) for c in cols])
    else:
        cols = np.atleast_1d(np.asarray(outputs))
    if not vector_out:
        raise ValueError(
            "the model has a single output, so there are no outputs to pick; drop outputs=."
        )
    if (
        cols.dtype.kind not in "iu"
        or cols.ndim not in (1, 2)
        or (cols < -k).any()
        or (cols >= k).any()
    ):
        raise ValueError(
            f"outputs must be an output index, a list of them in 0..{k - 1} or a shap op chain "
            f"that gives them; got {outputs!r}."
        )
    return np.broadcast_to(cols % k, (n, cols.shape[-1]))
