"""Integrated gradients in a layer's space: :class:`LayerIntegratedGradients`.

The layers' tensors are taken on the inputs and on the baselines; the path runs between them
in the layer's space. Every path point of every step and example is one row: the model runs
on the inputs (a row per point) with each layer's tensors replaced by the row's point, and the
gradients with respect to the points are summed with the quadrature weights. Token ids work as
inputs: the path is then between the embeddings of the baseline and the input tokens.
"""

from __future__ import annotations

import warnings

import torch

from ..._validation import check_flag
from ..gradient._base import _InputMultiplier
from ..gradient._call import _delta, _differentiable
from ..gradient._inputs import _column
from ..gradient._pass_rows import add_steps as _add_steps
from ..gradient._pass_rows import path_pass_rows
from ..gradient.integrated_gradients import IntegratedGradients, _quadrature
from ._base import _check_grad_kwargs, _layer_values, _LayerAttribution, _to_input
from ._hooks import _LayerHooks

__all__ = ["LayerIntegratedGradients"]


class LayerIntegratedGradients(_InputMultiplier, _LayerAttribution):
    """Integrated gradients of a layer's output (or inputs), as captum's
    ``LayerIntegratedGradients``: ``(l(x) - l(b)) * integral_0^1 dF/dl (l(b) + alpha (l(x) -
    l(b))) d alpha`` with ``l`` the layer's tensors, the rest of the model run on the inputs.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on.
    layer : torch.nn.Module or list of torch.nn.Module
        Submodules that each run exactly once per call of ``forward_func``; with several, each
        is replaced by its own path point (so none should depend only on another).
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    multiply_by_inputs : bool, default True
        ``False`` returns the integrated gradients without the factor ``l(x) - l(b)``.
    """

    _BASELINES = "per_example"
    _MANY = True
    _FLOATING = False

    def __init__(self, forward_func, layer, device_ids=None, multiply_by_inputs=True):
        super().__init__(forward_func, layer, device_ids)
        self._set_multiply_by_inputs(multiply_by_inputs)
        if len(self._layers) > 1:
            warnings.warn(
                "several layers: each is replaced by its own path point, so a layer whose "
                "tensors depend only on another listed layer's gets zero attributions.",
                stacklevel=2,
            )

    def has_convergence_delta(self) -> bool:
        return True

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        n_steps=50,
        method="gausslegendre",
        internal_batch_size=None,
        return_convergence_delta=False,
        attribute_to_layer_input=False,
        grad_kwargs=None,
    ):
        """Layer integrated gradients.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Any dtype (token ids for an embedding layer).
        baselines : None, scalar, tensor or tuple of them
            Baseline inputs (``None``: zeros), per input tensor: a scalar, one example, a batch
            of one or one per example; the path starts at the layer's tensors on them.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Tensors with a batch axis are gathered per path point.
        n_steps : int, default 50
        method : str, default "gausslegendre"
        internal_batch_size : int, optional
            Rows (path points) per forward; default all ``n_steps * N`` on an
            accelerator, chunks of about ``2**19`` input values on the CPU.
        return_convergence_delta : bool, default False
            Also return ``sum(attributions) - (f(x) - f(baseline))`` per example (over every
            layer's attributions).
        attribute_to_layer_input : bool, default False
        grad_kwargs : dict, optional

        Returns
        -------
        attributions : torch.Tensor, tuple of torch.Tensor, or a list of them
            The layer tensors' shapes ``(N, ...)``; a list (one per layer) for a list of layers.
        delta : torch.Tensor, shape (N,)
            Only with ``return_convergence_delta=True``.
        """
        options = IntegratedGradients._options(self, n_steps, method, internal_batch_size)
        options.update(
            to_input=_to_input(attribute_to_layer_input),
            grad_kwargs=_check_grad_kwargs(grad_kwargs),
        )
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta
        )

    def _run(self, xs, bs, call, delta, rngs, n_steps, method, internal_batch_size, to_input,
             grad_kwargs):  # fmt: skip
        N, device = xs[0].shape[0], xs[0].device
        # contiguous: the model may change its inputs in place (an expanded view refuses)
        b_rows = tuple(b.expand_as(x).contiguous() for x, b in zip(xs, bs, strict=True))
        ends = _layer_values(self, call, xs, to_input, internal_batch_size)
        starts = _layer_values(self, call, b_rows, to_input, internal_batch_size)
        sizes = [len(v) for v in ends]
        ends = [t for v in ends for t in v]  # every layer's tensors, flat
        starts = [t for v in starts for t in v]
        for a in ends:
            if not a.is_floating_point():
                raise TypeError(
                    f"the layer's {'input' if to_input else 'output'} has dtype {a.dtype}; "
                    "integrated gradients need floating-point tensors there (for token ids, "
                    "pass the embedding layer)."
                )
        dtype = torch.promote_types(ends[0].dtype, torch.float32)
        alphas, weights = (
            torch.tensor(v, dtype=torch.float64).to(device, dtype)
            for v in _quadrature(method, n_steps)
        )
        diffs = [a - b for a, b in zip(ends, starts, strict=True)]
        totals = [torch.zeros_like(a) for a in ends]
        R = n_steps * N
        step = path_pass_rows(xs, R, internal_batch_size)
        for start in range(0, R, step):
            r = torch.arange(start, min(start + step, R), device=device)
            s, i = r // N, r % N  # step and example of each row
            points = [
                _path_points(b, d, alphas, s, i, start, N).detach().requires_grad_()
                for b, d in zip(starts, diffs, strict=True)
            ]
            grouped, at = [], 0
            for n in sizes:
                grouped.append(tuple(points[at : at + n]))
                at += n
            hooks = _LayerHooks(
                self._layers, to_input, "replace", grouped, self.forward_func, prefix_grad=True
            )
            with hooks:
                y = call.expand(i)(tuple(x.index_select(0, i) for x in xs))
            hooks.all_taken()
            _differentiable(y)
            grads = torch.autograd.grad(
                y.sum(), points, **{"allow_unused": True, **(grad_kwargs or {})}
            )
            for t, g in zip(totals, grads, strict=True):
                if g is not None:
                    _add_steps(t, g * _column(weights[s], g), start, N)
        attrs = (
            [t * d for t, d in zip(totals, diffs, strict=True)]
            if self._multiply_by_inputs
            else totals
        )
        d = _delta(call, attrs, xs, bs, internal_batch_size) if delta else None
        out, at = [], 0
        for n in sizes:
            out.append(tuple(attrs[at : at + n]))
            at += n
        return out, d


def _path_points(b, d, alphas, s, i, start: int, N: int) -> torch.Tensor:
    """``b + alpha * d`` at rows of steps ``s`` and examples ``i``: whole steps by
    broadcasting, any other chunk by gathering rows.

    A product then a sum, never a fused multiply-add: a max-pooling window of tied layer
    values (a constant baseline, ReLU zeros) sends its gradient to the largest point, so
    the points must round as captum's ``b + alpha * (x - b)`` does, to the last bit."""
    R = s.shape[0]
    if start % N == 0 and R % N == 0:
        a = alphas[start // N : start // N + R // N].to(d.dtype)
        a = a.reshape((-1, 1) + (1,) * (d.dim() - 1))  # (steps, 1, 1, ...)
        return (b.unsqueeze(0) + a * d.unsqueeze(0)).reshape((R,) + d.shape[1:])
    return b.index_select(0, i) + _column(alphas[s], d) * d.index_select(0, i)
