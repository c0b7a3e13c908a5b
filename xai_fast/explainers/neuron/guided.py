"""Guided backpropagation and deconvolution of one neuron: :class:`NeuronGuidedBackprop` and
:class:`NeuronDeconvolution`, the ReLU modes of :mod:`xai_fast.explainers.propagation.guided`
on the neuron's forward.
"""

from __future__ import annotations

from ..propagation.guided import Deconvolution, GuidedBackprop
from ._base import _NeuronAttribution

__all__ = ["NeuronDeconvolution", "NeuronGuidedBackprop"]


class NeuronGuidedBackprop(_NeuronAttribution):
    """Gradient of one neuron of a layer with every ReLU before it passing back only positive
    gradients where its input was positive (captum's ``NeuronGuidedBackprop``).

    Parameters
    ----------
    model : torch.nn.Module or callable
    layer : torch.nn.Module
        A submodule that runs exactly once per forward.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    """

    _INNER = GuidedBackprop

    def __init__(self, model, layer, device_ids=None):
        super().__init__(model, layer, device_ids)
        self.model = model

    def attribute(
        self, inputs, neuron_selector, additional_forward_args=None, attribute_to_neuron_input=False
    ):
        """Modified gradients of the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        neuron_selector : int, tuple of int / slice, or callable
            As in :meth:`~xai_fast.NeuronGradient.attribute`.
        additional_forward_args : any or tuple, optional
        attribute_to_neuron_input : bool, default False

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        neuron = self._neuron(neuron_selector, attribute_to_neuron_input, total=True)
        return self._INNER(neuron).attribute(
            inputs, additional_forward_args=additional_forward_args
        )


class NeuronDeconvolution(NeuronGuidedBackprop):
    """Gradient of one neuron of a layer with every ReLU before it passing back only the
    positive part of its gradient (captum's ``NeuronDeconvolution``).

    Parameters
    ----------
    model, layer, device_ids
        As in :class:`NeuronGuidedBackprop`.
    """

    _INNER = Deconvolution
