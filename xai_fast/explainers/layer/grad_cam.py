"""GradCAM of a layer: :class:`LayerGradCam`, which hooks the layer (``_hooks``), keeps its
output (or input) and weights its channels by their spatially averaged gradients.
"""

from __future__ import annotations

import torch

from ..._validation import check_flag
from ..gradient._base import _GradientAttribution
from ._base import _check_grad_kwargs, _layer_gradients, _set_layer

__all__ = ["LayerGradCam"]


class LayerGradCam(_GradientAttribution):
    """GradCAM of a layer: channel weights = gradients averaged over the spatial axes.

    The layer hooks keep its output (or input) and hand a clone to the rest of the model, so
    in-place operations downstream cannot change it; the result is
    ``sum_c mean_{spatial}(dy/dA_c) * A_c`` with a channel axis of size 1, per layer tensor.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on; see :class:`IntegratedGradients`.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    """

    def __init__(self, forward_func, layer, device_ids=None):
        super().__init__(forward_func)
        _set_layer(self, layer, device_ids)

    def attribute(
        self,
        inputs,
        target=None,
        additional_forward_args=None,
        attribute_to_layer_input=False,
        relu_attributions=False,
        attr_dim_summation=True,
        grad_kwargs=None,
    ):
        """GradCAM maps of the layer's output (or input).

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype (gradients are taken at the layer only).
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
        attribute_to_layer_input : bool, default False
            Use the layer's positional inputs instead of its output.
        relu_attributions : bool, default False
            Clip the maps at 0.
        attr_dim_summation : bool, default True
            Sum over the channel axis; ``False`` keeps one map per channel.
        grad_kwargs : dict, optional
            Extra keyword arguments of ``torch.autograd.grad`` (e.g. ``materialize_grads``).

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            ``(N, 1, ...)`` per layer tensor ``(N, C, ...)`` (``(N, C, ...)`` without summation),
            in the layer's dtype; a tuple when the layer has several output tensors.
        """
        options = self._options(
            attribute_to_layer_input, relu_attributions, attr_dim_summation, grad_kwargs
        )
        return self._attribute(
            inputs, None, target, additional_forward_args, options, floating=False
        )

    def _options(
        self,
        attribute_to_layer_input=False,
        relu_attributions=False,
        attr_dim_summation=True,
        grad_kwargs=None,
    ) -> dict:
        return dict(
            to_input=check_flag(attribute_to_layer_input, "attribute_to_layer_input"),
            relu=check_flag(relu_attributions, "relu_attributions"),
            summation=check_flag(attr_dim_summation, "attr_dim_summation"),
            grad_kwargs=_check_grad_kwargs(grad_kwargs),
        )

    def _output_is_tuple(self, inputs_tuple: bool, attrs) -> bool:
        return len(attrs) > 1

    def _run(self, xs, bs, call, delta, rngs, to_input, relu, summation, grad_kwargs):
        what = "input" if to_input else "output"
        grads, acts = _layer_gradients(self, call, xs, to_input, grad_kwargs)
        maps = []
        for a, g in zip(acts[0], grads[0], strict=True):
            if a.dim() < 2:
                raise ValueError(
                    f"the layer's {what} has shape {tuple(a.shape)}; GradCAM needs a channel axis "
                    "after the batch axis, (N, C, ...)."
                )
            if g.dim() > 2:
                g = g.mean(dim=tuple(range(2, g.dim())), keepdim=True)
            cam = g * a
            if summation:
                cam = cam.sum(1, keepdim=True)
            maps.append(torch.relu(cam) if relu else cam)
        return tuple(maps), None
