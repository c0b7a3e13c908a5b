"""LIME on torch tensors with a feature mask, with captum's ``attribute`` API.

Composition only: TensorMasker -> LIME's binary perturbations (one design per distinct number of
features, shared by every example with it) -> Game.evaluate -> one weighted ridge per design.
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_real
from ..sampling.lime_binary import binary_similarity, lime_binary_design
from ..solvers.ridge import weighted_ridge
from ._lime_captum import ExampleView, draw_perturbations, fit_interpretable, similarities
from ._tensor_base import TensorPerturbationExplainer, attribute_method

__all__ = ["Lime"]


class Lime(TensorPerturbationExplainer):
    """LIME attributions of groups of input elements (superpixels, tokens), captum style.

    Each example is perturbed ``n_samples`` times: the example itself, then every feature kept
    with probability 1/2 (elements of dropped features take the baseline). A weighted ridge
    regression with intercept of the model's outputs on the binary vectors gives the
    coefficients, which are the attributions.

    Defaults, as the ``lime`` package's image explainer: the similarity of a perturbation
    ``z`` is ``exp(-d**2 / (2 * kernel_width**2))`` with ``d`` the cosine distance between
    ``z`` and all ones in the binary (interpretable) space and ``kernel_width=0.25``; the
    surrogate is ``Ridge(alpha=1.0)`` on all features (no feature selection).

    Differences from ``captum.attr.Lime``: captum's default surrogate is ``Lasso(alpha=0.01)``,
    its similarity is the same kernel with width 1.0 on the cosine distance between the original
    and perturbed *inputs* (so it depends on the scale of the inputs and baselines), its
    default ``n_samples`` is 25 with no guaranteed unperturbed sample, and without a feature mask
    every scalar is a feature. Here the default mask is :func:`grid_feature_mask`, and a batch
    shares one design and one factorisation instead of fitting one model per example.

    Parameters
    ----------
    model : torch.nn.Module or callable
        As for :class:`KernelShap`.
    interpretable_model : captum ``Model``, optional
        A surrogate with ``fit(DataLoader)`` and ``representation()`` (e.g. captum's
        ``SkLearnLasso``), fitted once per example instead of the shared ridge.
    similarity_func : callable, optional
        ``similarity_func(original, perturbed, interpretable, **kwargs)`` per perturbation, as
        captum calls it, instead of the binary kernel.
    perturb_func : callable, optional
        ``perturb_func(original, **kwargs)`` returning (or yielding) ``(1, M)`` binary
        vectors: one design per example instead of the shared one.
    seed : int, numpy Generator or None, keyword-only
        Seed of the perturbations; the design depends only on the seed, the number of features
        and ``n_samples``, so an example gets the same values alone or in a batch.
    batch_size : int, optional, keyword-only
        Perturbed inputs per model call (as for :class:`KernelShap`).
    kernel_width : float, default 0.25, keyword-only
        Width of the similarity kernel; larger widths weight the perturbations more evenly.
    alpha : float, default 1.0, keyword-only
        Ridge penalty (``>= 0``) on the coefficients; the intercept is not penalised.
    workers : int, optional, keyword-only
        As for :class:`KernelShap`.
    """

    _INIT_OPTIONS = (
        "model",
        "interpretable_model",
        "similarity_func",
        "perturb_func",
        "seed",
        "batch_size",
        "kernel_width",
        "alpha",
        "workers",
    )
    _PROGRESS = "Lime"

    def __init__(
        self,
        model,
        interpretable_model=None,
        similarity_func=None,
        perturb_func=None,
        *,
        seed=None,
        batch_size=None,
        kernel_width=0.25,
        alpha=1.0,
        workers=None,
        **kwargs,
    ):
        super().__init__(model, seed, batch_size, workers, kwargs)
        self.kernel_width = check_real(kernel_width, "kernel_width", positive=True)
        self.alpha = check_real(alpha, "alpha", minimum=0)
        if interpretable_model is not None and not all(
            callable(getattr(interpretable_model, a, None)) for a in ("fit", "representation")
        ):
            raise TypeError(
                "interpretable_model must be a captum-style model with fit(DataLoader) and "
                f"representation() methods (e.g. captum's SkLearnLasso); got "
                f"{type(interpretable_model).__name__}."
            )
        for name, fn in (("similarity_func", similarity_func), ("perturb_func", perturb_func)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be None or a callable; got {type(fn).__name__}.")
        self.interpretable_model = interpretable_model
        self.similarity_func = similarity_func
        self.perturb_func = perturb_func

    attribute = attribute_method(
        """LIME coefficient of every feature, spread over the feature's elements.

        Parameters
        ----------
        inputs, baselines, target, feature_mask, show_progress, patch_size
            As for :meth:`KernelShap.attribute`.
        n_samples : int >= 2 or "auto", keyword-only
            Perturbations per example, the unperturbed example included: ``"auto"`` is
            ``2 * M + 2048``.

        Returns
        -------
        torch.Tensor, shape of ``inputs``
            Each element carries its feature's coefficient. On the inputs' device; float64 for
            float64 inputs, float32 otherwise.
        """
    )

    def _design(self, M: int, n_samples, seed):
        """LIME's binary perturbations (the example first) and their similarity weights."""
        S = 2 * M + 2048 if n_samples == "auto" else n_samples
        return lime_binary_design(M, S, seed, self.kernel_width)

    def _designs(self, masker, groups, n_samples, seed) -> list:
        """LIME's shared designs, or with ``perturb_func`` one design per example drawn by it."""
        if self.perturb_func is None:
            return super()._designs(masker, groups, n_samples, seed)
        out = []
        for M, rows in groups:
            S = 2 * M + 2048 if n_samples == "auto" else n_samples
            for i in rows:  # the user's sampler sees one example at a time, as in captum
                Z = draw_perturbations(self.perturb_func, ExampleView(masker, int(i)), S)
                out.append((np.array([i]), Z, binary_similarity(Z, self.kernel_width)))
        return out

    def _solve_rows(self, values, Z, w, masker, rows) -> torch.Tensor:
        """The shared ridge, or per example with captum's ``similarity_func`` and
        ``interpretable_model`` where given."""
        if self.interpretable_model is None and self.similarity_func is None:
            return self._solve(values, Z, w)
        coefs = []
        for k, i in enumerate(rows):  # user callables fit one example at a time
            view = ExampleView(masker, int(i))
            wi = torch.as_tensor(w) if self.similarity_func is None else None
            if wi is None:
                wi = similarities(self.similarity_func, view, Z)
            if self.interpretable_model is None:
                coef = weighted_ridge(Z, values[k][:, None], wi.numpy(), self.alpha)[0][:, 0]
            else:
                coef = fit_interpretable(self.interpretable_model, Z, values[k], wi)
            coefs.append(torch.as_tensor(coef, dtype=torch.float64).to(values.device))
        return torch.stack(coefs)

    def _solve(self, values: torch.Tensor, Z: np.ndarray, w: np.ndarray) -> torch.Tensor:
        """Ridge coefficients ``(n, M)`` from the values ``(n, S)``."""
        coef, _ = weighted_ridge(Z, values.T, w, self.alpha)
        return coef.T
