"""The layer rules of :class:`~xai_fast.explainers.propagation.LRP`, with captum's names.

Set one on a layer as ``model.layer.rule = GammaRule()``; layers without a rule get
:class:`EpsilonRule` (linear, convolution, pooling, batch norm) or pass the relevance through
(ReLU, Dropout, Tanh). A rule never writes to the layer: the rules that change weights
(:class:`GammaRule`, :class:`Alpha1_Beta0_Rule`) return new tensors that the layer is
evaluated with during the relevance pass, and the model's parameters stay as they are.

For a layer ``z = f(a)`` with relevance ``R`` at its output, every rule but the identity
gives its input ``a`` the relevance

    ``R_a = a * J_f'(a)^T (R / (z' + eps * sign(z')))``

where ``f'`` is the layer with the rule's parameters, ``z' = f'(a)`` and ``sign(0) = 1``.
"""

from __future__ import annotations

import torch

from ..._validation import check_flag, check_real

__all__ = ["Alpha1_Beta0_Rule", "EpsilonRule", "GammaRule", "IdentityRule", "PropagationRule"]


class PropagationRule:
    """Base class of the LRP rules (captum's name).

    A subclass may override :meth:`modified_parameters` to evaluate the layer with other
    weights during the relevance pass. ``STABILITY_FACTOR`` is the ``eps`` added to the
    layer's output (with its sign) before dividing by it.
    """

    STABILITY_FACTOR = 1e-9
    #: the relevance at the output goes to every input unchanged (IdentityRule)
    passes_relevance = False

    def modified_parameters(self, module: torch.nn.Module) -> dict[str, torch.Tensor]:
        """New tensors for the parameters of ``module`` this rule changes, by name.

        Parameters
        ----------
        module : torch.nn.Module
            The layer the rule is set on; never modified.

        Returns
        -------
        dict of str to torch.Tensor
            Empty when the layer is evaluated as it is.
        """
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _bias_dropped(module, out: dict, drop: bool) -> dict:
    bias = getattr(module, "bias", None)
    if drop and isinstance(bias, torch.Tensor):
        out["bias"] = torch.zeros_like(bias.detach())
    return out


def _weight(module):
    w = getattr(module, "weight", None)
    return w.detach() if isinstance(w, torch.Tensor) else None


class EpsilonRule(PropagationRule):
    """``eps`` added to the layer's outputs (with their sign) before dividing: relevance
    absorbed where they are small; for middle layers.

    Parameters
    ----------
    epsilon : float, default 1e-9
        ``>= 0``; ``0`` divides by the outputs themselves (zero outputs give inf or nan).
    """

    def __init__(self, epsilon=1e-9) -> None:
        self.STABILITY_FACTOR = check_real(epsilon, "EpsilonRule epsilon", minimum=0.0)

    @property
    def epsilon(self) -> float:
        return self.STABILITY_FACTOR

    def __repr__(self) -> str:
        return f"EpsilonRule(epsilon={self.STABILITY_FACTOR!r})"


class GammaRule(PropagationRule):
    """Weights ``w + gamma * max(w, 0)``: more weight to positive contributions; for lower
    layers.

    Parameters
    ----------
    gamma : float, default 0.25
        ``>= 0``; how much the positive weights are enlarged.
    set_bias_to_zero : bool, default False
        Evaluate the layer without its bias.
    """

    def __init__(self, gamma=0.25, set_bias_to_zero=False) -> None:
        self.gamma = check_real(gamma, "GammaRule gamma", minimum=0.0)
        self.set_bias_to_zero = check_flag(set_bias_to_zero, "set_bias_to_zero")

    def modified_parameters(self, module):
        w = _weight(module)
        out = {} if w is None else {"weight": w + self.gamma * w.clamp(min=0)}
        return _bias_dropped(module, out, self.set_bias_to_zero)

    def __repr__(self) -> str:
        return f"GammaRule(gamma={self.gamma!r}, set_bias_to_zero={self.set_bias_to_zero})"


class Alpha1_Beta0_Rule(PropagationRule):  # noqa: N801 - captum's name
    """Weights ``max(w, 0)``: only positive contributions propagate (deep Taylor); for lower
    layers. Not meant for batch norm, whose weight is a scale.

    Parameters
    ----------
    set_bias_to_zero : bool, default False
        Evaluate the layer without its bias.
    """

    def __init__(self, set_bias_to_zero=False) -> None:
        self.set_bias_to_zero = check_flag(set_bias_to_zero, "set_bias_to_zero")

    def modified_parameters(self, module):
        w = _weight(module)
        out = {} if w is None else {"weight": w.clamp(min=0)}
        return _bias_dropped(module, out, self.set_bias_to_zero)

    def __repr__(self) -> str:
        return f"Alpha1_Beta0_Rule(set_bias_to_zero={self.set_bias_to_zero})"


class IdentityRule(EpsilonRule):
    """The relevance at the layer's output goes to its input unchanged; the layer must keep
    the shape of its input (e.g. batch norm)."""

    passes_relevance = True

    def __init__(self) -> None:
        super().__init__()

    def __repr__(self) -> str:
        return "IdentityRule()"
