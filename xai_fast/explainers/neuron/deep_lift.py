"""DeepLIFT of one neuron: :class:`NeuronDeepLift` and :class:`NeuronDeepLiftShap`, the rules
of :mod:`xai_fast.explainers.propagation` on the neuron's forward (the model run up to the
layer, the neuron selected), so the attributions add up to ``n(x) - n(baseline)``.
"""

from __future__ import annotations

from ..gradient._base import _InputMultiplier
from ..propagation.deep_lift import DeepLift, DeepLiftShap, _check_eps
from ._base import _NeuronAttribution

__all__ = ["NeuronDeepLift", "NeuronDeepLiftShap"]


class NeuronDeepLift(_InputMultiplier, _NeuronAttribution):
    """DeepLIFT (rescale rule) attributions of one neuron of a layer against one baseline per
    example (captum's ``NeuronDeepLift``).

    Parameters
    ----------
    model : torch.nn.Module or callable
        Batch norm and dropout in eval mode; see :class:`~xai_fast.DeepLift`.
    layer : torch.nn.Module
        A submodule that runs exactly once per forward.
    multiply_by_inputs : bool, default True
        ``False`` returns the multipliers alone.
    eps : float, default 1e-10, keyword-only
        As in :class:`~xai_fast.DeepLift`.
    """

    # its rules' mode starts inside the model call, after the rows' layout would change: rows
    # handed over channels-last would reach it untracked
    _FAST_LAYOUT = False

    _INNER = DeepLift

    def __init__(self, model, layer, multiply_by_inputs=True, *, eps=1e-10):
        super().__init__(model, layer)
        self.model = model
        self._set_multiply_by_inputs(multiply_by_inputs)
        self.eps = _check_eps(eps)

    def attribute(
        self,
        inputs,
        neuron_selector,
        baselines=None,
        additional_forward_args=None,
        attribute_to_neuron_input=False,
        custom_attribution_func=None,
        *,
        internal_batch_size=None,
    ):
        """DeepLIFT attributions of the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        neuron_selector : int, tuple of int / slice, or callable
            As in :meth:`~xai_fast.NeuronGradient.attribute`.
        baselines : None, scalar, tensor or tuple of them
            As in :meth:`DeepLift.attribute`.
        additional_forward_args : any or tuple, optional
        attribute_to_neuron_input : bool, default False
        custom_attribution_func : callable, optional
            ``f(multipliers)``, ``f(multipliers, inputs)`` or ``f(multipliers, inputs,
            baselines)`` (tuples of ``(N, ...)`` tensors) returning the attributions.
        internal_batch_size : int, optional, keyword-only
            Examples per pass.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        neuron = self._neuron(neuron_selector, attribute_to_neuron_input)
        inner = self._INNER(neuron, self._multiply_by_inputs, eps=self.eps)
        return inner.attribute(
            inputs,
            baselines,
            additional_forward_args=additional_forward_args,
            custom_attribution_func=custom_attribution_func,
            internal_batch_size=internal_batch_size,
        )


class NeuronDeepLiftShap(NeuronDeepLift):
    """NeuronDeepLift against every row of a baseline distribution, averaged (captum's
    ``NeuronDeepLiftShap``); all ``N * M`` (example, baseline) pairs are stacked and run in
    chunks.

    Parameters
    ----------
    model, layer, multiply_by_inputs, eps
        As in :class:`NeuronDeepLift`.
    """

    _INNER = DeepLiftShap

    def attribute(
        self,
        inputs,
        neuron_selector,
        baselines,
        additional_forward_args=None,
        attribute_to_neuron_input=False,
        custom_attribution_func=None,
        *,
        internal_batch_size=None,
    ):
        """NeuronDeepLift against each background row, averaged over the rows.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        neuron_selector : int, tuple of int / slice, or callable
        baselines : torch.Tensor, tuple of them, or callable
            Background examples ``(M, ...)``, as in :meth:`DeepLiftShap.attribute`.
        additional_forward_args, attribute_to_neuron_input, custom_attribution_func
            As in :meth:`NeuronDeepLift.attribute` (the custom function gets the pairs).
        internal_batch_size : int, optional, keyword-only
            Pairs per pass.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        return super().attribute(
            inputs,
            neuron_selector,
            baselines,
            additional_forward_args,
            attribute_to_neuron_input,
            custom_attribution_func,
            internal_batch_size=internal_batch_size,
        )
