"""Guided backpropagation and deconvolution: :class:`GuidedBackprop` and :class:`Deconvolution`,
captum's API and numbers, with the modified ReLU gradient on every ReLU the forward runs.

captum hooks ``nn.ReLU`` modules only. Here a torch-function mode (:class:`_ReluRule`) is active
while the model runs; every ``relu`` call on a tensor that depends on the inputs
(``nn.ReLU``, ``F.relu``, ``torch.relu``, ``Tensor.relu``, the in-place ``relu_`` and
``inplace=True`` forms, a module applied twice) runs through an autograd function whose
backward passes on

- guided backpropagation: ``relu(g) * (x > 0)``, the positive gradients where the ReLU is open;
- deconvolution: ``relu(g)``, the positive gradients whatever the sign of ``x``.

Everything else differentiates as usual. Nothing is registered on the model.
"""

from __future__ import annotations

import torch

from ..gradient._base import _GradientAttribution
from ..gradient._call import _gradients
from ._ops import op_name
from ._tracking import _Tracking, flatten_call

__all__ = ["Deconvolution", "GuidedBackprop"]

_RELU = frozenset({"relu", "relu_"})


class _GuidedReLU(torch.autograd.Function):
    """``relu(x)`` forward; backward ``relu(g) * (x > 0)``. In place when ``inplace``."""

    @staticmethod
    def forward(ctx, x, inplace: bool):
        if inplace:
            y = x.relu_()
            ctx.mark_dirty(y)
        else:
            y = torch.relu(x)
        ctx.save_for_backward(y)  # y > 0 exactly where x > 0
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        # relu's own backward (g where y > 0, else 0) in one fused pass, then the positive part
        return torch.ops.aten.threshold_backward(g, y, 0).clamp_min_(0), None


class _DeconvReLU(torch.autograd.Function):
    """``relu(x)`` forward; backward ``relu(g)``. In place when ``inplace``."""

    @staticmethod
    def forward(ctx, x, inplace: bool):
        if inplace:
            y = x.relu_()
            ctx.mark_dirty(y)
            return y
        return torch.relu(x)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        return g.clamp_min(0), None


def _in_place(name: str) -> bool:
    """Whether the operation ``name`` writes into its first operand (``add_``, ``__iadd__``)."""
    if name == "__setitem__":
        return True
    if name.startswith("__"):
        return name.startswith("__i") and name.endswith("__")
    return name.endswith("_")


class _ReluRule(_Tracking):
    """The mode of one forward: ``relu`` calls on tensors that depend on ``rows`` run through
    ``rule`` (:class:`_GuidedReLU` or :class:`_DeconvReLU`); every other call runs as it is,
    its outputs (and an in-place call's first operand) marked as depending on the rows."""

    def __init__(self, rows, rule):
        super().__init__(rows)
        self.rule = rule

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not any(self.varies(a) for a in flatten_call(args, kwargs)[0]):
            return func(*args, **kwargs)
        name = op_name(func)
        if name in _RELU and "out" not in kwargs:
            out = self._relu(name, args, kwargs)
        else:
            out = func(*args, **kwargs)
            if args and isinstance(args[0], torch.Tensor) and _in_place(name):
                self._mark(args[0])
            self._mark(kwargs.get("out"))
        self._mark(out)
        return out

    def _relu(self, name: str, args, kwargs):
        # torch.relu(input), Tensor.relu(self), F.relu(input, inplace=False) and the relu_ forms
        x = args[0] if args else kwargs.get("input", kwargs.get("self"))
        flag = kwargs.get("inplace", args[1] if len(args) > 1 else False)
        return self.rule.apply(x, name == "relu_" or bool(flag))


class _ModifiedReluGradient(_GradientAttribution):
    """Gradients with the ReLU rule ``_RULE`` on every ReLU of the forward."""

    _RULE: type[torch.autograd.Function] = _GuidedReLU

    def __init__(self, model):
        super().__init__(model)
        self.model = model

    def attribute(self, inputs, target=None, additional_forward_args=None):
        """Gradients of the targeted output with the modified ReLU backward.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating point, the examples on axis 0 (the same ``N`` for every tensor).
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
            The output index to explain; ``None`` when the model returns one value per example.
        additional_forward_args : any or tuple, optional
            Passed to the model after the inputs, unchanged.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``; a tuple when ``inputs`` is one.
        """
        return self._attribute(inputs, None, target, additional_forward_args, {})

    def _run(self, xs, bs, call, delta, rngs):
        return _modified_gradients(call, xs, self._RULE), None


def _modified_gradients(call, xs, rule) -> tuple[torch.Tensor, ...]:
    """Gradients of ``call`` at the rows ``xs`` (one batch), every ReLU through ``rule``."""

    def forward(rows):
        with _ReluRule(rows, rule):
            return call(rows)

    grads, _ = _gradients(forward, xs)
    return grads


class GuidedBackprop(_ModifiedReluGradient):
    """Guided backpropagation: the gradient with only positive gradients passed back through
    each ReLU, and only where it is open (Springenberg et al., 2014).

    Unlike captum's, the rule applies to every ReLU the forward runs: ``nn.ReLU`` modules,
    functional ``F.relu`` / ``torch.relu`` / ``Tensor.relu``, in-place forms and modules used
    more than once. Without any ReLU the result is the plain gradient.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Takes the input tensors (then ``additional_forward_args``) with the examples on axis 0
        and returns ``(N,)`` or ``(N, ...)`` outputs.
    """

    _RULE = _GuidedReLU


class Deconvolution(_ModifiedReluGradient):
    """Deconvolution (Zeiler and Fergus, 2014): the gradient with each ReLU's backward replaced
    by ``relu`` of its output gradient, whatever the sign of its input.

    As :class:`GuidedBackprop`, the rule applies to every ReLU the forward runs (modules,
    functional and in-place forms, reused modules).

    Parameters
    ----------
    model : torch.nn.Module or callable
        Takes the input tensors (then ``additional_forward_args``) with the examples on axis 0
        and returns ``(N,)`` or ``(N, ...)`` outputs.
    """

    _RULE = _DeconvReLU
