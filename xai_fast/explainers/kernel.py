"""Kernel SHAP, a drop-in for ``shap.KernelExplainer`` built on compiled kernels.

Data flow: ModelAdapter -> Game (model + background masker) -> coalition design -> one batched
evaluation of every (row, coalition) pair -> one constrained weighted least squares per design,
solved for all rows and outputs at once.
"""

from __future__ import annotations

import numpy as np

from .._rng import normalize_seed, shap_seed
from .._validation import check_no_kwargs, check_nsamples, is_int, is_real, warn_ignored_kwargs
from ..links import apply_link
from ..sampling import shap_design
from ..sampling.plan import plan_design
from ..solvers.constrained_wls import solve_constrained_wls
from ..solvers.feature_selection import (
    DEFAULT_L1_REG,
    check_l1_reg,
    selection_active,
    solve_selected,
)
from ..solvers.poly_wls import n_terms
from ._base import CoalitionExplainer, keep_index_option
from ._kernel_rounds import (
    MAX_CUBIC_TERMS,
    N_BLOCKS,
    leverage_group,
    shap_group_with_errors,
    uses_gp,
)
from ._masker_kernel import MaskerKernel
from ._partition_output import is_hierarchical_masker
from ._shap_compat import KernelLegacyAPI

__all__ = ["KernelExplainer"]

#: Default ``max_memory``: bytes for one design, its regression and the per-row tables of
#: coalition values; rows are explained in chunks that fit.
DEFAULT_MAX_MEMORY = 2**30

SAMPLERS = ("shap", "leverage", "auto")
#: Keywords shap's constructor accepts and ignores.
SHAP_IGNORED = ("nsamples", "l1_reg", "silent", "random_state")
_CALL_HINT = "pass nsamples, l1_reg and silent to shap_values() or the call, and seed= here"


