"""Kernel SHAP and LIME on torch tensors with a feature mask (captum's ``attribute`` API).

The explainers live in :mod:`.tensor_kernel_shap` and :mod:`.tensor_lime`, on the shared engine
(:mod:`xai_fast.masking.tensor_masker`, :mod:`xai_fast.masking.game`); this module keeps their
import path.
"""

from ..masking.feature_masks import grid_feature_mask

# the design's former private name, still imported by code written against it
from ..sampling.lime_binary import lime_binary_design as _lime_design  # noqa: F401
from ..solvers.ridge import weighted_ridge
from .tensor_kernel_shap import KernelShap
from .tensor_lime import Lime

__all__ = ["KernelShap", "Lime", "grid_feature_mask", "weighted_ridge"]
