"""Feature ablation of one neuron: :class:`NeuronFeatureAblation`, the engine's
:class:`~xai_fast.FeatureAblation` on the neuron's forward (the model run up to the layer
without gradients): every ablation of every example in batched calls.
"""

from __future__ import annotations

import torch

from ..._validation import check_batch_size
from ..feature_ablation import FeatureAblation
from ._base import _NeuronAttribution

__all__ = ["NeuronFeatureAblation"]


class NeuronFeatureAblation(_NeuronAttribution):
    """Attribution of each input feature (or group of features) to one neuron of a layer:
    ``n(x) - n(x with the feature ablated)`` (captum's ``NeuronFeatureAblation``).

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

    multiplies_by_inputs = True  # captum's flag of perturbation methods

    def __init__(self, forward_func, layer, device_ids=None, *, batch_size=None):
        super().__init__(forward_func, layer, device_ids)
        self.batch_size = check_batch_size(batch_size)  # rows per model call

    def attribute(
        self,
        inputs,
        neuron_selector,
        baselines=None,
        additional_forward_args=None,
        feature_mask=None,
        attribute_to_neuron_input=False,
        perturbations_per_eval=1,
    ):
        """Ablation attributions of the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype (token ids too).
        neuron_selector : int, tuple of int / slice, or callable
            As in :meth:`~xai_fast.NeuronGradient.attribute`.
        baselines : None, scalar, tensor or tuple of them
            The value an ablated feature takes (default 0), as in
            :meth:`~xai_fast.FeatureAblation.attribute`.
        additional_forward_args : any or tuple, optional
        feature_mask : integer tensor or tuple of them, optional
            Elements with the same id are ablated together; default every element alone.
        attribute_to_neuron_input : bool, default False
        perturbations_per_eval : int >= 1
            captum's argument, checked; ``batch_size`` sets the rows per call, and batching
            never changes the values.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``, in the dtype of the neuron.
        """
        neuron = self._neuron(neuron_selector, attribute_to_neuron_input)

        def no_grad_neuron(*args):
            with torch.no_grad():
                return neuron(*args)

        ablation = FeatureAblation(no_grad_neuron, batch_size=self.batch_size)
        return ablation.attribute(
            inputs,
            baselines=baselines,
            additional_forward_args=additional_forward_args,
            feature_mask=feature_mask,
            perturbations_per_eval=perturbations_per_eval,
        )
