"""Layer attributions of differentiable torch models, with captum's API and numbers.

Data flow: inputs -> the rows to evaluate (path points of all steps and examples, noisy
copies, ablations) stacked into one batch, each row tagged with its example -> the model run
on them in chunks with the layers hooked (``_hooks.py``: their inputs or outputs recorded, or
replaced by the rows' points) -> gradients of the targeted outputs with respect to the layer
tensors -> sums back per example. The classes load on first use, so that the hook mechanism
can be imported alone (the propagation passes use it too).

- ``_hooks.py``: ``_LayerHooks``, the one hook mechanism (capture, gradients, replacement).
- ``_base.py``: the layer arguments, layer values and gradients, captum's output shapes.
- ``activation.py``: :class:`LayerActivation`, :class:`LayerGradientXActivation`.
- ``conductance.py``: :class:`LayerConductance`, :class:`InternalInfluence`.
- ``integrated_gradients.py``: :class:`LayerIntegratedGradients`.
- ``gradient_shap.py``: :class:`LayerGradientShap`.
- ``deep_lift.py``: :class:`LayerDeepLift`, :class:`LayerDeepLiftShap`.
- ``feature_ablation.py``: :class:`LayerFeatureAblation`.
- ``grad_cam.py``: :class:`LayerGradCam`.
"""

_LAZY = {
    "InternalInfluence": ".conductance",
    "LayerActivation": ".activation",
    "LayerConductance": ".conductance",
    "LayerDeepLift": ".deep_lift",
    "LayerDeepLiftShap": ".deep_lift",
    "LayerFeatureAblation": ".feature_ablation",
    "LayerGradCam": ".grad_cam",
    "LayerGradientShap": ".gradient_shap",
    "LayerGradientXActivation": ".activation",
    "LayerIntegratedGradients": ".integrated_gradients",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
