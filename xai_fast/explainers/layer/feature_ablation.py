"""Feature ablation at a layer: :class:`LayerFeatureAblation`, captum's ``LayerFeatureAblation``
on the engine's :class:`~xai_fast.FeatureAblation`.

The layer's tensors on the inputs become the features: the engine's ablations of them run as
batched model calls on the inputs, each call with the layer's tensors replaced by the
ablated rows. When the model is an ``nn.Sequential`` and the layer one of its children, the
calls run only the modules after the layer.
"""

from __future__ import annotations

import torch

from ..._validation import check_batch_size, check_int
from .._captum_surface import CaptumSurface
from ..feature_ablation import FeatureAblation
from ..gradient._call import _autograd, _Call, _check_forward_func
from ..gradient._inputs import _check_inputs
from ._base import _formatted, _layer_values, _set_layer, _to_input
from ._hooks import _LayerHooks

__all__ = ["LayerFeatureAblation"]


class LayerFeatureAblation(CaptumSurface):
    """Attribution of each layer neuron (or group of neurons): the change of the targeted
    output when it alone takes its baseline, ``f(x) - f(x with the neuron ablated)``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    batch_size : int, optional, keyword-only
        Ablated rows per model call (default: the engine's rule).
    """

    multiplies_by_inputs = True

    def __init__(self, forward_func, layer, device_ids=None, *, batch_size=None):
        _check_forward_func(forward_func)
        self.forward_func = forward_func
        _set_layer(self, layer, device_ids)
        self.batch_size = check_batch_size(batch_size)  # rows per model call

    def attribute(
        self,
        inputs,
        layer_baselines=None,
        target=None,
        additional_forward_args=None,
        layer_mask=None,
        attribute_to_layer_input=False,
        perturbations_per_eval=1,
    ):
        """Ablation attributions of the layer's output (or positional inputs).

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype.
        layer_baselines : None, scalar, tensor or tuple of them
            The value an ablated neuron takes (default 0), broadcastable to the layer's tensors
            (one example or the batch).
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
        layer_mask : integer tensor or tuple of them, optional
            Neurons with the same id are ablated together, broadcastable to the layer tensors;
            default every neuron alone.
        attribute_to_layer_input : bool, default False
        perturbations_per_eval : int >= 1
            captum's argument, checked; ``batch_size`` sets the rows per call, and batching
            never changes the values.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            The layer tensors' shapes ``(N, ...)``, in the dtype of the model's output.
        """
        to_input = _to_input(attribute_to_layer_input)
        check_int(perturbations_per_eval, "perturbations_per_eval", 1)
        with _autograd(), torch.no_grad():
            xs, _ = _check_inputs(inputs, floating=False)
            call = _Call(self.forward_func, additional_forward_args, None, len(xs[0]), None)
            acts = _layer_values(self, call, xs, to_input)[0]
        L, layers, model = len(acts), self._layers, self.forward_func
        rest = _after_layer(model, layers, to_input) if not call.args and L == 1 else None

        def replaced(*args):
            if rest is not None:  # only what follows the layer: what precedes it is unused
                return rest(args[0].clone())  # an in-place op must not write the engine's rows
            with _LayerHooks(layers, to_input, "replace", [args[:L]], model):
                return model(*args[L:])

        ablation = FeatureAblation(replaced, batch_size=self.batch_size)
        out = ablation.attribute(
            tuple(acts),
            baselines=layer_baselines,
            target=target,
            additional_forward_args=None if rest is not None else xs + call.args,
            feature_mask=layer_mask,
            perturbations_per_eval=perturbations_per_eval,
        )
        return _formatted([out], False)


def _after_layer(model, layers, to_input):
    """The modules of an ``nn.Sequential`` from just after ``layers[0]`` (from it, for its
    input) to the end, as one ``nn.Sequential``; ``None`` unless ``model`` is a plain
    ``nn.Sequential``, the one layer is one of its children, and neither they nor all modules
    (global hooks) have hooks. Running them on the replaced tensor gives what the whole model
    gives with the layer replaced."""
    if len(layers) != 1 or getattr(type(model), "forward", None) is not torch.nn.Sequential.forward:
        return None
    layer = layers[0]
    hooked = (
        model._forward_hooks, model._forward_pre_hooks, layer._forward_hooks,
        layer._forward_pre_hooks, torch.nn.modules.module._global_forward_hooks,
        torch.nn.modules.module._global_forward_pre_hooks,
    )  # fmt: skip
    if not isinstance(model, torch.nn.Sequential) or any(hooked):
        return None
    children = list(model)
    hits = [i for i, m in enumerate(children) if m is layer]
    if len(hits) != 1:
        return None
    start = hits[0] if to_input else hits[0] + 1
    return torch.nn.Sequential(*children[start:])
