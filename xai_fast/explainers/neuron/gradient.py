"""Gradient methods of one neuron: :class:`NeuronGradient`, :class:`NeuronIntegratedGradients`
and :class:`NeuronGradientShap`, the input methods on the neuron's forward (``_base.py``).

All path points (or noisy copies) of all examples go through the neuron's forward in one
batch, or in chunks of ``internal_batch_size`` rows; the model stops at the layer.
"""

from __future__ import annotations

from ..._validation import check_seed
from ..gradient._base import _InputMultiplier
from ..gradient.gradient_shap import GradientShap
from ..gradient.integrated_gradients import IntegratedGradients
from ..gradient.saliency import Saliency
from ._base import _NeuronAttribution

__all__ = ["NeuronGradient", "NeuronGradientShap", "NeuronIntegratedGradients"]


class NeuronGradient(_NeuronAttribution):
    """Gradient of one neuron of a layer with respect to the inputs (captum's
    ``NeuronGradient``).

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable up to ``layer``.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    """

    def attribute(
        self,
        inputs,
        neuron_selector,
        additional_forward_args=None,
        attribute_to_neuron_input=False,
    ):
        """Gradients of the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        neuron_selector : int, tuple of int / slice, or callable
            The neuron, per example: an int (layer tensor ``(N, k)``), one index per axis of
            the layer tensor after the batch axis (slices select several neurons, which are
            summed), or a callable taking the layer's tensor (a tuple when it has several)
            and returning one value per example ``(N,)`` (or one value for the whole batch,
            such as ``torch.sum(x)``, whose gradient is then taken, as in captum).
        additional_forward_args : any or tuple, optional
            Passed to the model after the inputs.
        attribute_to_neuron_input : bool, default False
            Select the neuron among the layer's positional inputs instead of its output.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        neuron = self._neuron(neuron_selector, attribute_to_neuron_input, total=True)
        return Saliency(neuron).attribute(
            inputs, abs=False, additional_forward_args=additional_forward_args
        )


class NeuronIntegratedGradients(_InputMultiplier, _NeuronAttribution):
    """Integrated gradients of one neuron of a layer (captum's ``NeuronIntegratedGradients``):
    ``(x - b) * integral_0^1 d n / dx (b + alpha (x - b)) d alpha`` for the neuron ``n``; the
    attributions add up to ``n(x) - n(b)``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable up to ``layer``.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    multiply_by_inputs : bool, default True
        ``False`` returns the integrated gradients without the factor ``x - b``.
    """

    def __init__(self, forward_func, layer, device_ids=None, multiply_by_inputs=True):
        super().__init__(forward_func, layer, device_ids)
        self._set_multiply_by_inputs(multiply_by_inputs)

    def attribute(
        self,
        inputs,
        neuron_selector,
        baselines=None,
        additional_forward_args=None,
        n_steps=50,
        method="gausslegendre",
        internal_batch_size=None,
        attribute_to_neuron_input=False,
    ):
        """Integrated gradients of the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        neuron_selector : int, tuple of int / slice, or callable
            As in :meth:`NeuronGradient.attribute`.
        baselines : None, scalar, tensor or tuple of them
            Start of the path (``None``: zeros), per input tensor: a scalar, one example, a
            batch of one or one per example.
        additional_forward_args : any or tuple, optional
            Tensors with a batch axis are gathered per path point.
        n_steps : int, default 50
        method : str, default "gausslegendre"
            A quadrature rule of :data:`~xai_fast.explainers.gradient.METHODS`.
        internal_batch_size : int, optional
            Rows (path points) per forward; default all ``n_steps * N`` on an
            accelerator, chunks of about ``2**19`` input values on the CPU.
        attribute_to_neuron_input : bool, default False

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        neuron = self._neuron(neuron_selector, attribute_to_neuron_input, total=True)
        return IntegratedGradients(neuron, self._multiply_by_inputs).attribute(
            inputs,
            baselines,
            additional_forward_args=additional_forward_args,
            n_steps=n_steps,
            method=method,
            internal_batch_size=internal_batch_size,
        )


class NeuronGradientShap(_InputMultiplier, _NeuronAttribution):
    """GradientShap of one neuron of a layer (captum's ``NeuronGradientShap``): each of
    ``n_samples`` copies of an example adds Gaussian noise (``stdevs``), draws a baseline row
    and a point ``u ~ U(0, 1)`` between them, and contributes ``(x_noisy - b) * dn/dx (b + u
    (x_noisy - b))``; the copies are averaged. Randomness as in :class:`~xai_fast.GradientShap`
    (``seed=None``: captum's draws from the global generators).

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable up to ``layer``.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    multiply_by_inputs : bool, default True
        ``False`` averages the gradients without the factor ``x_noisy - b``.
    seed : int, numpy Generator, torch.Generator or None, keyword-only
        As in :class:`~xai_fast.GradientShap`: an int makes every call reproducible.
    """

    def __init__(self, forward_func, layer, device_ids=None, multiply_by_inputs=True, *, seed=None):
        super().__init__(forward_func, layer, device_ids)
        self._set_multiply_by_inputs(multiply_by_inputs)
        self.seed = check_seed(seed, torch_generator=True)

    def attribute(
        self,
        inputs,
        neuron_selector,
        baselines,
        n_samples=5,
        stdevs=0.0,
        additional_forward_args=None,
        attribute_to_neuron_input=False,
    ):
        """GradientShap values of the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        neuron_selector : int, tuple of int / slice, or callable
            As in :meth:`NeuronGradient.attribute`.
        baselines : torch.Tensor, tuple of them, or callable
            Background examples ``(M, ...)``, as in :meth:`GradientShap.attribute`.
        n_samples : int, default 5
            Random copies per example.
        stdevs : float or tuple of float, default 0.0
            Standard deviation of the noise, per input tensor.
        additional_forward_args : any or tuple, optional
        attribute_to_neuron_input : bool, default False

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        neuron = self._neuron(neuron_selector, attribute_to_neuron_input, total=True)
        gs = GradientShap(neuron, self._multiply_by_inputs, seed=self.seed)
        return gs.attribute(
            inputs,
            baselines,
            n_samples=n_samples,
            stdevs=stdevs,
            additional_forward_args=additional_forward_args,
        )
