"""Path methods at a layer with the path in input space: :class:`InternalInfluence` (the
layer gradients integrated along the path) and :class:`LayerConductance` (the layer
gradients times the layer's change between consecutive path points).

The path points of all steps and examples are one batch of rows (step-major, row
``s * N + i`` is step ``s`` of example ``i``), evaluated in chunks of ``internal_batch_size``
rows, each with one forward and one backward; the part of the model before the layer runs
without recording a graph.
"""

from __future__ import annotations

import torch

from ..._validation import check_flag
from ..gradient._call import _delta
from ..gradient._inputs import _column, _take
from ..gradient._pass_rows import add_steps as _add_steps
from ..gradient._pass_rows import path_pass_rows
from ..gradient.integrated_gradients import IntegratedGradients, _quadrature
from ._base import _check_grad_kwargs, _layer_gradients, _LayerAttribution, _to_input

__all__ = ["InternalInfluence", "LayerConductance"]


def _path(xs, bs, alphas, r, N: int):
    """Rows ``r`` of the path: ``b + alpha_s (x - b)`` for step ``s = r // N`` of example
    ``i = r % N``, each input tensor ``(len(r), ...)``."""
    s, i = r // N, r % N
    return tuple(
        _take(b, i) + _column(alphas[s], x) * (x.index_select(0, i) - _take(b, i))
        for x, b in zip(xs, bs, strict=True)
    )


def _path_options(
    owner, n_steps, method, internal_batch_size, attribute_to_layer_input, grad_kwargs
):
    out = IntegratedGradients._options(owner, n_steps, method, internal_batch_size)
    out.update(
        to_input=_to_input(attribute_to_layer_input), grad_kwargs=_check_grad_kwargs(grad_kwargs)
    )
    return out


def _alphas(method, n, like):
    dtype = torch.promote_types(like.dtype, torch.float32)
    a, w = (
        torch.tensor(v, dtype=torch.float64).to(like.device, dtype) for v in _quadrature(method, n)
    )
    return a, w


class InternalInfluence(_LayerAttribution):
    """Layer gradients integrated along the path from baseline to input (captum's
    ``InternalInfluence``): ``integral_0^1 dF/dlayer (b + alpha (x - b)) d alpha``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    """

    _BASELINES = "per_example"

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        n_steps=50,
        method="gausslegendre",
        internal_batch_size=None,
        attribute_to_layer_input=False,
        grad_kwargs=None,
    ):
        """Internal influence of every layer neuron.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, ...)
            Floating-point examples.
        baselines : None, scalar, tensor or tuple of them
            Start of the path, as in :meth:`IntegratedGradients.attribute`.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Tensors with a batch axis are gathered per path point.
        n_steps : int, default 50
        method : str, default "gausslegendre"
            A quadrature rule of :data:`~xai_fast.explainers.gradient.METHODS`.
        internal_batch_size : int, optional
            Rows (path points) per forward; default all ``n_steps * N`` on an
            accelerator, chunks of about ``2**19`` input values on the CPU.
        attribute_to_layer_input : bool, default False
        grad_kwargs : dict, optional

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            The layer tensors' shapes ``(N, ...)``.
        """
        options = _path_options(
            self, n_steps, method, internal_batch_size, attribute_to_layer_input, grad_kwargs
        )
        return self._attribute(inputs, baselines, target, additional_forward_args, options)

    def _run(self, xs, bs, call, delta, rngs, n_steps, method, internal_batch_size, to_input,
             grad_kwargs):  # fmt: skip
        N, device = xs[0].shape[0], xs[0].device
        alphas, weights = _alphas(method, n_steps, xs[0])
        R = n_steps * N
        step = path_pass_rows(xs, R, internal_batch_size)
        totals = None
        for start in range(0, R, step):
            r = torch.arange(start, min(start + step, R), device=device)
            s, i = r // N, r % N
            rows = _path(xs, bs, alphas, r, N)
            grads, _ = _layer_gradients(self, call.expand(i), rows, to_input, grad_kwargs)
            if totals is None:
                totals = tuple(g.new_zeros((N,) + g.shape[1:]) for g in grads[0])
            for t, g in zip(totals, grads[0], strict=True):
                _add_steps(t, g * _column(weights[s], g), start, N)
        return [totals], None


