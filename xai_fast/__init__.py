"""xai_fast: fast, model-agnostic Kernel SHAP and LIME on compiled kernels.

Re-exports only; importing the package never imports hypothesis or matplotlib, and imports torch
only when a tensor explainer is first used.
"""

from . import maskers
from ._validation import DimensionError
from .background import Background, kmeans, sample
from .compare import Comparison, compare  # through the module: see xai_fast/compare.py
from .compat.lime_explanation import LimeExplanation
from .explainers import (
    ExactExplainer,
    Explainer,
    KernelExplainer,
    LimeTabularExplainer,
    PartitionExplainer,
    PermutationExplainer,
)
from .explanation import Cohorts, Explanation
from .masking.discretizers import (  # lime.discretize's names
    BaseDiscretizer,
    DecileDiscretizer,
    EntropyDiscretizer,
    QuartileDiscretizer,
    StatsDiscretizer,
)
from .models import ModelAdapter

__version__ = "0.1.0"

# Tensor explainers import torch; they load on first use so that ``import xai_fast`` stays light.
_LAZY = {
    "KernelShap": ".explainers.tensor_kernel_shap",
    "Lime": ".explainers.tensor_lime",
    # lime's image and text explainers load Numba (the text sampler) and scikit-learn
    "LimeImageExplainer": ".explainers.lime_image",
    "LimeTextExplainer": ".explainers.lime_text",
    "SegmentationAlgorithm": ".compat.lime_segmentation",
    "ImageExplanation": ".compat.lime_image_explanation",
    "TextExplanation": ".compat.lime_text_explanation",
    "FeatureAblation": ".explainers.feature_ablation",
    "FeaturePermutation": ".explainers.feature_permutation",
    "Occlusion": ".explainers.occlusion",
    "ShapleyValueSampling": ".explainers.shapley_sampling",
    "ShapleyValues": ".explainers.shapley_sampling",
    "grid_feature_mask": ".masking.feature_masks",
    "IntegratedGradients": ".explainers.gradient",
    "Saliency": ".explainers.gradient",
    "InputXGradient": ".explainers.gradient",
    "GradientShap": ".explainers.gradient",
    "GradientExplainer": ".explainers.gradient",
    "NoiseTunnel": ".explainers.gradient",
    "LayerGradCam": ".explainers.gradient",
    "InternalInfluence": ".explainers.layer",
    "LayerActivation": ".explainers.layer",
    "LayerConductance": ".explainers.layer",
    "LayerDeepLift": ".explainers.layer",
    "LayerDeepLiftShap": ".explainers.layer",
    "LayerFeatureAblation": ".explainers.layer",
    "LayerGradientShap": ".explainers.layer",
    "LayerGradientXActivation": ".explainers.layer",
    "LayerIntegratedGradients": ".explainers.layer",
    "NeuronConductance": ".explainers.neuron",
    "NeuronDeconvolution": ".explainers.neuron",
    "NeuronDeepLift": ".explainers.neuron",
    "NeuronDeepLiftShap": ".explainers.neuron",
    "NeuronFeatureAblation": ".explainers.neuron",
    "NeuronGradient": ".explainers.neuron",
    "NeuronGradientShap": ".explainers.neuron",
    "NeuronGuidedBackprop": ".explainers.neuron",
    "NeuronIntegratedGradients": ".explainers.neuron",
    "DeepLift": ".explainers.propagation",
    "DeepLiftShap": ".explainers.propagation",
    "DeepExplainer": ".explainers.propagation",
    "LRP": ".explainers.propagation",
    "GuidedBackprop": ".explainers.propagation",
    "Deconvolution": ".explainers.propagation",
    "GuidedGradCam": ".explainers.propagation",
}
_LAZY_MODULES = ("plots", "testing", "backends", "distributed", "bench")


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'xai_fast' has no attribute {name!r}")


__all__ = [
    "Background",
    "BaseDiscretizer",
    "Cohorts",
    "DimensionError",
    "Comparison",
    "DecileDiscretizer",
    "DeepExplainer",
    "Deconvolution",
    "DeepLift",
    "DeepLiftShap",
    "EntropyDiscretizer",
    "ExactExplainer",
    "Explainer",
    "Explanation",
    "FeatureAblation",
    "FeaturePermutation",
    "GradientExplainer",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCam",
    "InputXGradient",
    "IntegratedGradients",
    "InternalInfluence",
    "KernelExplainer",
    "KernelShap",
    "Lime",
    "LimeExplanation",
    "LimeImageExplainer",
    "LimeTextExplainer",
    "ImageExplanation",
    "TextExplanation",
    "SegmentationAlgorithm",
    "LayerActivation",
    "LayerConductance",
    "LayerDeepLift",
    "LayerDeepLiftShap",
    "LayerFeatureAblation",
    "LayerGradCam",
    "LayerGradientShap",
    "LayerGradientXActivation",
    "LayerIntegratedGradients",
    "LRP",
    "NeuronConductance",
    "NeuronDeconvolution",
    "NeuronDeepLift",
    "NeuronDeepLiftShap",
    "NeuronFeatureAblation",
    "NeuronGradient",
    "NeuronGradientShap",
    "NeuronGuidedBackprop",
    "NeuronIntegratedGradients",
    "LimeTabularExplainer",
    "ModelAdapter",
    "PartitionExplainer",
    "NoiseTunnel",
    "Occlusion",
    "PermutationExplainer",
    "QuartileDiscretizer",
    "Saliency",
    "ShapleyValueSampling",
    "ShapleyValues",
    "StatsDiscretizer",
    "compare",
    "kmeans",
    "maskers",
    "grid_feature_mask",
    "sample",
]
