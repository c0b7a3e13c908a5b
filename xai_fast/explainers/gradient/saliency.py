"""Plain gradient attributions: :class:`Saliency` (the gradient, absolute by default) and
:class:`InputXGradient` (input times gradient), each one gradient evaluation per example.
"""

from __future__ import annotations

from ..._validation import check_flag
from ._base import _GradientAttribution
from ._call import _gradients

__all__ = ["InputXGradient", "Saliency"]


class Saliency(_GradientAttribution):
    """Gradients of the targeted output with respect to the inputs (absolute by default).

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable; see :class:`IntegratedGradients`.
    """

    def attribute(self, inputs, target=None, abs=True, additional_forward_args=None):
        """Gradient, or its absolute value, at every input element.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        abs : bool, default True
            Return ``|gradient|``.
        additional_forward_args : any or tuple, optional
            Passed to ``forward_func`` after the inputs, unchanged.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``.
        """
        options = self._options(abs)
        return self._attribute(inputs, None, target, additional_forward_args, options)

    def _options(self, abs=True) -> dict:
        return dict(absolute=check_flag(abs, "abs"))

    def _run(self, xs, bs, call, delta, rngs, absolute):
        grads, _ = _gradients(call, xs)
        return (tuple(g.abs() for g in grads) if absolute else grads), None


class InputXGradient(_GradientAttribution):
    """Input times the gradient of the targeted output.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable; see :class:`IntegratedGradients`.
    """

    @property
    def multiplies_by_inputs(self) -> bool:
        return True

    def attribute(self, inputs, target=None, additional_forward_args=None):
        """``x * grad f(x)`` at every input element.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes and dtypes of ``inputs``.
        """
        return self._attribute(inputs, None, target, additional_forward_args, {})

    def _run(self, xs, bs, call, delta, rngs):
        grads, _ = _gradients(call, xs)
        return tuple(x * g for x, g in zip(xs, grads, strict=True)), None
