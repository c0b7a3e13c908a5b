"""Propagation attributions: DeepLIFT rules and modified ReLU gradients applied to the
operations the forward runs.

- ``_ops.py``: the tables of torch operations by rule (elementwise, linear, products, ...).
- ``_rules.py``: the rules as autograd functions (rescale, max pooling, path with correction).
- ``_tracking.py``: ``_Tracking``, the base mode that knows which tensors depend on the inputs.
- ``_mode.py``: ``_Rules``, the torch-function mode of the baseline and input passes.
- ``_passes.py``: the two passes on paired rows, chunked; the completeness check.
- ``deep_lift.py``: :class:`DeepLift` and :class:`DeepLiftShap`.
- ``deep_explainer.py``: :class:`DeepExplainer`, shap's front door over the same passes.

Layer-wise relevance propagation works on modules instead (its rules are set per layer):

- ``lrp_rules.py``: the rules (captum's names), set as ``module.rule``.
- ``_lrp_layers.py``: which rule each layer gets; the hooks that apply them for one pass.
- ``lrp.py``: :class:`LRP`.

Guided backpropagation and deconvolution change only the ReLUs' backward, on every ReLU the
forward runs:

- ``guided.py``: :class:`GuidedBackprop` and :class:`Deconvolution` (the ReLU rules and their mode).
- ``guided_grad_cam.py``: :class:`GuidedGradCam`.
"""

from .deep_explainer import AdditivityError, DeepExplainer
from .deep_lift import DeepLift, DeepLiftShap
from .guided import Deconvolution, GuidedBackprop
from .guided_grad_cam import GuidedGradCam
from .lrp import LRP
from .lrp_rules import Alpha1_Beta0_Rule, EpsilonRule, GammaRule, IdentityRule

__all__ = [
    "AdditivityError",
    "Alpha1_Beta0_Rule",
    "Deconvolution",
    "DeepExplainer",
    "DeepLift",
    "DeepLiftShap",
    "EpsilonRule",
    "GammaRule",
    "GuidedBackprop",
    "GuidedGradCam",
    "IdentityRule",
    "LRP",
]
