"""One small function per (library, method): build the explainer, explain, return the values.

Every runner takes a :class:`TabularWork` or :class:`ImageWork` (what to explain and with
which budget) and returns the values as a float64 array ``(n, M)``: one value per row and
feature (per image and patch). Construction is part of the run, as for a user. Reference
libraries are imported inside their runners, so that a missing one fails only its own runs.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .problems import ImageProblem

__all__ = [
    "REFERENCE_MODULES",
    "ImageWork",
    "Method",
    "TabularWork",
    "methods",
    "missing_reference",
    "patch_values",
]

#: The module each reference library is imported as.
REFERENCE_MODULES = {"shap": "shap", "lime": "lime.lime_tabular", "captum": "captum.attr"}
#: Width of the similarity kernel of the image LIME runs (xai_fast's and lime's default).
LIME_KERNEL_WIDTH = 0.25


@dataclass
class TabularWork:
    """What one tabular run explains.

    Attributes
    ----------
    model : torch.nn.Module or callable
        What xai_fast is given (a module stays a module).
    fn : callable
        The same model as a numpy callable ``(n, d) -> (n,)``, as users hand it to shap and lime.
    background, rows, train : ndarray
        Background ``(N, d)``, rows to explain ``(n, d)`` and LIME's training data.
    nsamples, lime_samples, seed : int
    """

    model: object
    fn: Callable
    background: np.ndarray
    rows: np.ndarray
    train: np.ndarray
    nsamples: int
    lime_samples: int
    seed: int = 0

    def head(self, n: int = 1) -> TabularWork:
        """The same work on the first ``n`` rows."""
        return replace(self, rows=self.rows[:n])


@dataclass
class ImageWork(ImageProblem):
    """An :class:`ImageProblem` as one run explains it: its model (wrapped to count rows) and
    the run's seed."""

    seed: int = 0

    def head(self, n: int = 1) -> ImageWork:
        return replace(self, inputs=self.inputs[:n], target=self.target[:n])


@dataclass(frozen=True)
class Method:
    """A method the suite times.

    Attributes
    ----------
    name, library : str
    kind : {"tabular", "image"}
        Problems it runs on.
    run : callable
        ``run(work) -> ndarray (n, M)``.
    values : {"shapley", "lime", "gradient", "ablation"}
        What the values are: estimates of Shapley values (scored against the exact ones),
        LIME weights, integrated gradients or ablation drops (scored by agreement with the
        reference).
    reference : str, optional
        ``"<library> <name>"`` of the reference method it is compared with.
    max_features : int, optional
        Runs only on problems with at most this many features (enumeration).
    gradient : bool
        Needs forward and backward passes (the model-alone time then includes both).
    """

    name: str
    library: str
    kind: str
    run: Callable
    values: str = "shapley"
    reference: str | None = None
    max_features: int | None = None
    gradient: bool = False

    @property
    def key(self) -> str:
        return f"{self.library} {self.name}"

    def applies(self, problem) -> bool:
        return self.kind == problem.kind and (
            self.max_features is None or problem.n_features <= self.max_features
        )


def missing_reference(library: str) -> str | None:
    """``None`` when ``library`` imports, else the note for its skipped records."""
    if library == "xai_fast":
        return None
    try:
        importlib.import_module(REFERENCE_MODULES[library])
    except ImportError:
        return f"{library} is not installed: skipped"
    return None


