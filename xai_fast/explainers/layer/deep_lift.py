"""DeepLIFT at a layer: :class:`LayerDeepLift` and :class:`LayerDeepLiftShap`, on the passes of
:mod:`xai_fast.explainers.propagation` (the rules follow the operations the forward runs), with
the multipliers taken with respect to the layer's output or positional inputs.
"""

from __future__ import annotations

import torch

from ..._validation import check_flag
from ..gradient._call import _delta_apart
from ..propagation._passes import _multipliers
from ..propagation.deep_lift import DeepLift, _attributions, _one_baseline
from ._base import _set_layer, _to_input

__all__ = ["LayerDeepLift", "LayerDeepLiftShap"]


class LayerDeepLift(DeepLift):
    """DeepLIFT (rescale rule) attributions of a layer's neurons against one baseline per
    example, as captum's ``LayerDeepLift``: the multipliers of the targeted output with respect
    to the layer's tensors, times the layer's change ``l(x) - l(b)``.

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

    def __init__(self, model, layer, multiply_by_inputs=True, *, eps=1e-10):
        super().__init__(model, multiply_by_inputs, eps)
        _set_layer(self, layer, None)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
        attribute_to_layer_input=False,
        custom_attribution_func=None,
        grad_kwargs=None,
        *,
        internal_batch_size=None,
    ):
        """DeepLIFT attributions of the layer's output (or inputs).

        Parameters
        ----------
        inputs, baselines, target, additional_forward_args, return_convergence_delta
            As in :meth:`DeepLift.attribute`; the delta is ``sum(attributions) - (f(x) -
            f(baseline))`` per example.
        attribute_to_layer_input : bool, default False
        custom_attribution_func : callable, optional
            ``f(multipliers)``, ``f(multipliers, layer_inputs)`` or ``f(multipliers,
            layer_inputs, layer_baselines)`` (tuples of the layer tensors) returning them.
        grad_kwargs : dict, optional
            captum's argument; accepted and unused (the multipliers come from the rules).
        internal_batch_size : int, optional, keyword-only
            Examples per pass.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            The layer tensors' shapes ``(N, ...)``.
        delta : torch.Tensor, shape (N,)
            Only with ``return_convergence_delta=True``.
        """
        options = self._options(custom_attribution_func, internal_batch_size)
        options["to_input"] = _to_input(attribute_to_layer_input)
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta, floating=False
        )

    def _output_is_tuple(self, inputs_tuple: bool, attrs) -> bool:
        return len(attrs) > 1

    def _layer_mults(self, calls, x_rows, b_rows, chunk, shared, to_input):
        mults, y, y_b, (a_x, a_b) = _multipliers(
            calls, x_rows, b_rows, self.eps, chunk, shared, self.layer, to_layer_input=to_input
        )
        return mults, y, y_b, a_x, a_b

    def _run(self, xs, bs, call, delta, rngs, custom, chunk, to_input):
        b_rows = tuple(b.expand_as(x).contiguous() for x, b in zip(xs, bs, strict=True))
        shared = _one_baseline(xs, bs)
        mults, _, _, a_x, a_b = self._layer_mults(call, xs, b_rows, chunk, shared, to_input)
        attrs = _attributions(mults, a_x, a_b, custom, self._multiply_by_inputs)
        return attrs, (_delta_apart(call, attrs, xs, bs, chunk) if delta else None)


class LayerDeepLiftShap(LayerDeepLift):
    """LayerDeepLift against every row of a baseline distribution, averaged (captum's
    ``LayerDeepLiftShap``); all ``N * M`` (example, baseline) pairs are stacked, example-major,
    and run in chunks.

    Parameters
    ----------
    model, layer, multiply_by_inputs, eps
        As in :class:`LayerDeepLift`.
    """

    _BASELINES = "distribution"

    def attribute(
        self,
        inputs,
        baselines,
        target=None,
        additional_forward_args=None,
        return_convergence_delta=False,
        attribute_to_layer_input=False,
        custom_attribution_func=None,
        *,
        internal_batch_size=None,
    ):
        """LayerDeepLift against each background row, averaged over the rows.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
        baselines : torch.Tensor, tuple of them, or callable
            Background examples ``(M, ...)``, as in :meth:`DeepLiftShap.attribute`.
        target, additional_forward_args, attribute_to_layer_input, custom_attribution_func
            As in :meth:`LayerDeepLift.attribute` (the custom function gets the pairs).
        return_convergence_delta : bool, default False
            Also return, per pair, ``sum(attributions) - (f(x) - f(b))``.
        internal_batch_size : int, optional, keyword-only
            Pairs per pass.

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            The layer tensors' shapes ``(N, ...)``.
        delta : torch.Tensor, shape (N * M,)
            Example-major; only with ``return_convergence_delta=True``.
        """
        return super().attribute(
            inputs,
            baselines,
            target,
            additional_forward_args,
            return_convergence_delta,
            attribute_to_layer_input,
            custom_attribution_func,
            internal_batch_size=internal_batch_size,
        )

    def _run(self, xs, bs, call, delta, rngs, custom, chunk, to_input):
        N, device = xs[0].shape[0], xs[0].device
        M = max(b.shape[0] for b in bs)
        r = torch.arange(N * M, device=device)
        i, j = r // M, r % M  # example and baseline row of each pair
        x_rows = tuple(x.index_select(0, i) for x in xs)
        b_rows = tuple(
            (b.index_select(0, j) if b.shape[0] > 1 else b).expand_as(x).contiguous()
            for x, b in zip(x_rows, bs, strict=True)
        )
        distinct = tuple(
            b.expand((M,) + tuple(x.shape[1:])).contiguous() for x, b in zip(xs, bs, strict=True)
        )
        mults, y, y_b, a_x, a_b = self._layer_mults(
            call.expand(i), x_rows, b_rows, chunk, (distinct, j), to_input
        )
        attrs = _attributions(mults, a_x, a_b, custom, self._multiply_by_inputs)
        d = None
        if delta:
            d = sum(a.reshape(N * M, -1).sum(1) for a in attrs) - (y - y_b)
        means = tuple(a.reshape((N, M) + tuple(a.shape[1:])).mean(1) for a in attrs)
        return means, d
