"""One small function per (library, method): build the explainer, explain, return the values.

Every runner takes a :class:`TabularWork` or :class:`ImageWork` (what to explain and with
which budget) and returns the values as a float64 array ``(n, M)``: one value per row and
feature (per image and patch). Construction is part of the run, as for a user. Reference
libraries are imported inside their runners, so that a missing one fails only its own runs.
The tabular runners and the registry are here; the image runners are in :mod:`.image_runners`,
those on raw RGB images in :mod:`.superpixel_runners` and those on strings in
:mod:`.text_runners`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .image_runners import (
    captum_deep_lift,
    captum_feature_ablation,
    captum_feature_permutation,
    captum_ig,
    captum_kernel_shap,
    captum_lime,
    captum_shapley_sampling,
    patch_values,
    shap_deep_explainer,
    xai_fast_deep_explainer,
    xai_fast_deep_lift,
    xai_fast_feature_ablation,
    xai_fast_feature_permutation,
    xai_fast_ig,
    xai_fast_kernel_shap,
    xai_fast_lime_image,
    xai_fast_shapley_sampling,
)
from .superpixel_runners import (
    lime_image_superpixels,
    shap_partition_image,
    xai_fast_lime_superpixels,
    xai_fast_partition_image,
)
from .text_runners import (
    lime_text,
    shap_partition_text,
    xai_fast_lime_text,
    xai_fast_partition_text,
)
from .work import ImageWork, TabularWork

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


@dataclass(frozen=True)
class Method:
    """A method the suite times.

    Attributes
    ----------
    name, library : str
    kind : {"tabular", "image", "superpixel", "text"}
        Problems it runs on.
    run : callable
        ``run(work) -> ndarray (n, M)``.
    values : {"shapley", "lime", "gradient", "ablation", "owen"}
        What the values are: estimates of Shapley values (scored against the exact ones),
        LIME weights, integrated gradients, ablation drops or Owen values of a hierarchy
        (scored by agreement with the reference).
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


def _permutation_budget(w: TabularWork) -> int:
    """shap's ``max_evals`` for the Kernel SHAP budget: masked samples per row, at least one
    forward and backward pass (``2 M + 1``)."""
    return max(w.nsamples + 2, 2 * w.rows.shape[1] + 1)


def xai_fast_permutation(w: TabularWork):
    from ... import PermutationExplainer

    e = PermutationExplainer(w.model, w.background, seed=w.seed)  # shap's orders for the seed
    return _as_2d(e(w.rows, max_evals=_permutation_budget(w), silent=True).values, len(w.rows))


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

    e = shap.explainers.Permutation(w.fn, _independent(w.background), seed=w.seed)
    return _as_2d(e(w.rows, max_evals=_permutation_budget(w), silent=True).values, len(w.rows))


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
        Method("PermutationExplainer", "xai_fast", "tabular", xai_fast_permutation,
               reference="shap Permutation"),
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
        Method("FeaturePermutation", "xai_fast", "image", xai_fast_feature_permutation,
               values="ablation", reference="captum FeaturePermutation"),
        Method("DeepLift", "xai_fast", "image", xai_fast_deep_lift, values="gradient",
               reference="captum DeepLift", gradient=True),
        Method("DeepExplainer", "xai_fast", "image", xai_fast_deep_explainer, values="gradient",
               reference="shap DeepExplainer", gradient=True),
        Method("LimeImageExplainer", "xai_fast", "superpixel", xai_fast_lime_superpixels,
               values="lime", reference="lime LimeImageExplainer"),
        Method("PartitionExplainer", "xai_fast", "superpixel", xai_fast_partition_image,
               values="owen", reference="shap Partition"),
        Method("LimeTextExplainer", "xai_fast", "text", xai_fast_lime_text, values="lime",
               reference="lime LimeTextExplainer"),
        Method("PartitionExplainer", "xai_fast", "text", xai_fast_partition_text,
               values="owen", reference="shap Partition"),
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
        Method("FeaturePermutation", "captum", "image", captum_feature_permutation,
               values="ablation"),
        Method("DeepLift", "captum", "image", captum_deep_lift, values="gradient",
               gradient=True),
        Method("DeepExplainer", "shap", "image", shap_deep_explainer, values="gradient",
               gradient=True),
        Method("LimeImageExplainer", "lime", "superpixel", lime_image_superpixels,
               values="lime"),
        Method("Partition", "shap", "superpixel", shap_partition_image, values="owen"),
        Method("LimeTextExplainer", "lime", "text", lime_text, values="lime"),
        Method("Partition", "shap", "text", shap_partition_text, values="owen"),
    ]  # fmt: skip
    return out