class KernelExplainer(CoalitionExplainer, KernelLegacyAPI):
    """Kernel SHAP values of any model, with shap's arguments, shapes and numbers.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps an ``(n, d)`` array to ``(n,)`` or ``(n, k)`` outputs. A module runs in eval mode
        on its own device and dtype.
    data : array-like, DataFrame, Background or shap DenseData, shape (N, d); or an Image or
        Text masker (``xai_fast.maskers`` or shap's)
        Background rows that stand for "feature absent" (see :func:`xai_fast.kmeans`). With a
        masker the players are the image's elements or the text's tokens (shap's design, with
        ``nsamples`` and ``seed``; no ``l1_reg``).
    feature_names : list of str, optional
        Defaults to the DataFrame's columns.
    link : {"identity", "logit"}, default "identity"
        Space in which the values add up to the output. With ``"logit"``, probabilities of
        exactly 0 or 1 are clipped to ``[eps, 1 - eps]`` (``eps`` = float64 machine epsilon).
    seed : int, numpy Generator or None, keyword-only
        Seed of the coalition sampler. The design depends only on the seed, the number of
        varying features and ``nsamples``, so a row gets the same values alone or in a batch.
        ``None`` draws one seed per call from numpy's global generator (as shap samples from
        it), so ``np.random.seed(0)`` makes a script reproducible; the global state is never
        seeded here.
    batch_size : int, optional, keyword-only
        Rows per model call (default 2048, fewer for very wide inputs).
    backend : {"auto", "numpy", "numba", "torch"}, keyword-only
        Kernels to use; ``"numpy"`` is the plain reference, ``"torch"`` the C++ extension.
        ``"auto"`` picks ``"torch"`` for a module (perturbed rows are then built, evaluated,
        averaged and solved on the module's device) and ``"numba"`` otherwise.
    max_memory : int, keyword-only
        Bytes the explainer may use beyond the model's own (default 1 GiB): the coalition
        design and its regression must fit (checked before any model call), and rows are
        explained in chunks whose tables fit in the rest. The perturbed rows are built and
        evaluated ``batch_size`` rows at a time whatever the budget.
    sampler : {"shap", "leverage", "auto"}, keyword-only
        ``"shap"`` (default) is shap's design and regression: shap's numbers. ``"leverage"``
        is leverage-score sampling (every subset size gets the same share, subsets drawn
        without replacement and paired with their complements, weights over inclusion
        probabilities). ``"auto"`` fits the leverage design's pairs by Gaussian-process
        regression over interactions of every order, for budgets from ``4 * M`` to 8,192
        coalitions and up to 1,000 features (otherwise a fit with third-order terms where
        they fit, else ``"leverage"``). Every sampler gives error bars
        (``error_bars=True``) and the ``tol`` stopping rule; see
        ``docs/estimators.md``.

    keep_index : bool, default False, keyword-only
        shap's option: the model gets ``pandas.DataFrame`` chunks with the background's
        columns, the explained rows with their own index labels and each perturbed row with
        the label of the background row it was built from (``data`` and ``X`` must then be
        DataFrames; values are unchanged for a model that treats rows independently).
    keep_index_ordered : bool, default False, keyword-only
        With ``keep_index``, each chunk is sorted by its index before the call and the outputs
        are put back in the rows' order (shap uses them in sorted order).
    output_names : list of str, optional, keyword-only
        Names of the model's outputs for the explanation (``exp[..., "yes"]``). Default: the
        columns of a DataFrame the model returns, or ``classes_`` when the model is a
        classifier's ``predict_proba``, ``predict_log_proba`` or ``decision_function``.
    **kwargs
        shap's ``nsamples``, ``l1_reg``, ``silent`` and ``random_state`` are accepted and
        ignored with a ``UserWarning``, as shap ignores them here (pass ``nsamples`` and
        ``l1_reg`` to :meth:`shap_values`, ``seed`` for the sampler). Others are errors.

    Attributes
    ----------
    expected_value : float or ndarray of shape (k,)
        ``link`` of the background-weighted mean model output.
    """

    _CALL_OPTIONS = ("nsamples", "l1_reg", "silent", "tol")
    _masked = None  # the masker path (MaskerKernel) for an Image or Text masker

    def __init__(
        self,
        model,
        data,
        feature_names=None,
        link="identity",
        *,
        seed=None,
        batch_size=None,
        backend="auto",
        sampler="shap",
        max_memory=DEFAULT_MAX_MEMORY,
        keep_index=False,
        keep_index_ordered=False,
        output_names=None,
        **kwargs,
    ):
        warn_ignored_kwargs(kwargs, "KernelExplainer()", SHAP_IGNORED, _CALL_HINT)
        check_no_kwargs(
            kwargs,
            "KernelExplainer()",
            ["model", "data", "link", "feature_names", "seed", "batch_size", "backend", "sampler",
             "max_memory", "keep_index", "keep_index_ordered", "output_names", *SHAP_IGNORED],
        )  # fmt: skip
        self._init_args = (model, data, {"feature_names": feature_names, "link": link,
                           "seed": seed, "batch_size": batch_size, "backend": backend,
                           "sampler": sampler, "max_memory": max_memory, "keep_index": keep_index,
                           "keep_index_ordered": keep_index_ordered,
                           "output_names": output_names})  # fmt: skip
        if not is_int(max_memory):
            raise TypeError(f"max_memory must be an int (bytes); got {max_memory!r}.")
        if max_memory < 2**20:
            raise ValueError(f"max_memory must be at least 1 MiB (2**20 bytes); got {max_memory}.")
        self.max_memory = int(max_memory)
        normalize_seed(0 if seed is None else seed)  # validate the type now
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {list(SAMPLERS)}; got {sampler!r}.")
        self.seed = seed
        self.sampler = sampler
        if is_hierarchical_masker(data):  # pixels or tokens are the players
            self._masked = MaskerKernel(model, data, link, output_names, seed, backend)
            self.model = self._masked.bound.model  # shap's explainer.model
            return
        frames = keep_index_option(keep_index, keep_index_ordered)
        super().__init__(
            model, data, link, feature_names, batch_size, backend, frames, output_names
        )

    # ------------------------------------------------------------------ public API
    def shap_values(
        self, X, nsamples="auto", l1_reg=DEFAULT_L1_REG, silent=False, *, tol=None, **kwargs
    ):
        """Estimate SHAP values of the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n, d) or (d,)
        nsamples : int or "auto", default "auto"
            Coalitions per row: ``"auto"`` is ``2 * M + 2048``, capped at ``2**M - 2``.
        l1_reg : False, "num_features(k)", "aic", "bic", "auto" or float
            Feature selection before the regression (shap's options and default; only with
            ``sampler="shap"`` and without error bars or ``tol``: those keep every feature, and
            then ignore the default).
        silent : bool, default False
            Hide the progress bar.
        tol : float, optional, keyword-only
            Stopping rule: the budget starts at ``nsamples`` and doubles, with a fresh design,
            (up to ``2**17`` coalitions) until every value of a row is within ``tol`` times
            the spread (max - min) of the row's values at about 95% confidence (each error
            taken as normal with its standard error; the chances of a miss, summed over the
            row, at most 5%). Use ``error_bars=True`` to see the standard errors.

        Returns
        -------
        ndarray
            ``(n, d)`` for a single-output model, ``(n, d, k)`` for ``k`` outputs;
            ``(d,)`` or ``(d, k)`` when ``X`` is one row.
        """
        check_no_kwargs(kwargs, "shap_values()", self._CALL_OPTIONS)
        if self._masked is not None:
            return self._masked(X, nsamples, silent).values
        index = self._row_index(X)
        X, _, was_1d = self._check_rows(X)
        l1_reg = self._l1(l1_reg, tol is not None)
        phi, _ = self._explain(X, check_nsamples(nsamples), l1_reg, silent, False, tol, index)
        return self._shap_shape(phi, was_1d)

    def __call__(
        self,
        X,
        nsamples="auto",
        l1_reg=DEFAULT_L1_REG,
        silent=False,
        *,
        error_bars=False,
        tol=None,
        **kwargs,
    ):
        """Explain ``X`` and return an :class:`~xai_fast.Explanation` (see :meth:`shap_values`).

        ``error_bars=True`` also fills ``Explanation.error_std`` with jackknife standard errors
        of the values (every sampler; with ``"shap"`` the draws are the jackknife's units).
        """
        check_no_kwargs(kwargs, "KernelExplainer.__call__()", self._CALL_OPTIONS + ("error_bars",))
        if self._masked is not None:  # an Image or Text masker; what PartitionExplainer returns
            return self._masked(X, nsamples, silent)
        index = self._row_index(X)
        Xc, columns, was_1d = self._check_rows(X)
        l1_reg = self._l1(l1_reg, bool(error_bars) or tol is not None)
        phi, std = self._explain(
            Xc, check_nsamples(nsamples), l1_reg, silent, bool(error_bars), tol, index
        )
        exp = self._explanation(self._shap_shape(phi, was_1d), Xc, columns, was_1d)
        exp.error_std = None if std is None else self._shap_shape(std, was_1d)
        return exp

    def with_seed(self):
        """A shallow copy whose ``seed`` is one int: the seed's own 64-bit key, or one drawn now
        from a ``None`` seed or a generator. Every copy then draws the same coalitions, as one
        call on all rows would.

        Returns
        -------
        KernelExplainer
        """
        out = super().with_seed()
        out.seed = int(shap_seed(self.seed))
        return out

    # ------------------------------------------------------------------ internals
    def _l1(self, l1_reg, errors: bool = False):
        """``l1_reg`` to apply: the default is dropped where every feature is estimated (other
        samplers, error bars, ``tol``); another selection there is an error."""
        l1_reg = check_l1_reg(l1_reg)
        keeps_all = self.sampler != "shap" or errors
        if not keeps_all or l1_reg is False or l1_reg == DEFAULT_L1_REG:
            return False if keeps_all else l1_reg
        if self.sampler != "shap":
            raise ValueError(
                f"l1_reg={l1_reg!r} works with sampler='shap' only; the {self.sampler!r} sampler "
                "estimates every feature. Pass l1_reg=False or use sampler='shap'."
            )
        raise ValueError(
            f"l1_reg={l1_reg!r} cannot be combined with error_bars=True or tol: error bars are "
            "those of the regression on every feature. Pass l1_reg=False."
        )

    def _explain(self, X, nsamples, l1_reg, silent, error_bars, tol, index=None):
        """SHAP values of ``X`` ``(n, d)`` as ``(n, d, k)``, and their standard errors (or
        ``None``). ``index`` labels the rows for a ``keep_index`` model."""
        if tol is not None:
            if not is_real(tol) or not tol > 0:
                raise ValueError(f"tol must be a positive number; got {tol!r}.")
        groups = self._varying_groups(X)
        tables = self._check_budget(groups, nsamples)  # bytes left for the per-row tables
        game = self._game(X)
        seed = shap_seed(self.seed)
        with self.model.evaluating():
            total, link_null = self._outputs(X, index)  # (n, k), (k,)
            phi = np.zeros(X.shape + (total.shape[1],))
            std = np.zeros_like(phi) if (error_bars or tol is not None) else None
            for M, rows, var_idx in groups:  # one design per group
                if M == 1:
                    phi[rows, var_idx[:, 0], :] = total[rows]
                elif M >= 2:
                    # rows in chunks that bound the (rows, S, k) tables; same design for all
                    S = plan_design(M, nsamples).nsamples
                    step = max(1, tables[M] // (4 * 8 * S * total.shape[1]))
                    for c in range(0, len(rows), step):
                        r, vi = rows[c : c + step], var_idx[c : c + step]
                        args = (game, X[r], vi, total[r], M, nsamples, seed, link_null, silent)
                        if self.sampler == "shap" and std is None:
                            phi[r[:, None], vi, :] = self._explain_group(*args, l1_reg)
                        else:
                            if self.sampler == "shap":
                                p, e = shap_group_with_errors(self, *args, tol)
                            else:
                                p, e = leverage_group(self, *args, error_bars, tol)
                            phi[r[:, None], vi, :] = p
                            if std is not None:
                                std[r[:, None], vi, :] = e
        return phi, std

    def _check_budget(self, groups, nsamples) -> dict:
        """Check every design fits ``max_memory`` before any model call.

        Returns the bytes left for the per-row tables of each group size ``M``.
        """
        left = {}
        for M, _, _ in groups:
            if M < 2:
                continue
            S = plan_design(M, nsamples).nsamples
            if S < M and S < 2**M - 2:
                raise ValueError(
                    f"nsamples={S} is too small for {M} varying features: the regression needs "
                    f"at least {M} coalitions. Use nsamples='auto' (2 * M + 2048 = "
                    f"{2 * M + 2048}) or at least {M}."
                )
            # Z (bool) + its float copy + the regression's weighted copy + solver workspace
            design = S * M * (1 + 8 + 8) + 8 * M * M * 4
            if self.sampler == "auto" and uses_gp(M, S):
                n = S // 2 + 1  # pair distances, the prior covariance and its factor
                design += n * n * 8 * 3 + n * M * 8 * 6
            elif self.sampler == "auto" and n_terms(M, 3) <= MAX_CUBIC_TERMS:
                P = n_terms(M, 3)
                design += S * P * 8 * 3 + P * P * 8 * (N_BLOCKS + 2)
            if 2 * design > self.max_memory:
                raise ValueError(
                    f"explaining {M} varying features with {S:,} coalitions needs about "
                    f"{2 * design / 2**30:.2f} GiB for the design and its regression; "
                    f"max_memory={self.max_memory / 2**30:.2f} GiB. Lower nsamples or raise "
                    "max_memory."
                )
            left[M] = self.max_memory - 2 * design
        return left

    def _explain_group(
        self, game, X, var_idx, total, M, nsamples, seed, link_null, silent, l1_reg
    ) -> np.ndarray:
        """Rows sharing ``M`` varying features share one design and one factorisation.

        Returns
        -------
        ndarray, shape (n_g, M, k)
        """
        Z, w, plan = shap_design(self.backend, M, nsamples, seed)
        ey = game.evaluate(Z, X, var_idx, progress=not silent)  # (n_g, S, k)
        n_g, S, k = ey.shape
        what = "model output averaged over the background"
        Y = apply_link(self.link, ey, what=what)  # numpy, or a tensor on the model's device
        tot = total.reshape(-1)  # (n_g * k,)
        Zf = Z.astype(np.float64)
        selecting = selection_active(l1_reg, plan.fraction_evaluated)
        if isinstance(Y, np.ndarray):
            Y = (Y - link_null).transpose(1, 0, 2).reshape(S, -1)
        elif selecting:  # scikit-learn selects on the host
            Y = (Y.cpu().numpy() - link_null).transpose(1, 0, 2).reshape(S, -1)
        else:  # solve on the device; only the values come back
            Y = (Y - game.masker.to_device(link_null)).permute(1, 0, 2).reshape(S, -1)
            phi = self._solve(
                game.masker.to_device(Zf), game.masker.to_device(w), Y, game.masker.to_device(tot)
            )
            phi = phi.cpu().numpy() if hasattr(phi, "cpu") else phi  # lstsq fallback is numpy
            return phi.reshape(M, n_g, k).transpose(1, 0, 2)
        if selecting:
            phi = solve_selected(Zf, w, Y, tot, l1_reg)
        else:
            phi = self._solve(Zf, w, Y, tot)
        return phi.reshape(M, n_g, k).transpose(1, 0, 2)

    def _solve(self, Zf, w, Y, tot):
        return solve_constrained_wls(
            self.backend.constrained_wls, Zf, w, Y, tot,
            hint="Raise nsamples, use l1_reg='num_features(k)', or group features.",
        )  # fmt: skip
