"""A layer's activations and their gradients: :class:`LayerActivation` and
:class:`LayerGradientXActivation` (one forward, and one backward, of the inputs)."""

from __future__ import annotations

from ..._validation import check_flag
from ..gradient._base import _InputMultiplier
from ._base import (
    _check_grad_kwargs,
    _layer_gradients,
    _layer_values,
    _LayerAttribution,
    _to_input,
)

__all__ = ["LayerActivation", "LayerGradientXActivation"]


class LayerActivation(_LayerAttribution):
    """The layer's output (or positional inputs) on the inputs, as ``captum.attr.LayerActivation``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
    layer : torch.nn.Module or list of torch.nn.Module
        Submodules that each run exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        captum's argument for ``DataParallel`` models, accepted.
    """

    _MANY = True
    _FLOATING = False

    @property
    def multiplies_by_inputs(self) -> bool:
        return True

    def attribute(self, inputs, additional_forward_args=None, attribute_to_layer_input=False):
        """The layers' activations.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype (token ids for an embedding layer, say).
        additional_forward_args : any or tuple, optional
            Passed to ``forward_func`` after the inputs.
        attribute_to_layer_input : bool, default False
            The layer's positional tensor inputs instead of its output.

        Returns
        -------
        torch.Tensor, tuple of torch.Tensor, or a list of them
            ``(N, ...)`` per layer tensor; a tuple for a layer with several tensors; a list
            (one entry per layer) when ``layer`` is a list.
        """
        options = dict(to_input=_to_input(attribute_to_layer_input))
        return self._attribute(inputs, None, None, additional_forward_args, options)

    def _run(self, xs, bs, call, delta, rngs, to_input):
        return _layer_values(self, call, xs, to_input), None


class LayerGradientXActivation(_InputMultiplier, _LayerAttribution):
    """Gradient of the targeted output with respect to the layer, times the layer's values
    (captum's ``LayerGradientXActivation``); one forward and one backward of the inputs.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on.
    layer : torch.nn.Module or list of torch.nn.Module
        Submodules that each run exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    multiply_by_inputs : bool, default True
        ``False`` returns the layer gradients alone.
    memory_efficient : bool, default False
        captum's argument (moving layer tensors to the CPU early); accepted, results equal.
    """

    _MANY = True
    _FLOATING = False

    def __init__(
        self,
        forward_func,
        layer,
        device_ids=None,
        multiply_by_inputs=True,
        memory_efficient=False,
    ):
        super().__init__(forward_func, layer, device_ids)
        self._set_multiply_by_inputs(multiply_by_inputs)
        self._memory_efficient = check_flag(memory_efficient, "memory_efficient")

    def attribute(
        self,
        inputs,
        target=None,
        additional_forward_args=None,
        attribute_to_layer_input=False,
        grad_kwargs=None,
    ):
        """Layer gradients times layer activations.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype (gradients are taken at the layer only).
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
        attribute_to_layer_input : bool, default False
        grad_kwargs : dict, optional
            Extra keyword arguments of ``torch.autograd.grad``.

        Returns
        -------
        torch.Tensor, tuple of torch.Tensor, or a list of them
            The layer tensors' shapes ``(N, ...)``, as :class:`LayerActivation`.
        """
        options = dict(
            to_input=_to_input(attribute_to_layer_input),
            grad_kwargs=_check_grad_kwargs(grad_kwargs),
        )
        return self._attribute(inputs, None, target, additional_forward_args, options)

    def _run(self, xs, bs, call, delta, rngs, to_input, grad_kwargs):
        grads, values = _layer_gradients(self, call, xs, to_input, grad_kwargs)
        if not self._multiply_by_inputs:
            return grads, None
        out = [
            tuple(g * a for g, a in zip(gs, vs, strict=True))
            for gs, vs in zip(grads, values, strict=True)
        ]
        return out, None