def _as_2d(values, n: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(n, -1)


# ---------------------------------------------------------------------------- xai_fast, tabular
def xai_fast_kernel(w: TabularWork, *, backend: str = "auto", sampler: str = "shap"):
    from ... import KernelExplainer

    e = KernelExplainer(w.model, w.background, seed=w.seed, backend=backend, sampler=sampler)
    v = e.shap_values(w.rows, nsamples=w.nsamples, l1_reg=False, silent=True)
    return _as_2d(v, len(w.rows))


def xai_fast_exact(w: TabularWork):
    from ... import ExactExplainer

    return _as_2d(
        ExactExplainer(w.model, w.background).shap_values(w.rows, silent=True), len(w.rows)
    )


def xai_fast_lime(w: TabularWork):
    from ... import LimeTabularExplainer

    e = LimeTabularExplainer(w.train, mode="regression", random_state=w.seed)
    exp = e(w.rows, w.model, num_features=w.rows.shape[1], num_samples=w.lime_samples)
    return _as_2d(exp.values, len(w.rows))


# ---------------------------------------------------------------------------- shap and lime
def _independent(background):
    import shap

    return shap.maskers.Independent(background, max_samples=len(background))


def shap_kernel(w: TabularWork):
    import shap

    np.random.seed(w.seed)  # noqa: NPY002 - shap's KernelExplainer samples from numpy's global state
    e = shap.KernelExplainer(w.fn, w.background)
    v = e.shap_values(w.rows, nsamples=w.nsamples, l1_reg=False, silent=True)
    return _as_2d(v, len(w.rows))


def shap_exact(w: TabularWork):
    import shap

    e = shap.explainers.Exact(w.fn, _independent(w.background))
    return _as_2d(e(w.rows, silent=True).values, len(w.rows))


def shap_permutation(w: TabularWork):
    import shap

    # max_evals counts masked samples per row as our budget counts coalitions; shap needs at
    # least one forward and backward pass (2 M + 1)
    budget = max(w.nsamples + 2, 2 * w.rows.shape[1] + 1)
    e = shap.explainers.Permutation(w.fn, _independent(w.background), seed=w.seed)
    return _as_2d(e(w.rows, max_evals=budget, silent=True).values, len(w.rows))


def lime_tabular(w: TabularWork):
    from lime.lime_tabular import LimeTabularExplainer

    n, d = w.rows.shape
    e = LimeTabularExplainer(w.train, mode="regression", random_state=w.seed)
    out = np.zeros((n, d))
    for i, x in enumerate(w.rows):  # lime explains one row per call
        exp = e.explain_instance(x, w.fn, num_features=d, num_samples=w.lime_samples)
        for j, v in exp.local_exp[1]:  # lime files a regression under label 1
            out[i, j] = v
    return out


# ---------------------------------------------------------------------------- tensors
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


def captum_ig(w: ImageWork):
    from captum.attr import IntegratedGradients

    a = IntegratedGradients(w.model).attribute(w.inputs, w.baselines, w.target, n_steps=w.ig_steps)
    return patch_values(a, w.feature_mask, reduce="sum")


# ---------------------------------------------------------------------------- registry
def _kernel(backend: str, sampler: str):
    def run(w):
        return xai_fast_kernel(w, backend=backend, sampler=sampler)

    return run


def methods() -> list[Method]:
    """Every method, xai_fast's first: KernelExplainer once per available backend and once
    with ``sampler="auto"``."""
    from ...backends import available

    shap_kernel_key = "shap KernelExplainer"
    out = [
        Method(f"KernelExplainer[{b}]", "xai_fast", "tabular", _kernel(b, "shap"),
               reference=shap_kernel_key)
        for b in available()
    ]  # fmt: skip
    out += [
        Method("KernelExplainer(sampler=auto)", "xai_fast", "tabular", _kernel("auto", "auto"),
               reference=shap_kernel_key),
        Method("ExactExplainer", "xai_fast", "tabular", xai_fast_exact, reference="shap Exact",
               max_features=16),
        Method("LimeTabularExplainer", "xai_fast", "tabular", xai_fast_lime, values="lime",
               reference="lime LimeTabularExplainer"),
        Method("KernelShap", "xai_fast", "image", xai_fast_kernel_shap,
               reference="captum KernelShap"),
        Method("Lime", "xai_fast", "image", xai_fast_lime_image, values="lime",
               reference="captum Lime"),
        Method("IntegratedGradients", "xai_fast", "image", xai_fast_ig, values="gradient",
               reference="captum IntegratedGradients", gradient=True),
        Method("FeatureAblation", "xai_fast", "image", xai_fast_feature_ablation,
               values="ablation", reference="captum FeatureAblation"),
        Method("ShapleyValueSampling", "xai_fast", "image", xai_fast_shapley_sampling,
               reference="captum ShapleyValueSampling"),
        Method("KernelExplainer", "shap", "tabular", shap_kernel),
        Method("Exact", "shap", "tabular", shap_exact, max_features=16),
        Method("Permutation", "shap", "tabular", shap_permutation),
        Method("LimeTabularExplainer", "lime", "tabular", lime_tabular, values="lime"),
        Method("KernelShap", "captum", "image", captum_kernel_shap),
        Method("Lime", "captum", "image", captum_lime, values="lime"),
        Method("IntegratedGradients", "captum", "image", captum_ig, values="gradient",
               gradient=True),
        Method("FeatureAblation", "captum", "image", captum_feature_ablation, values="ablation"),
        Method("ShapleyValueSampling", "captum", "image", captum_shapley_sampling),
    ]  # fmt: skip
    return out
