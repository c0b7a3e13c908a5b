"""Conductance of one neuron: :class:`NeuronConductance`.

The path points of all steps and examples are one batch of rows (step-major, row ``s * N + i``
is step ``s`` of example ``i``), evaluated in chunks of ``internal_batch_size`` rows. Per
chunk: one forward with the layer hooked (``_LayerHooks`` in ``"grad"`` mode), one backward
from the targeted output to the layer (the neuron's gradient ``dF/dn``), and one from the
neuron, weighted per row by ``dF/dn`` and the quadrature weight, to the inputs.
"""

from __future__ import annotations

import torch

from ..._validation import check_flag
from ..gradient._base import _GradientAttribution, _InputMultiplier
from ..gradient._call import _differentiable
from ..gradient._pass_rows import add_steps as _add_steps
from ..gradient._pass_rows import path_pass_rows
from ..gradient.integrated_gradients import IntegratedGradients
from ..layer._base import _check_grad_kwargs, _set_layer
from ..layer._hooks import _LayerHooks
from ..layer.conductance import _alphas, _path
from ._base import _check_selector, _select

__all__ = ["NeuronConductance"]


class NeuronConductance(_InputMultiplier, _GradientAttribution):
    """Conductance of each input feature through one neuron of a layer (captum's
    ``NeuronConductance``): ``(x - b) * integral_0^1 dF/dn * dn/dx (b + alpha (x - b)) d
    alpha`` for the neuron ``n`` and the targeted output ``F``, on ``n_steps`` points of the
    quadrature rule.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    multiply_by_inputs : bool, default True
        ``False`` returns the integral without the factor ``x - b``.
    """

    _BASELINES = "per_example"

    def __init__(self, forward_func, layer, device_ids=None, multiply_by_inputs=True):
        super().__init__(forward_func)
        _set_layer(self, layer, device_ids)
        self._set_multiply_by_inputs(multiply_by_inputs)

    def attribute(
        self,
        inputs,
        neuron_selector,
        baselines=None,
        target=None,
        additional_forward_args=None,
        n_steps=50,
        method="riemann_trapezoid",
        internal_batch_size=None,
        attribute_to_neuron_input=False,
        grad_kwargs=None,
    ):
        """Conductance through the selected neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        neuron_selector : int, tuple of int / slice, or callable
            As in :meth:`~xai_fast.NeuronGradient.attribute`. A slice selector (or a callable)
            is applied to the layer's gradients as well as to its values, as in captum: the
            neuron's gradient is then the sum of the selected gradients.
        baselines : None, scalar, tensor or tuple of them
            Start of the path, as in :meth:`IntegratedGradients.attribute`.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Tensors with a batch axis are gathered per path point.
        n_steps : int, default 50
        method : str, default "riemann_trapezoid"
            A quadrature rule of :data:`~xai_fast.explainers.gradient.METHODS` (captum's
            default here).
        internal_batch_size : int, optional
            Rows (path points) per forward; default all ``n_steps * N`` on an
            accelerator, chunks of about ``2**19`` input values on the CPU.
        attribute_to_neuron_input : bool, default False
        grad_kwargs : dict, optional
            Keyword arguments of ``torch.autograd.grad`` for the gradient of the output with
            respect to the layer.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``.
        """
        options = IntegratedGradients._options(self, n_steps, method, internal_batch_size)
        options.update(
            selector=_check_selector(neuron_selector),
            to_input=check_flag(attribute_to_neuron_input, "attribute_to_neuron_input"),
            grad_kwargs=_check_grad_kwargs(grad_kwargs),
        )
        return self._attribute(inputs, baselines, target, additional_forward_args, options)

    def _run(self, xs, bs, call, delta, rngs, n_steps, method, internal_batch_size, selector,
             to_input, grad_kwargs):  # fmt: skip
        N, device = xs[0].shape[0], xs[0].device
        what = "input" if to_input else "output"
        alphas, weights = _alphas(method, n_steps, xs[0])
        R = n_steps * N
        step = path_pass_rows(xs, R, internal_batch_size)
        totals = tuple(torch.zeros_like(x) for x in xs)
        for start in range(0, R, step):
            r = torch.arange(start, min(start + step, R), device=device)
            s, i = r // N, r % N  # step and example of each row
            rows = tuple(p.detach().requires_grad_() for p in _path(xs, bs, alphas, r, N))
            hooks = _LayerHooks(self._layers, to_input, "grad", model=self.forward_func)
            with hooks:
                y = call.expand(i)(rows)
            values = hooks.taken()
            _differentiable(y)
            kwargs = {"allow_unused": True, **(grad_kwargs or {}), "retain_graph": True}
            g = torch.autograd.grad(y.sum(), values, **kwargs)
            g = tuple(
                torch.zeros_like(v) if d is None else d for v, d in zip(values, g, strict=True)
            )
            # dF/dn per row (the selector on the layer's gradients), times the step's weight
            coef = (_select(g, selector, what) * weights[s]).detach()  # (rows,)
            neuron = _select(values, selector, what)  # (rows,)
            grads = torch.autograd.grad((neuron * coef).sum(), rows, allow_unused=True)
            for t, d in zip(totals, grads, strict=True):
                if d is not None:
                    _add_steps(t, d, start, N)
        if self._multiply_by_inputs:
            totals = tuple(t * (x - b) for t, x, b in zip(totals, xs, bs, strict=True))
        return totals, None
