"""A model explained through a Partition, Image or Text masker: what every explainer shares.

:class:`MaskedModel` binds the model to the masker (tables reach the model as DataFrames when
the masker has columns), checks the inputs, binds a call's rows
(:func:`~xai_fast.masking.partition_rows.bind`), gives each row's empty and full coalition
values in link space, picks the outputs and builds the explanation in shap's shapes
(:class:`~xai_fast.Explanation` for tables, :class:`ArrayExplanation` for images and texts).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_data, check_feature_names, check_same_columns
from ..explanation import Explanation
from ..links import apply_link
from ..masking.image_masker import Image
from ..masking.partition_masker import Partition
from ..masking.partition_rows import bind
from ..masking.text_masker import Text
from ..model_inputs import AsFittedFrame, output_names_of
from ..models import ModelAdapter
from ._partition_output import ArrayExplanation, as_hierarchical_masker

__all__ = ["MAX_MASK_VALUES", "MaskedModel", "output_columns"]

#: Most coalition mask elements built at once; more rows are explained in chunks.
MAX_MASK_VALUES = 2**26


class MaskedModel:
    """A model and a Partition, Image or Text masker (ours or shap's).

    Parameters
    ----------
    model : torch.nn.Module or callable
    masker : Partition, Image or Text
    link : {"identity", "logit"}
    feature_names : list of str, optional
        A table's feature names (default: the masker's DataFrame columns).
    output_names : list of str, optional
    explainer : str
        The explainer's name, for error messages.
    """

    def __init__(self, model, masker, link, feature_names=None, output_names=None,
                 explainer="PartitionExplainer"):  # fmt: skip
        self.masker = as_hierarchical_masker(masker, explainer)
        self.link = link
        self.user_model = model
        self.output_names = output_names
        names = getattr(self.masker, "feature_names", None)
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

    def inputs(self, X):
        """The rows, images or strings of ``X`` and whether it was a single one."""
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
        Xc, columns, was_1d = check_data(X, name="X", allow_1d=True)
        d = m.data.shape[1]
        if Xc.shape[1] != d:
            raise ValueError(
                f"X has {Xc.shape[1]} features but the masker's background has {d}; pass rows "
                "with the background's columns."
            )
        # the background DataFrame's columns
        check_same_columns(columns, getattr(m, "feature_names", None), "the masker's background")
        return np.asarray(Xc, dtype=np.float64), was_1d

    def bind(self, X):
        """The rows ``X`` bound to the masker (:func:`~xai_fast.masking.partition_rows.bind`)."""
        return bind(self.masker, self.model, X)

    def linked(self, raw: np.ndarray) -> np.ndarray:
        return apply_link(self.link, raw, what="model output averaged over the masked inputs")

    def varying(self, rows, X) -> list:
        """Each row's features that a coalition can change, as shap's ``varying_inputs``:
        ``(M_r,)`` bool per row (a table's features equal to every background row, and a
        text's kept tokens, are not; every element of an image is)."""
        from ..masking.background import varying_features

        if isinstance(self.masker, Partition):
            return list(varying_features(X, self.masker.data))
        if isinstance(self.masker, Text):
            return [~self.masker.invariants(p[0]) for p in rows.parts]
        return [np.ones(X.shape[1], dtype=bool)] * len(X)

    def ends(self, rows):
        """Link-space values of every row's empty and full coalitions, ``(n, k)`` each."""
        n = sum(len(g[0]) for g in rows.groups)
        v00, v11 = [None] * n, [None] * n
        for g_rows, trees, _ in rows.groups:
            M, m = trees[0].M, len(g_rows)
            Z = np.zeros((2 * m, M), dtype=bool)
            Z[m:] = True
            v = self.linked(rows.evaluate(np.concatenate([g_rows, g_rows]), Z))
            for j, r in enumerate(g_rows):
                v00[r], v11[r] = v[j], v[m + j]
        return np.array(v00), np.array(v11)

    def explanation(self, X, was_1d, per_row, base, idx, rows, outputs, hier=None, extra=None):
        """shap's explanation of values ``per_row`` (one ``(M_r, o)`` array per row).

        Parameters
        ----------
        base : ndarray, shape (n, o)
            The outputs' base values.
        idx : ndarray of int, shape (n, o)
            The outputs explained (:func:`output_columns`).
        outputs : the call's ``outputs`` option
        hier : list of ndarray, optional
            Node values ``(2 M_r - 1, o)`` per row (the Owen walk's).
        extra : dict of str -> list of ndarray, optional
            More per-row arrays shaped like the values (``error_std``, ``main_effects``),
            set as attributes of the explanation.
        """
        vector = rows.vector_out or outputs is not None
        k = base.shape[1]
        names = None
        if rows.vector_out:
            names = output_names_of(self.user_model, self.output_names, rows.n_outputs, None)
            if names is not None and outputs is not None:
                names = [names[c] for c in idx[0]] if (idx == idx[:1]).all() else None
        squeeze = (lambda a: a) if vector else (lambda a: a[..., 0])  # noqa: E731
        hv = None if hier is None or isinstance(self.masker, Text) else squeeze(np.stack(hier))
        if isinstance(self.masker, Partition):
            shape_values = lambda p: squeeze(np.stack(p))  # noqa: E731
            vals = shape_values(per_row)
            exp = Explanation(
                vals[0] if was_1d else vals,
                squeeze(base)[0] if was_1d else squeeze(base),
                X[0] if was_1d else X,
                feature_names=self.feature_names,
                output_names=names if vector else None,
                axes=(() if was_1d else ("row",)) + ("feature",) + (("output",) if vector else ()),
            )
            exp.hierarchical_values = None if hv is None else (hv[0] if was_1d else hv)
            exp.clustering = self.masker.clustering
            for key, arrays in (extra or {}).items():
                a = shape_values(arrays)
                setattr(exp, key, a[0] if was_1d else a)
            return exp
        out_idx = None if outputs is None else idx
        if isinstance(self.masker, Image):
            shape = (len(X),) + self.masker.input_shape + ((k,) if vector else ())
            shape_values = lambda p: squeeze(np.stack(p)).reshape(shape)  # noqa: E731
            exp = ArrayExplanation(
                shape_values(per_row),
                squeeze(base),
                X.reshape((len(X),) + self.masker.input_shape),
                output_names=names,
                hierarchical_values=hv,
                clustering=self.masker.clustering,
                output_indices=out_idx,
            )
        else:
            shape_values = lambda p: _objects([squeeze(v) for v in p])  # noqa: E731
            segs = [np.array(p[0], dtype=object) for p in rows.parts]
            exp = ArrayExplanation(
                shape_values(per_row),
                squeeze(base),
                _objects(segs),
                feature_names=_objects(
                    [np.array([s.strip() for s in g], dtype=object) for g in segs]
                ),
                output_names=names,
                hierarchical_values=None if hier is None else _objects([squeeze(h) for h in hier]),
                clustering=_objects([self.masker.tree_of(s) for s in X]),
                output_indices=out_idx,
            )
        for key, arrays in (extra or {}).items():
            setattr(exp, key, shape_values(arrays))
        return exp[0] if was_1d else exp


def _objects(arrays) -> np.ndarray:
    """A 1-D object array holding one array per row (rows of different lengths)."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = a
    return out


def output_columns(outputs, v11: np.ndarray, vector_out: bool) -> np.ndarray:
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
