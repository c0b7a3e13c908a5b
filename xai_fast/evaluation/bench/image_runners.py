"""The image runners of the suite: xai_fast's tensor methods and captum's, on :class:`ImageWork`.

Each returns one value per image and patch, ``(n, M)`` float64 (see :func:`patch_values`).
"""

from __future__ import annotations

import math

import numpy as np

from .work import ImageWork

__all__ = ["patch_values"]

#: Width of the similarity kernel of the image LIME runs (xai_fast's and lime's default).
LIME_KERNEL_WIDTH = 0.25


def patch_values(attr, feature_mask, *, reduce: str = "mean") -> np.ndarray:
    """Per-patch values ``(n, M)`` of attributions ``(n, ...)``: the mean over a patch's
    elements (every element carries its feature's value) or their sum (gradients)."""
    import torch

    a = attr.detach().to(torch.float64).reshape(attr.shape[0], -1)
    ids = feature_mask.expand(attr.shape).reshape(attr.shape[0], -1)
    M = int(ids.max()) + 1
    out = torch.zeros(attr.shape[0], M, dtype=torch.float64).scatter_add_(1, ids, a)
    if reduce == "mean":
        out /= torch.zeros_like(out).scatter_add_(1, ids, torch.ones_like(a))
    return out.numpy()


def xai_fast_kernel_shap(w: ImageWork):
    from ... import KernelShap

    a = KernelShap(w.model, seed=w.seed).attribute(
        w.inputs, w.baselines, w.target, feature_mask=w.feature_mask, n_samples=w.n_samples
    )
    return patch_values(a, w.feature_mask)


def xai_fast_lime_image(w: ImageWork):
    from ... import Lime

    a = Lime(w.model, style="lime", seed=w.seed, kernel_width=LIME_KERNEL_WIDTH).attribute(
        w.inputs, w.baselines, w.target, feature_mask=w.feature_mask, n_samples=w.n_samples
    )
    return patch_values(a, w.feature_mask)


def xai_fast_ig(w: ImageWork):
    from ... import IntegratedGradients

    a = IntegratedGradients(w.model).attribute(w.inputs, w.baselines, w.target, n_steps=w.ig_steps)
    return patch_values(a, w.feature_mask, reduce="sum")


def _captum_mask(w: ImageWork):
    return w.feature_mask.expand(w.inputs.shape).contiguous()


def captum_kernel_shap(w: ImageWork):
    import torch
    from captum.attr import KernelShap

    torch.manual_seed(w.seed)  # captum samples from torch's global generator
    a = KernelShap(w.model).attribute(
        w.inputs,
        w.baselines,
        w.target,
        feature_mask=_captum_mask(w),
        n_samples=w.n_samples + 2,  # captum counts the empty and full coalitions
        perturbations_per_eval=w.n_samples + 2,
    )
    return patch_values(a, w.feature_mask)


def _binary_cosine_similarity(kernel_width: float):
    """xai_fast's (and lime's image) similarity: ``exp(-d**2 / (2 width**2))`` with ``d`` the
    cosine distance between the binary sample and all ones."""

    def similarity(original, perturbed, interpretable, **kwargs):
        k = float(interpretable.sum())
        d = 1.0 - math.sqrt(k / interpretable.numel())
        return math.exp(-(d**2) / (2.0 * kernel_width**2))

    return similarity


def captum_lime(w: ImageWork):
    import torch
    from captum._utils.models.linear_model import SkLearnRidge
    from captum.attr import Lime

    # the same surrogate and similarity as xai_fast.Lime (captum's defaults differ)
    lime = Lime(
        w.model,
        interpretable_model=SkLearnRidge(alpha=1.0),
        similarity_func=_binary_cosine_similarity(LIME_KERNEL_WIDTH),
    )
    torch.manual_seed(w.seed)  # captum samples from torch's global generator
    a = lime.attribute(
        w.inputs,
        w.baselines,
        w.target,
        feature_mask=_captum_mask(w),
        n_samples=w.n_samples,
        perturbations_per_eval=w.n_samples,
    )
    return patch_values(a, w.feature_mask)


