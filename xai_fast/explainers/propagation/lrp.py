"""Layer-wise relevance propagation: :class:`LRP`, captum's API and numbers.

LRP is defined layer by layer, so the rules sit on modules: each leaf module of the model gets
the rule in its ``rule`` attribute (see :mod:`.lrp_rules`), or the default for its type. One
forward pass runs with forward hooks on those layers (:class:`._lrp_layers._Hooks`), taken off
again when it ends, also when it raises. Each hooked layer runs on detached copies of its inputs
and hands its own output on through an autograd node whose backward is the layer's rule: the
relevance at its output, divided by the (rule-modified) output, goes back through the layer's
Jacobian and is multiplied by the layer's inputs. Starting from one at the targeted output,
one backward pass over the whole batch then yields the normalized relevance of the inputs,
which is multiplied by the targeted output, as captum returns it.

The model is never written to: rules that change weights evaluate the layer with new tensors
(functionally for linear, convolution and batch-norm layers; through ``torch.func`` for any
other layer), and the forward values are those of the model as it is. Operations between the
layers (reshapes, additions, functional activations) pass the relevance on as their gradient
would.
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import check_flag
from ..gradient._base import _GradientAttribution
from ..gradient._call import _differentiable
from ._lrp_layers import _check_rules, _Hooks, _plan

__all__ = ["LRP"]


class LRP(_GradientAttribution):
    """Layer-wise relevance propagation (captum's ``LRP``).

    Rules are read from the layers at every call: set ``model.<layer>.rule`` to an
    :class:`~.lrp_rules.EpsilonRule`, :class:`~.lrp_rules.GammaRule`,
    :class:`~.lrp_rules.Alpha1_Beta0_Rule` or :class:`~.lrp_rules.IdentityRule`. Without one,
    linear, convolution, pooling and batch-norm layers get ``EpsilonRule()``, while ReLU,
    Dropout and Tanh pass the relevance through unchanged (a rule set on them is not used);
    ``Identity`` and ``Flatten`` only move values. Any other leaf module without a rule raises
    ``TypeError``. A layer that runs several times in a forward pass applies its rule to each
    run, with that run's inputs.

    Parameters
    ----------
    model : torch.nn.Module
        Takes the input tensors (then ``additional_forward_args``) with the examples on
        axis 0; batch norm must be in eval mode.
    """

    def __init__(self, model):
        if not isinstance(model, nn.Module):
            raise TypeError(
                "LRP applies rules to the layers of a model, so it needs a torch.nn.Module; got "
                f"{type(model).__name__}. Wrap the computation in a module whose layers are "
                "submodules."
            )
        super().__init__(model)
        self.model = model
        _check_rules(model)

    @property
    def multiplies_by_inputs(self) -> bool:
        return True

    def has_convergence_delta(self) -> bool:
        return True

    def attribute(
        self,
        inputs,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
        verbose=False,
    ):
        """Relevance of every input element for the targeted output.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating point.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Passed to the model after the inputs, unchanged.
        return_convergence_delta : bool, default False
            Also return ``f(x) - sum(relevance)`` per example (nonzero where epsilon or biases
            absorb relevance).
        verbose : bool, default False
            Print the rule applied to each layer.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``; their sum per example is close to the targeted output.
        delta : torch.Tensor, shape (N,)
            Only with ``return_convergence_delta=True``.
        """
        options = self._options(verbose)
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(inputs, None, target, additional_forward_args, options, with_delta)

    def _options(self, verbose=False) -> dict:
        return dict(verbose=check_flag(verbose, "verbose"))

    def _run(self, xs, bs, call, delta, rngs, verbose):
        plan = _plan(self.model)
        rows = tuple(x.detach().requires_grad_() for x in xs)
        hooks = _Hooks(plan, verbose)
        try:
            with hooks:
                y = call(rows)
        except Exception:
            if hooks.error is not None:  # a rule's own error, not the model's
                raise hooks.error from None
            raise
        _differentiable(y)
        grads = torch.autograd.grad(y.sum(), rows, allow_unused=True)
        y = y.detach()
        attrs = tuple(
            (torch.zeros_like(r) if g is None else g.detach())
            * y.reshape((-1,) + (1,) * (r.dim() - 1))
            for r, g in zip(rows, grads, strict=True)
        )
        return attrs, (self._delta(attrs, y) if delta else None)

    @staticmethod
    def _delta(attrs, output) -> torch.Tensor:
        N = attrs[0].shape[0]
        return output.reshape(-1) - sum(a.reshape(N, -1).sum(1) for a in attrs)

    def compute_convergence_delta(self, attributions, output):
        """``output - sum(attributions)`` per example: the relevance LRP did not conserve.

        Parameters
        ----------
        attributions : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        output : torch.Tensor, N elements
            The targeted output of each example, e.g. shape ``(N,)`` or ``(N, 1)``.

        Returns
        -------
        torch.Tensor, shape (N,)
        """
        attrs = attributions if isinstance(attributions, tuple) else (attributions,)
        if not attrs or any(not isinstance(a, torch.Tensor) or a.dim() == 0 for a in attrs):
            got = [type(a).__name__ for a in attrs]
            raise TypeError(
                f"attributions must be a tensor or a tuple of tensors of shape (N, ...); got {got}."
            )
        N = attrs[0].shape[0]
        if any(a.shape[0] != N for a in attrs):
            raise ValueError(
                "attributions must hold the same number of examples on axis 0; got shapes "
                f"{[tuple(a.shape) for a in attrs]}."
            )
        if not isinstance(output, torch.Tensor) or output.numel() != N:
            what = getattr(output, "shape", type(output).__name__)
            what = tuple(what) if isinstance(what, torch.Size) else what
            raise ValueError(
                f"output must be a tensor with one targeted output per example ({N}); got {what}."
            )
        return self._delta(attrs, output)