class LayerConductance(_LayerAttribution):
    """Conductance of every layer neuron (captum's ``LayerConductance``): the sum over the
    path of the layer gradient times the layer's change to the next path point,
    ``sum_k dF/dlayer(p_k) * (layer(p_{k+1}) - layer(p_k))``, on ``n_steps + 1`` points of
    the quadrature rule from baseline to input. The conductances of a layer that every path
    from the inputs to the output crosses add up to ``f(x) - f(baseline)``.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Differentiable from ``layer`` on.
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        Accepted (captum's ``DataParallel`` argument).
    """

    _BASELINES = "per_example"

    def has_convergence_delta(self) -> bool:
        return True

    @property
    def multiplies_by_inputs(self) -> bool:
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
        """Layer conductance.

        Parameters
        ----------
        inputs, baselines, target, additional_forward_args, method, grad_kwargs
            As in :meth:`InternalInfluence.attribute`.
        n_steps : int, default 50
            Steps of the path (``n_steps + 1`` points are evaluated).
        internal_batch_size : int, optional
            Rows (path points) per forward; default all ``(n_steps + 1) * N`` on an
            accelerator, chunks of about ``2**19`` input values on the CPU.
        return_convergence_delta : bool, default False
            Also return ``sum(attributions) - (f(x) - f(baseline))`` per example.
        attribute_to_layer_input : bool, default False

        Returns
        -------
        attributions : torch.Tensor or tuple of torch.Tensor
            The layer tensors' shapes ``(N, ...)``.
        delta : torch.Tensor, shape (N,)
            Only with ``return_convergence_delta=True``.
        """
        options = _path_options(
            self, n_steps, method, internal_batch_size, attribute_to_layer_input, grad_kwargs
        )
        with_delta = check_flag(return_convergence_delta, "return_convergence_delta")
        return self._attribute(
            inputs, baselines, target, additional_forward_args, options, with_delta
        )

    def _run(self, xs, bs, call, delta, rngs, n_steps, method, internal_batch_size, to_input,
             grad_kwargs):  # fmt: skip
        N, device = xs[0].shape[0], xs[0].device
        alphas, _ = _alphas(method, n_steps + 1, xs[0])
        R = (n_steps + 1) * N
        step = path_pass_rows(xs, R, internal_batch_size)
        totals = last_g = last_a = None
        for start in range(0, R, step):
            stop = min(start + step, R)
            r = torch.arange(start, stop, device=device)
            i = r % N
            rows = _path(xs, bs, alphas, r, N)
            grads, acts = _layer_gradients(self, call.expand(i), rows, to_input, grad_kwargs)
            grads, acts = grads[0], acts[0]  # per layer tensor, (rows, ...)
            if totals is None:
                totals = tuple(a.new_zeros((N,) + a.shape[1:]) for a in acts)
                last_g = tuple(torch.zeros_like(t) for t in totals)
                last_a = tuple(torch.zeros_like(t) for t in totals)
            if step % N == 0:  # whole steps: each step's next point is N rows on
                for t, g, a, lg, la in zip(totals, grads, acts, last_g, last_a, strict=True):
                    if start > 0:  # the step from the previous chunk's last point
                        t += lg * (a[:N] - la)
                    if len(a) > N:  # (the difference is fresh: multiplied in place)
                        _add_steps(t, (a[N:] - a[:-N]).mul_(g[:-N]), 0, N)
                    lg.copy_(g[-N:])
                    la.copy_(a[-N:])
                continue
            # the previous point of each row's example: in this chunk, or the last one before
            inside = r - N >= start
            k = (r - N - start).clamp(min=0)
            later = r >= N  # rows past the first point close a step
            tail = slice(max(0, len(r) - N), len(r))  # the latest point of each example
            for t, g, a, lg, la in zip(totals, grads, acts, last_g, last_a, strict=True):
                keep = inside.reshape((-1,) + (1,) * (a.dim() - 1))
                g_prev = torch.where(keep, g.index_select(0, k), lg.index_select(0, i))
                a_prev = torch.where(keep, a.index_select(0, k), la.index_select(0, i))
                t.index_add_(0, i, g_prev * (a - a_prev) * _column(later, a))
                lg.index_copy_(0, i[tail], g[tail])
                la.index_copy_(0, i[tail], a[tail])
        return [totals], (_delta(call, totals, xs, bs, internal_batch_size) if delta else None)
