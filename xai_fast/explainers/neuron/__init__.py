"""Neuron attributions of differentiable torch models, with captum's API and numbers.

A neuron is one value per example read from a layer's output (or positional inputs):
captum's ``neuron_selector`` (an index, an index tuple with slices, whose neurons are summed,
or a callable). Data flow: the neuron as a forward of the inputs (``_base.py``: the model run
with the layer hooked, stopping there, the neuron selected) -> the input method on it (its
rows of all steps, copies or ablations of all examples in batched passes). Conductance needs
the model's output as well: one forward per chunk, a backward to the layer and one from the
neuron to the inputs. The classes load on first use.

- ``_base.py``: the selector, the neuron's forward, the layer arguments.
- ``gradient.py``: :class:`NeuronGradient`, :class:`NeuronIntegratedGradients`,
  :class:`NeuronGradientShap`.
- ``conductance.py``: :class:`NeuronConductance`.
- ``deep_lift.py``: :class:`NeuronDeepLift`, :class:`NeuronDeepLiftShap`.
- ``feature_ablation.py``: :class:`NeuronFeatureAblation`.
- ``guided.py``: :class:`NeuronGuidedBackprop`, :class:`NeuronDeconvolution`.
"""

_LAZY = {
    "NeuronConductance": ".conductance",
    "NeuronDeconvolution": ".guided",
    "NeuronDeepLift": ".deep_lift",
    "NeuronDeepLiftShap": ".deep_lift",
    "NeuronFeatureAblation": ".feature_ablation",
    "NeuronGradient": ".gradient",
    "NeuronGradientShap": ".gradient",
    "NeuronGuidedBackprop": ".guided",
    "NeuronIntegratedGradients": ".gradient",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
