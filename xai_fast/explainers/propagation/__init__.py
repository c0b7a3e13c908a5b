"""Propagation attributions: DeepLIFT rules and modified ReLU gradients applied to the
operations the forward runs.

- ``_ops.py``: the tables of torch operations by rule (elementwise, linear, products, ...).
- ``_rules.py``: the rules as autograd functions (rescale, max pooling, path with correction).
- ``_tracking.py``: ``_Tracking``, the base mode that knows which tensors depend on the inputs.
- ``_mode.py``: ``_Rules``, the torch-function mode of the baseline and input passes.
- ``_passes.py``: the two passes on paired rows, chunked; the completeness check.
- ``deep_lift.py``: :class:`DeepLift` and :class:`DeepLiftShap`.
- ``guided.py``: :class:`GuidedBackprop` and :class:`Deconvolution` (the ReLU rules and their mode).
- ``guided_grad_cam.py``: :class:`GuidedGradCam`.
"""

from .deep_lift import DeepLift, DeepLiftShap
from .guided import Deconvolution, GuidedBackprop
from .guided_grad_cam import GuidedGradCam

__all__ = ["Deconvolution", "DeepLift", "DeepLiftShap", "GuidedBackprop", "GuidedGradCam"]
