"""shap's ``PermutationExplainer`` on the engine: Shapley values along random feature orders.

Composition only: each row's feature orders (shap's, from the same seed) -> one instance per
(row, order) whose varying features are listed in that order -> the same chain coalitions for
every instance (:func:`~xai_fast.sampling.permutations.chain_coalitions`) -> one batched
Game.evaluate for all rows -> marginal contributions along each walk, forward and back
(antithetic), averaged. Efficiency is exact: each walk's contributions telescope to
``f(x) - E[f]``. shap makes one model call per row and order.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_flag, check_no_kwargs, check_positive_int
from ..links import apply_link
from ..sampling.permutations import chain_coalitions, shap_orders
from ..solvers.permutation_walks import walk_values
from ._base import CoalitionExplainer
from ._masker_permutation import MaskerPermutation
from ._partition_output import is_hierarchical_masker
from ._shap_compat import SHAP_MAX_SAMPLES, masker_background

__all__ = ["PermutationExplainer"]

CALL_OPTIONS = ("max_evals", "main_effects", "error_bounds", "batch_size", "outputs", "silent")


class PermutationExplainer(CoalitionExplainer):
    """Shapley values from antithetic feature orders, as ``shap.explainers.Permutation``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps ``(n, d)`` to ``(n,)`` or ``(n, k)``.
    masker : array-like, DataFrame, Background, shap.maskers.Independent, or a Partition, Image
        or Text masker (``xai_fast.maskers`` or shap's)
        Background rows standing for "feature absent" (more than 100 rows of an array are
        summarised as shap's default masker does). With a masker of a hierarchy each order
        keeps every group of the hierarchy together (shap's partition-tree shuffle), the model
        gets the masker's inputs (images, strings or DataFrame rows) and the result is what
        :class:`~xai_fast.PartitionExplainer` returns.
    link : "identity", "logit" or shap's ``shap.links.identity`` / ``shap.links.logit``
    feature_names : list of str, optional
    linearize_link : bool, default True
        shap's argument. Only the identity link is linear already; with ``"logit"`` pass
        ``linearize_link=False`` (the link of the background mean, as KernelExplainer).
    seed : int or None
        Seeds the feature orders; shap's orders for the same seed (shap seeds numpy's global
        generator with it; this explainer keeps a generator of its own). Calls continue the
        same stream, as shap's.
    backend, output_names : keyword-only
        As :class:`~xai_fast.ExactExplainer`.
    **call_args
        Defaults for :meth:`__call__` (``max_evals``, ``main_effects``, ...), as shap's.
    """

    _masked = None  # the masker path (MaskerPermutation) when the masker has a hierarchy

    def __init__(self, model, masker, link="identity", feature_names=None,
                 linearize_link=True, seed=None, *, backend="auto", output_names=None,
                 **call_args):  # fmt: skip
        unknown = {k: v for k, v in call_args.items() if k not in CALL_OPTIONS}
        check_no_kwargs(
            unknown, "PermutationExplainer()",
            ("model", "masker", "link", "feature_names", "linearize_link", "seed", "backend",
             "output_names") + CALL_OPTIONS,
        )  # fmt: skip
        link = _link_name(link)
        if link != "identity" and check_flag(linearize_link, "linearize_link"):
            raise ValueError(
                "linearize_link=True is shap's reweighting for a non-linear link, not "
                "supported here; pass linearize_link=False (the link of the background mean, "
                "as KernelExplainer)."
            )
        if seed is not None and not (
            isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed < 2**32
        ):
            raise ValueError(f"seed must be None or an int in 0..2**32 - 1; got {seed!r}.")
        self.seed = seed
        self._rs = np.random.RandomState(seed)
        self.call_args = {k: call_args[k] for k in CALL_OPTIONS if k in call_args}
        self.linearize_link = linearize_link
        self._init_args = (model, masker, {"link": link, "feature_names": feature_names,
                           "linearize_link": linearize_link, "seed": seed, "backend": backend,
                           "output_names": output_names, **self.call_args})  # fmt: skip
        if is_hierarchical_masker(masker):  # tokens, pixels or a table's tree: shap's tree orders
            self._masked = MaskerPermutation(model, masker, link, feature_names, output_names,
                                             self._rs)  # fmt: skip
            self.model = self._masked.bound.model  # shap's explainer.model
            return
        data = masker_background(masker, SHAP_MAX_SAMPLES)
        super().__init__(model, data, link, feature_names, None, backend, output_names=output_names)

    def __call__(self, *args, max_evals=500, main_effects=False, error_bounds=False,
                 batch_size="auto", outputs=None, silent=False, **kwargs):  # fmt: skip
        """Explain the rows ``X`` (the one positional argument).

        Parameters
        ----------
        X : array-like or DataFrame, shape (n, d) or (d,)
        max_evals : int or "auto", default 500
            Coalitions per row; ``max_evals // (2 M + 1)`` orders for ``M`` varying features
            (``"auto"``: ``20 d``), as shap's.
        main_effects : bool
            Also set ``main_effects``: each feature alone against the background,
            ``f(x_j, background) - E[f]`` (shap's own result there is misaligned).
        error_bounds : bool
            Also set ``error_std``: the standard deviation of the per-walk contributions.
        batch_size : int or "auto"
            Coalitions per model call (times the background rows); values never depend on it.
        outputs : int or sequence of int, optional
            The outputs of a multi-output model to explain (default all).
        silent : bool
            No progress bar.

        Returns
        -------
        Explanation
        """
        if len(args) != 1:
            raise TypeError(
                f"PermutationExplainer takes the rows to explain as one argument; got {len(args)}."
            )
        check_no_kwargs(kwargs, "PermutationExplainer.__call__()", CALL_OPTIONS)
        options = dict(max_evals=max_evals, main_effects=main_effects, error_bounds=error_bounds,
                       batch_size=batch_size, outputs=outputs, silent=silent)  # fmt: skip
        options.update({k: v for k, v in self.call_args.items() if _is_default(k, options[k])})
        if self._masked is not None:
            return self._masked(args[0], options)
        Xc, columns, was_1d = self._check_rows(args[0])
        phi, std, main = self._explain(Xc, options)
        cols = _outputs(options["outputs"], phi.shape[-1])
        phi, std, main = (None if a is None else a[..., cols] for a in (phi, std, main))
        values, std, main = (None if a is None else self._shap_shape(a, was_1d)
                             for a in (phi, std, main))  # fmt: skip
        exp = self._explanation(values, Xc, columns, was_1d, outputs=cols)
        exp.error_std = std
        exp.main_effects = main
        return exp

    def shap_values(self, X, npermutations=10, main_effects=False, error_bounds=False,
                    batch_evals=True, silent=False):  # fmt: skip
        """shap's legacy form: the values of ``npermutations`` orders per row, an array
        ``(n, d)`` or ``(n, d, k)``."""
        if self._masked is not None:
            raise TypeError("with a Partition, Image or Text masker, call the explainer: e(X).")
        d = np.shape(X)[-1]
        exp = self(X, max_evals=npermutations * (2 * d + 1), main_effects=main_effects,
                   error_bounds=error_bounds, silent=silent)  # fmt: skip
        return exp.values

    # ------------------------------------------------------------------ internals
    def _explain(self, X, o):
        """``(n, d, k)`` values, their per-walk standard deviations (or ``None``) and main
        effects (or ``None``)."""
        n, d = X.shape
        auto = isinstance(o["max_evals"], str) and o["max_evals"] == "auto"
        max_evals = 20 * d if auto else check_positive_int(o["max_evals"], "max_evals")
        groups = self._varying_groups(X)
        M_max = max(M for M, _, _ in groups)
        if M_max and max_evals // (2 * M_max + 1) == 0:
            raise ValueError(
                f"max_evals={max_evals} is too low for the Permutation explainer: it must be at "
                f"least 2 * (varying features) + 1 = {2 * M_max + 1}."
            )
        orders = self._orders(n, groups, max_evals)
        game = self._game(X)
        batch = o["batch_size"]
        if batch != "auto":
            rows_per_call = check_positive_int(batch, "batch_size") * len(self.background.data)
            self.model.batch_size = rows_per_call
        try:
            with self.model.evaluating():
                total, link_null = self._outputs(X)  # (n, k): link(f(x)) - link(E f)
                k = total.shape[1]
                phi = np.zeros((n, d, k))
                std = np.zeros((n, d, k)) if o["error_bounds"] else None
                for M, rows, var_idx in groups:
                    if M == 1:
                        phi[rows, var_idx[:, 0]] = total[rows]
                    elif M >= 2:
                        perm = np.stack([orders[r] for r in rows])  # (n_g, P, M)
                        p, s = self._walks(game, X, rows, perm, total, link_null, o["silent"])
                        phi[rows[:, None], var_idx] = p
                        if std is not None:
                            std[rows[:, None], var_idx] = s
                main = self._main_effects(game, X, groups, link_null, d, k, o["silent"]) if (
                    o["main_effects"]) else None  # fmt: skip
        finally:
            self.model.batch_size = None
        return phi, std, main

    def _orders(self, n: int, groups, max_evals: int) -> list:
        """Each row's feature orders ``(P, M)`` (``None`` without varying features), drawn row
        after row in the rows' order, as shap draws them."""
        var_of = [None] * n
        for _, rows, var_idx in groups:
            for r, vi in zip(rows, var_idx, strict=True):
                var_of[r] = vi
        return [
            shap_orders(self._rs, v[None], max_evals // (2 * len(v) + 1))[0] if len(v) else None
            for v in var_of
        ]

    def _walks(self, game, X, rows, perm, total, link_null, silent):
        """Values and per-walk standard deviations of rows sharing ``M`` varying features, from
        their orders ``perm`` ``(n_g, P, M)``: ``(n_g, M, k)`` each, features ascending."""
        n_g, P, M = perm.shape
        inst = np.repeat(rows, P)  # one instance per (row, order)
        ey = game.evaluate(chain_coalitions(M), X[inst], perm.reshape(-1, M), progress=not silent)
        ey = ey if isinstance(ey, np.ndarray) else ey.cpu().numpy()
        v = apply_link(self.link, ey, what="model output averaged over the background") - link_null
        return walk_values(v, total[inst], perm.reshape(-1, M), n_g)

    def _main_effects(self, game, X, groups, link_null, d, k, silent):
        """Each varying feature alone against the background, minus the background mean."""
        out = np.zeros((X.shape[0], d, k))
        for M, rows, var_idx in groups:
            if M == 0:
                continue
            ey = game.evaluate(np.eye(M, dtype=bool), X[rows], var_idx, progress=not silent)
            ey = ey if isinstance(ey, np.ndarray) else ey.cpu().numpy()
            out[rows[:, None], var_idx] = (
                apply_link(self.link, ey, what="model output averaged over the background")
                - link_null
            )
        return out


def _link_name(link) -> str:
    """``"identity"`` / ``"logit"`` for our names and shap's link functions."""
    name = getattr(link, "__name__", link)
    if name in ("identity", "logit"):
        return name
    raise ValueError(
        f"link must be 'identity' or 'logit' (or shap.links.identity / shap.links.logit); got "
        f"{link!r}."
    )


def _is_default(name: str, value) -> bool:
    """Whether ``value`` is ``__call__``'s default for ``name`` (then a constructor default
    set through ``**call_args`` applies)."""
    defaults = dict(max_evals=500, main_effects=False, error_bounds=False, batch_size="auto",
                    outputs=None, silent=False)  # fmt: skip
    return value is defaults[name] or (isinstance(value, str) and value == defaults[name])


def _outputs(outputs, k: int):
    """Output columns to keep: all, an int, or a sequence of ints in ``0 .. k - 1``."""
    if outputs is None:
        return slice(None)
    cols = np.atleast_1d(np.asarray(outputs))
    if cols.dtype.kind not in "iu" or cols.ndim != 1 or (cols < -k).any() or (cols >= k).any():
        raise ValueError(
            f"outputs must be an output index or a list of them in 0..{k - 1}; got {outputs!r}."
        )
    return cols
