"""GradCAM of a layer: :class:`LayerGradCam`, which hooks the layer, keeps its output (or input)
and weights its channels by their spatially averaged gradients.
"""

from __future__ import annotations

import torch

from ..._validation import check_flag
from ._base import _GradientAttribution
from ._call import _differentiable

__all__ = ["LayerGradCam"]


class LayerGradCam(_GradientAttribution):
    """GradCAM of a layer: channel weights = gradients averaged over the spatial axes.

    A forward hook on ``layer`` keeps its output (or input) and hands a clone to the rest of the
    model, so in-place operations downstream cannot change it; the result is
    ``sum_c mean_{spatial}(dy/dA_c) * A_c`` with a channel axis of size 1, per layer tensor.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on; see :class:`IntegratedGradients`.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    """

    def __init__(self, forward_func, layer):
        super().__init__(forward_func)
        if not isinstance(layer, torch.nn.Module):
            raise TypeError(
                f"layer must be a torch.nn.Module of the model (e.g. model.conv2); got "
                f"{type(layer).__name__}."
            )
        self.layer = layer

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
        if grad_kwargs is not None and not (
            isinstance(grad_kwargs, dict) and all(isinstance(k, str) for k in grad_kwargs)
        ):
            raise TypeError(
                "grad_kwargs must be None or a dict of torch.autograd.grad keyword arguments; "
                f"got {type(grad_kwargs).__name__}."
            )
        return dict(
            to_input=check_flag(attribute_to_layer_input, "attribute_to_layer_input"),
            relu=check_flag(relu_attributions, "relu_attributions"),
            summation=check_flag(attr_dim_summation, "attr_dim_summation"),
            grad_kwargs={"allow_unused": True, **(grad_kwargs or {})},
        )

    def _output_is_tuple(self, inputs_tuple: bool, attrs) -> bool:
        return len(attrs) > 1

    def _run(self, xs, bs, call, delta, rngs, to_input, relu, summation, grad_kwargs):
        saved = []
        what = "input" if to_input else "output"

        def keep(tensors):
            for t in tensors:
                if not isinstance(t, torch.Tensor) or not t.is_floating_point():
                    kind = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
                    raise TypeError(
                        f"GradCAM needs floating-point tensors at the layer's {what}; got {kind}. "
                        "Pick a layer whose positional inputs / outputs are float tensors."
                    )
                if not t.requires_grad:  # e.g. frozen parameters and constant inputs
                    t.requires_grad_()
            saved.append(tuple(tensors))
            return tuple(t.clone() for t in tensors)

        if to_input:
            handle = self.layer.register_forward_pre_hook(lambda module, args: keep(args))
        else:

            def hook(module, args, out):
                if isinstance(out, torch.Tensor):
                    return keep((out,))[0]
                if isinstance(out, (tuple, list)):
                    return type(out)(keep(out))
                raise TypeError(
                    f"the layer returned {type(out).__name__}; GradCAM needs a tensor or a tuple "
                    "of tensors."
                )

            handle = self.layer.register_forward_hook(hook)
        try:
            y = call(xs)
        finally:
            handle.remove()
        if len(saved) != 1:
            raise ValueError(
                f"layer ran {len(saved)} times in one call of forward_func; GradCAM needs a "
                "submodule that runs exactly once (pass a layer the forward pass uses, and a "
                "separate module instance for each use)."
            )
        _differentiable(y)
        acts = saved[0]
        grads = torch.autograd.grad(y.sum(), acts, **grad_kwargs)
        maps = []
        for a, g in zip(acts, grads, strict=True):
            if a.dim() < 2:
                raise ValueError(
                    f"the layer's {what} has shape {tuple(a.shape)}; GradCAM needs a channel axis "
                    "after the batch axis, (N, C, ...)."
                )
            g = torch.zeros_like(a) if g is None else g
            if g.dim() > 2:
                g = g.mean(dim=tuple(range(2, g.dim())), keepdim=True)
            cam = g * a.detach()
            if summation:
                cam = cam.sum(1, keepdim=True)
            maps.append(torch.relu(cam) if relu else cam)
        return tuple(maps), None
