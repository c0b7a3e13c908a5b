"""Exact interventional Shapley values by evaluating every coalition (the ground truth).

Data flow: the rows' varying features -> all ``2**M`` coalitions -> one batched, chunked
evaluation against the weighted background -> Shapley (and interaction) sums over the cube.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_link, check_no_kwargs, check_positive_int
from ..links import apply_link
from ..sampling.enumeration import all_coalitions
from ..solvers.exact_shapley import INDICES, interactions_from_values, shapley_from_values
from ._base import CoalitionExplainer
from ._masker_exact import MaskerExact
from ._partition_output import is_hierarchical_masker
from ._shap_compat import SHAP_MAX_SAMPLES, masker_background

__all__ = ["ExactExplainer"]

DEFAULT_MAX_EVALS = 2**25
DEFAULT_MAX_MEMORY = 2**30


class ExactExplainer(CoalitionExplainer):
    """Exact Shapley values over a (weighted) background, from all ``2**M`` coalitions.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps ``(n, d)`` to ``(n,)`` or ``(n, k)``.
    data : array-like, DataFrame, Background, shap DenseData or shap.maskers.Independent, or a
        Partition, Image or Text masker (``xai_fast.maskers`` or shap's)
        Background rows ``(N, d)`` standing for "feature absent". Arrays and DataFrames of
        more than ``max_samples`` rows are summarised as shap's default masker does. A masker
        with a hierarchy gives shap's exact values on it: Owen values, each split of the
        hierarchy averaging its two contexts (``2 + 2 * sum(2**depth)`` coalitions over the
        internal nodes, about ``M**2`` for a balanced tree).
    link : {"identity", "logit"}, keyword-only
    feature_names : list of str, optional, keyword-only
    batch_size : int, optional, keyword-only
        Rows per model call.
    backend : {"auto", "numpy", "numba", "torch"}, keyword-only
        Kernels that build and average the perturbed rows.
    max_evals : int, keyword-only
        Most model evaluations allowed per explained row (``2**M * N`` are needed for ``M``
        varying features and ``N`` background rows). Default ``2**25``.
    max_memory : int, keyword-only
        Bytes for the table of coalition values; rows are processed in chunks that fit.
    max_samples : int or None, keyword-only
        Most background rows taken from an array or DataFrame (default 100, shap's
        ``shap.maskers.Independent(data, max_samples=100)``, the same rows); ``None`` keeps all.
    output_names : list of str, optional, keyword-only
        Names of the model's outputs for the explanation (``exp[..., "yes"]``). Default: the
        columns of a DataFrame the model returns, or ``classes_`` when the model is a
        classifier's ``predict_proba``, ``predict_log_proba`` or ``decision_function``.

    Attributes
    ----------
    expected_value : float or ndarray of shape (k,)
    """

    _masked = None  # the masker path (MaskerExact) when data is a masker with a hierarchy

    def __init__(
        self,
        model,
        data,
        *,
        link="identity",
        feature_names=None,
        batch_size=None,
        backend="auto",
        max_evals=DEFAULT_MAX_EVALS,
        max_memory=DEFAULT_MAX_MEMORY,
        max_samples=SHAP_MAX_SAMPLES,
        output_names=None,
        **kwargs,
    ):
        check_no_kwargs(
            kwargs,
            "ExactExplainer()",
            [
                "model",
                "data",
                "link",
                "feature_names",
                "batch_size",
                "backend",
                "max_evals",
                "max_memory",
                "max_samples",
                "output_names",
            ],
        )
        self.max_evals = check_positive_int(max_evals, "max_evals")
        self.max_memory = check_positive_int(max_memory, "max_memory")
        max_samples = check_positive_int(max_samples, "max_samples", or_none=True)
        self._init_args = (model, data, {"link": link, "feature_names": feature_names,
                           "batch_size": batch_size, "backend": backend, "max_evals": max_evals,
                           "max_memory": max_memory, "max_samples": max_samples,
                           "output_names": output_names})  # fmt: skip
        if is_hierarchical_masker(data):  # Owen values on the masker's hierarchy, as shap's
            self._masked = MaskerExact(model, data, check_link(link), feature_names,
                                       output_names, self.max_evals)  # fmt: skip
            self.model = self._masked.bound.model  # shap's explainer.model
            return
        data = masker_background(data, max_samples)
        super().__init__(
            model, data, link, feature_names, batch_size, backend, output_names=output_names
        )

    def shap_values(self, X, *, silent=False):
        """Exact Shapley values of the rows of ``X``.

        Returns
        -------
        ndarray
            ``(n, d)`` for a single-output model, ``(n, d, k)`` otherwise; ``(d,)`` /
            ``(d, k)`` for a single row.
        """
        if self._masked is not None:
            return self._masked(X, silent=silent).values
        X, _, was_1d = self._check_rows(X)
        return self._shap_shape(self._explain(X, None, silent), was_1d)

    def shap_interaction_values(self, X, *, silent=False):
        """Exact pairwise Shapley interaction values, split as shap's ``TreeExplainer`` does.

        ``values[i, j]`` (i != j) is half the Shapley interaction index of features i and j;
        ``values[i, i]`` is the rest of feature i's Shapley value, so ``values.sum(-1)`` (over
        the second feature axis) gives the Shapley values. (``explainer(X,
        interactions=True)`` gives shap's ``ExactExplainer`` convention instead.)

        Returns
        -------
        ndarray
            ``(n, d, d)`` or ``(n, d, d, k)``; without the row axis for a single row.
        """
        if self._masked is not None:
            return self._masked(X, True, silent)  # raises: interactions need background rows
        X, _, was_1d = self._check_rows(X)
        return self._shap_shape(self._explain(X, "shapley", silent), was_1d)

    def __call__(self, X, *, interactions=False, silent=False):
        """Explain ``X``: an :class:`~xai_fast.Explanation` of values ``(n, d[, k])``, or of
        pairwise interaction values ``(n, d, d[, k])``.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n, d) or (d,)
        interactions : bool, int or str, default False
            ``False`` / ``1``: Shapley values. ``True`` / ``2`` / ``"shapley_taylor"``: shap's
            ``ExactExplainer`` interactions, the Shapley-Taylor index of order 2 (half of it
            on each side of the diagonal, the main effects ``f(x_i) - E[f]`` on it).
            ``"shapley"``: the Shapley interaction index split so that each row sums to the
            feature's Shapley value (shap's ``TreeExplainer`` convention, as
            :meth:`shap_interaction_values`). In either, rows sum to the Shapley values
            and the matrix to ``f(x) - E[f]``; they split interactions of three or more
            features between pairs differently.
        silent : bool, default False

        With a Partition, Image or Text masker, what :class:`~xai_fast.PartitionExplainer`
        returns.
        """
        if self._masked is not None:
            return self._masked(X, interactions, silent)
        index = _interaction_index(interactions)
        Xc, columns, was_1d = self._check_rows(X)
        values = self._shap_shape(self._explain(Xc, index, silent), was_1d)
        return self._explanation(values, Xc, columns, was_1d, interactions=index is not None)

    # ------------------------------------------------------------------ internals
    def _explain(self, X, index, silent):
        """``(n, d, k)`` values, or ``(n, d, d, k)`` interaction values of the index ``index``
        (``None``: values; see :func:`~xai_fast.solvers.exact_shapley.interactions_from_values`).
        """
        interactions = index is not None
        N = self.background.data.shape[0]
        groups = self._varying_groups(X)
        M_max = max(M for M, _, _ in groups)
        if 2**M_max * N > self.max_evals:
            raise ValueError(
                f"exact Shapley values for {M_max} varying features need 2**{M_max} = "
                f"{2**M_max:,} coalitions per row, {2**M_max * N:,} model evaluations with the "
                f"{N}-row background; max_evals={self.max_evals:,}. Raise max_evals, use a "
                "smaller background (xai_fast.kmeans), or use KernelExplainer."
            )
        game = self._game(X)
        with self.model.evaluating():
            total, link_null = self._outputs(X)
            n, d = X.shape
            k = total.shape[1]
            shape = (n, d, d, k) if interactions else (n, d, k)
            out = np.zeros(shape)
            for M, rows, var_idx in groups:
                if M == 0:
                    continue
                if M == 1:
                    at = (
                        (rows, var_idx[:, 0], var_idx[:, 0])
                        if interactions
                        else (rows, var_idx[:, 0])
                    )
                    out[at] = total[rows]
                    continue
                Z = all_coalitions(M)
                per_chunk = max(1, self.max_memory // (3 * 8 * 2**M * k))
                for s in range(0, len(rows), per_chunk):
                    r, vi = rows[s : s + per_chunk], var_idx[s : s + per_chunk]
                    ey = game.evaluate(Z, X[r], vi, progress=not silent)  # (n_c, 2**M, k)
                    if not isinstance(ey, np.ndarray):
                        ey = ey.cpu().numpy()
                    v = (
                        apply_link(self.link, ey, what="model output averaged over the background")
                        - link_null
                    )
                    if interactions:
                        out[r[:, None, None], vi[:, :, None], vi[:, None, :]] = (
                            interactions_from_values(v, index)
                        )
                    else:
                        out[r[:, None], vi] = shapley_from_values(v)
        return out


def _interaction_index(interactions) -> str | None:
    """shap's ``interactions`` argument as an index name (``None``: Shapley values)."""
    if isinstance(interactions, str):
        if interactions not in INDICES:
            raise ValueError(
                f"interactions={interactions!r} is not an interaction index; pass True (shap's "
                f"Shapley-Taylor values) or one of {INDICES}."
            )
        return interactions
    if isinstance(interactions, (bool, np.bool_)) or interactions is None:
        return "shapley_taylor" if interactions else None
    if isinstance(interactions, (int, np.integer)) and 0 <= interactions <= 2:
        return None if interactions < 2 else "shapley_taylor"
    if isinstance(interactions, (int, np.integer)):
        raise ValueError(
            f"interactions={interactions}: exact interactions go up to order 2 (pairs); pass "
            "interactions=True or 2 for pairs, False or 1 for Shapley values."
        )
    raise TypeError(
        f"interactions must be a bool, an int (1 or 2) or one of {INDICES}; got "
        f"{type(interactions).__name__}."
    )