def _permutations(w: ImageWork) -> int:
    """Permutations for the Kernel SHAP budget: about ``n_samples`` model evaluations."""
    return max(1, w.n_samples // (int(w.feature_mask.max()) + 1))


def xai_fast_feature_ablation(w: ImageWork):
    from ... import FeatureAblation

    a = FeatureAblation(w.model).attribute(
        w.inputs, w.baselines, w.target, feature_mask=w.feature_mask
    )
    return patch_values(a, w.feature_mask)


def captum_feature_ablation(w: ImageWork):
    from captum.attr import FeatureAblation

    M = int(w.feature_mask.max()) + 1
    a = FeatureAblation(w.model).attribute(
        w.inputs, w.baselines, w.target, feature_mask=_captum_mask(w), perturbations_per_eval=M
    )
    return patch_values(a, w.feature_mask)


def xai_fast_shapley_sampling(w: ImageWork):
    import torch

    from ... import ShapleyValueSampling

    torch.manual_seed(w.seed)  # captum's draws, from torch's global generator
    a = ShapleyValueSampling(w.model).attribute(
        w.inputs, w.baselines, w.target, feature_mask=w.feature_mask, n_samples=_permutations(w)
    )
    return patch_values(a, w.feature_mask)


def captum_shapley_sampling(w: ImageWork):
    import torch
    from captum.attr import ShapleyValueSampling

    torch.manual_seed(w.seed)
    a = ShapleyValueSampling(w.model).attribute(
        w.inputs, w.baselines, w.target, feature_mask=_captum_mask(w),
        n_samples=_permutations(w), perturbations_per_eval=int(w.feature_mask.max()) + 1,
    )  # fmt: skip
    return patch_values(a, w.feature_mask)


def xai_fast_feature_permutation(w: ImageWork):
    import torch

    from ... import FeaturePermutation

    torch.manual_seed(w.seed)  # captum's permutations, from torch's global generator
    a = FeaturePermutation(w.model).attribute(w.inputs, w.target, feature_mask=w.feature_mask)
    return patch_values(a, w.feature_mask)


def captum_feature_permutation(w: ImageWork):
    import torch
    from captum.attr import FeaturePermutation

    torch.manual_seed(w.seed)
    a = FeaturePermutation(w.model).attribute(
        w.inputs, w.target, feature_mask=_captum_mask(w),
        perturbations_per_eval=int(w.feature_mask.max()) + 1,
    )  # fmt: skip
    return patch_values(a, w.feature_mask)


def xai_fast_deep_lift(w: ImageWork):
    from ... import DeepLift

    a = DeepLift(w.model).attribute(w.inputs, w.baselines, w.target)
    return patch_values(a, w.feature_mask, reduce="sum")


def captum_deep_lift(w: ImageWork):
    from captum.attr import DeepLift

    a = DeepLift(w.model).attribute(w.inputs, w.baselines, w.target)
    return patch_values(a.detach(), w.feature_mask, reduce="sum")


def _targeted(values, target):
    """shap's all-outputs values ``(n, ..., K)``: each example's targeted output."""
    import torch

    v = torch.from_numpy(np.asarray(values))
    return torch.stack([v[i, ..., t] for i, t in enumerate(target)])


def xai_fast_deep_explainer(w: ImageWork):
    from ... import DeepExplainer

    v = DeepExplainer(w.model, w.baselines).shap_values(w.inputs, check_additivity=False)
    return patch_values(_targeted(v, w.target), w.feature_mask, reduce="sum")


def shap_deep_explainer(w: ImageWork):
    import shap

    v = shap.DeepExplainer(w.model, w.baselines).shap_values(w.inputs, check_additivity=False)
    return patch_values(_targeted(v, w.target), w.feature_mask, reduce="sum")


def captum_ig(w: ImageWork):
    from captum.attr import IntegratedGradients

    a = IntegratedGradients(w.model).attribute(w.inputs, w.baselines, w.target, n_steps=w.ig_steps)
    return patch_values(a, w.feature_mask, reduce="sum")
