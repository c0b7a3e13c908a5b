"""Gradient attributions of differentiable torch models, with captum's API and numbers.

Data flow: inputs (a tensor or a tuple of tensors, examples on axis 0) -> every point to
differentiate (path points of all steps and examples, noisy copies, ...) stacked into one batch of
rows, each row tagged with the example it belongs to -> the rows evaluated in chunks, with the
extra forward arguments and targets gathered per row -> ``torch.autograd.grad`` of the targeted
outputs with respect to the rows (never the parameters) -> weighted sums back per example. The
module's training mode is left as the caller set it (as captum does), and no gradient is
accumulated on its parameters.

- ``_inputs.py``: checks of the inputs and baselines, and taking rows of them.
- ``_call.py``: the model call on tagged rows (``_Call``), gradients, outputs and deltas.
- ``_random.py``: one torch Generator per explainer and call, and draws from it.
- ``_base.py``: the base classes ``_GradientAttribution`` and ``_BaselineAttribution``.
- ``_noisy_copies.py``: the noisy-copies loop ``_noise_tunnel`` (NoiseTunnel, GradientShap).
- ``integrated_gradients.py``: :class:`IntegratedGradients`, ``METHODS`` and ``_quadrature``.
- ``saliency.py``: :class:`Saliency` and :class:`InputXGradient`.
- ``gradient_shap.py``: :class:`GradientShap` and ``_InputBaselineXGradient``.
- ``noise_tunnel.py``: :class:`NoiseTunnel` and ``NT_TYPES``.
- ``grad_cam.py``: :class:`LayerGradCam` (defined in :mod:`..layer.grad_cam`, loaded on use).
- ``gradient_explainer.py``: :class:`GradientExplainer`, shap's expected-gradients front door.
"""

from .gradient_explainer import GradientExplainer
from .gradient_shap import GradientShap
from .integrated_gradients import METHODS as METHODS
from .integrated_gradients import IntegratedGradients
from .noise_tunnel import NT_TYPES as NT_TYPES
from .noise_tunnel import NoiseTunnel
from .saliency import InputXGradient, Saliency

__all__ = [
    "GradientExplainer",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "LayerGradCam",
    "NoiseTunnel",
    "Saliency",
]


def __getattr__(name):
    # LayerGradCam lives with the layer methods, which build on this package: load it on use
    if name == "LayerGradCam":
        from ..layer.grad_cam import LayerGradCam

        return LayerGradCam
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
