"""LIME on torch tensors with a feature mask, with captum's ``attribute`` API.

Composition only: TensorMasker -> binary perturbations (captum's per example, or LIME's design
shared by every example with the same number of features) -> Game.evaluate -> the surrogate
per example (captum's Lasso) or one weighted ridge per shared design.
"""

from __future__ import annotations

import numpy as np
import torch

from .._rng import normalize_seed
from .._validation import check_real
from ..sampling.lime_binary import binary_similarity, lime_binary_design
from ..solvers.ridge import weighted_ridge
from ._lime_captum import (
    ExampleView,
    bernoulli_perturbations,
    draw_perturbations,
    exp_cosine_similarity,
    fit_interpretable,
    lasso_coefficients,
    similarities,
    take_fit_draws,
)
from ._tensor_base import TensorPerturbationExplainer, attribute_method

__all__ = ["Lime"]

# each style's kernel width and surrogate penalty
_STYLES = {
    "captum": dict(kernel_width=1.0, alpha=0.01),
    "lime": dict(kernel_width=0.25, alpha=1.0),
}


class Lime(TensorPerturbationExplainer):
    """LIME attributions of groups of input elements (superpixels, tokens), captum style.

    Each example is perturbed ``n_samples`` times (every feature kept with probability 1/2,
    the elements of dropped features take the baseline), the perturbations are weighted by
    their similarity to the example, and the coefficients of a linear surrogate fitted to the
    model's outputs on the binary vectors are the attributions.

    ``style="captum"`` (the default) is ``captum.attr.Lime``'s defaults, with its numbers: 25
    perturbations drawn as captum's ``default_perturb_func`` draws them, the similarity
    ``exp(-d**2 / (2 * kernel_width**2))`` with ``d`` the cosine distance between the original
    and perturbed *inputs* (``kernel_width=1.0``), and ``Lasso(alpha=0.01)`` with intercept,
    fitted per example in float32 as captum's ``SkLearnLasso``. With ``seed=None`` the
    perturbations come from torch's global generator, so after ``torch.manual_seed(s)`` the
    result equals captum's after the same seed.

    ``style="lime"`` is the ``lime`` package's image explainer instead, built for speed: the
    example itself then ``2 * M + 2048`` perturbations by default, the same kernel on the
    cosine distance between ``z`` and all ones in the binary space (``kernel_width=0.25``), and
    ``Ridge(alpha=1.0)``; examples with the same number of features share one design and one
    factorisation.

    Without a feature mask, every scalar of a 1-D example is a feature and images get
    :func:`grid_feature_mask` patches (captum makes every scalar a feature).

    Parameters
    ----------
    model : torch.nn.Module or callable
        As for :class:`KernelShap`.
    interpretable_model : captum ``Model``, optional
        A surrogate with ``fit(DataLoader)`` and ``representation()`` (e.g. captum's
        ``SkLearnLasso``), fitted once per example instead of the style's.
    similarity_func : callable, optional
        ``similarity_func(original, perturbed, interpretable, **kwargs)`` per perturbation, as
        captum calls it, instead of the style's kernel.
    perturb_func : callable, optional
        ``perturb_func(original, **kwargs)`` returning (or yielding) ``(1, M)`` binary
        vectors: one design per example instead of the style's.
    style : {"captum", "lime"}, default "captum", keyword-only
        The defaults of the three parts above, of ``kernel_width``, ``alpha`` and
        ``n_samples="auto"``.
    seed : int, numpy Generator or None, keyword-only
        Seed of the perturbations. With a seed, an example gets the same perturbations (and
        values) alone or in a batch. With ``None``: torch's global generator, consumed per
        example in order, so a batch equals its examples explained one call at a time.
    batch_size : int, optional, keyword-only
        Perturbed inputs per model call (as for :class:`KernelShap`).
    kernel_width : float, optional, keyword-only
        Width of the similarity kernel (1.0 for "captum", 0.25 for "lime").
    alpha : float, optional, keyword-only
        Penalty (``>= 0``) of the surrogate: ``Lasso`` for "captum" (0.01), ``Ridge`` for
        "lime" (1.0); the intercept is not penalised.
    workers : int, optional, keyword-only
        As for :class:`KernelShap`.
    """

    _INIT_OPTIONS = (
        "model",
        "interpretable_model",
        "similarity_func",
        "perturb_func",
        "style",
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
        style="captum",
        seed=None,
        batch_size=None,
        kernel_width=None,
        alpha=None,
        workers=None,
        **kwargs,
    ):
        super().__init__(model, seed, batch_size, workers, kwargs)
        if not isinstance(style, str) or style not in _STYLES:
            raise ValueError(f"style must be 'captum' or 'lime'; got {style!r}.")
        self.style = style
        defaults = _STYLES[style]
        kernel_width = defaults["kernel_width"] if kernel_width is None else kernel_width
        alpha = defaults["alpha"] if alpha is None else alpha
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
        """LIME coefficient of every feature, given to each of the feature's elements.

        Parameters
        ----------
        inputs, baselines, target, feature_mask, show_progress, patch_size
            As for :meth:`KernelShap.attribute`.
        n_samples : int >= 2 or "auto", keyword-only
            Perturbations per example: ``"auto"`` is captum's 25 for ``style="captum"`` and
            ``2 * M + 2048`` (the unperturbed example included) for ``style="lime"``.

        Returns
        -------
        torch.Tensor, shape of ``inputs``
            Each element carries its feature's coefficient. On the inputs' device; float64 for
            float64 inputs, float32 otherwise.
        """
    )

    def _samples(self, M: int, n_samples) -> int:
        if n_samples != "auto":
            return n_samples
        return 25 if self.style == "captum" else 2 * M + 2048

    def _design(self, M: int, n_samples, seed):
        """LIME's binary perturbations (the example first) and their similarity weights."""
        return lime_binary_design(M, self._samples(M, n_samples), seed, self.kernel_width)

    def _seeds(self, N: int) -> list:
        """captum's draws take no seed: ``None`` (torch's global generator) unless given."""
        if self.style == "lime" and self.perturb_func is None:
            return super()._seeds(N)
        return [None if self.seed is None else normalize_seed(self.seed)] * N

    def _designs(self, masker, groups, n_samples, seeds) -> list:
        """``[(rows, Z, extra)]``: LIME's shared designs (``extra`` the weights), or one design
        per example, drawn in example order by the user's or captum's sampler."""
        if self.style == "lime" and self.perturb_func is None:
            return super()._designs(masker, groups, n_samples, seeds)
        out = []
        for i in range(masker.X.shape[0]):  # one example after another, as captum draws them
            if self.style == "lime":  # the user's sampler over the features numbered 0..M-1
                M = int(masker.M[i])
                Z = draw_perturbations(
                    self.perturb_func, ExampleView(masker, i), self._samples(M, n_samples)
                )
                out.append((np.array([i]), Z, binary_similarity(Z, self.kernel_width)))
                continue
            out.append((np.array([i]), *self._captum_draws(masker, i, n_samples, seeds[i])))
        return out

    def _captum_draws(self, masker, i: int, n_samples, seed):
        """Example ``i``'s perturbations over its own features ``(S, M)``, and as drawn over
        captum's features (ids less the smallest, ``0..n_ids-1``) ``(S, n_ids)`` with the
        captum ids of its own features."""
        n, given = masker.n_ids, masker.given_ids(np.array([i]))[0].cpu().numpy()
        S = self._samples(n, n_samples)
        if self.perturb_func is None:
            drawn = bernoulli_perturbations(n, S, seed)
        else:  # the user's sampler sees one example at a time, as in captum
            view = ExampleView(masker, i, captum_ids=True)
            drawn = draw_perturbations(self.perturb_func, view, S)
        if self.seed is None and self.interpretable_model is None:
            take_fit_draws(n)  # where captum's Lasso fit draws, before the next example
        return drawn[:, given], (drawn, given)

    def _solve_rows(self, values, Z, extra, masker, rows) -> torch.Tensor:
        """LIME's shared ridge, or per example the surrogate on the weights of the style's
        kernel or of ``similarity_func``."""
        custom = self.interpretable_model is not None or self.similarity_func is not None
        if self.style == "lime" and not custom:
            return self._solve(values, Z, extra)
        coefs = []
        for k, i in enumerate(rows):  # one surrogate per example, as captum fits them
            i = int(i)
            if self.style == "lime":
                drawn, given, view = Z, np.arange(Z.shape[1]), ExampleView(masker, i)
            else:
                (drawn, given), view = extra, ExampleView(masker, i, captum_ids=True)
            if self.similarity_func is not None:
                w = similarities(self.similarity_func, view, Z, shown=drawn)
            elif self.style == "lime":
                w = torch.as_tensor(extra)
            else:
                w = exp_cosine_similarity(view, Z, self.kernel_width)
            if self.interpretable_model is not None:
                coef = fit_interpretable(self.interpretable_model, drawn, values[k], w)
            elif self.style == "lime":
                coef = weighted_ridge(Z, values[k][:, None].cpu(), w.cpu().numpy(), self.alpha)
                coef = torch.as_tensor(coef[0][:, 0])
            else:
                coef = lasso_coefficients(drawn, values[k], w, self.alpha)
            coefs.append(coef[torch.as_tensor(given)].to(torch.float64).to(values.device))
        return torch.stack(coefs)

    def _solve(self, values: torch.Tensor, Z: np.ndarray, w: np.ndarray) -> torch.Tensor:
        """Ridge coefficients ``(n, M)`` from the values ``(n, S)``."""
        coef, _ = weighted_ridge(Z, values.T, w, self.alpha)
        return coef.T
