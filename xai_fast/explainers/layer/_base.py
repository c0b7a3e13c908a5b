"""The shared part of the layer methods: the layer arguments, the model call with the layer
hooked (values, or gradients of the targeted output with respect to the layer) and the output
shapes captum returns.
"""

from __future__ import annotations

import torch

from ..._runtime.heap_warmup import warm_heap
from ..._validation import check_flag
from ..gradient._base import _default_layout, _GradientAttribution
from ..gradient._call import _autograd, _Call, _differentiable
from ..gradient._inputs import _check_inputs
from ._hooks import _check_layers, _LayerHooks

__all__ = ["_LayerAttribution", "_formatted", "_layer_gradients", "_layer_values", "_set_layer"]


def _set_layer(owner, layer, device_ids, many: bool = False) -> None:
    """Check and keep captum's layer arguments on ``owner``.

    ``device_ids`` is accepted as captum's argument for ``DataParallel`` models; the layer's
    tensors are gathered from the one forward the hooks see, on the model's device.
    """
    owner._layers, owner._is_list = _check_layers(layer, many)
    owner.layer = layer
    if device_ids is not None and not (
        isinstance(device_ids, (list, tuple)) and all(isinstance(d, int) for d in device_ids)
    ):
        raise TypeError(
            f"device_ids must be None or a list of ints (GPU ids); got {type(device_ids).__name__}."
        )
    owner.device_ids = device_ids


def _formatted(per_layer: list, is_list: bool):
    """captum's shapes: per layer a tensor, or a tuple when it has several; a list of layers."""
    per_layer = [tuple(_default_layout(a) for a in t) for t in per_layer]
    outs = [t[0] if len(t) == 1 else tuple(t) for t in per_layer]
    return outs if is_list else outs[0]


def _layer_values(owner, call: _Call, rows, to_input: bool, chunk: int | None = None) -> list:
    """The layers' tensors on ``rows`` without gradients, per layer a tuple ``(R, ...)``.

    Rows go through the model in chunks of ``chunk`` rows (all at once when ``None``).
    """
    parts = []
    with torch.no_grad():
        for a, b, sub in call.chunks(rows[0].shape[0], chunk, rows[0].device):
            hooks = _LayerHooks(owner._layers, to_input, "keep", model=owner.forward_func)
            with hooks:
                sub.raw(tuple(r[a:b] for r in rows))
            parts.append([tuple(t.detach() for t in v) for v in hooks.all_taken()])
    if len(parts) == 1:
        return parts[0]
    return [
        tuple(torch.cat(p) for p in zip(*layer, strict=True)) for layer in zip(*parts, strict=True)
    ]


def _layer_gradients(owner, call: _Call, rows, to_input: bool, grad_kwargs=None):
    """Gradients of the targeted outputs with respect to the layers' tensors, and the tensors.

    One forward and one backward of ``rows``; with one layer the part of the model before it
    runs without recording a graph.

    Returns
    -------
    grads, values : list of tuple of torch.Tensor
        Per layer, one ``(R, ...)`` tensor per layer tensor (zeros where the output does not
        depend on it).
    """
    hooks = _LayerHooks(
        owner._layers,
        to_input,
        "grad",
        model=owner.forward_func,
        prefix_grad=len(owner._layers) == 1,
    )
    with hooks:
        y = call(tuple(rows))
    values = hooks.all_taken()
    _differentiable(y)
    flat = [t for v in values for t in v]
    kwargs = {"allow_unused": True, **(grad_kwargs or {})}
    g = torch.autograd.grad(y.sum(), flat, **kwargs)
    g = [torch.zeros_like(t) if d is None else d for t, d in zip(flat, g, strict=True)]
    grads, at = [], 0
    for v in values:
        grads.append(tuple(g[at : at + len(v)]))
        at += len(v)
    return grads, [tuple(t.detach() for t in v) for v in values]


def _check_grad_kwargs(grad_kwargs):
    if grad_kwargs is not None and not (
        isinstance(grad_kwargs, dict) and all(isinstance(k, str) for k in grad_kwargs)
    ):
        raise TypeError(
            "grad_kwargs must be None or a dict of torch.autograd.grad keyword arguments; "
            f"got {type(grad_kwargs).__name__}."
        )
    return grad_kwargs


class _LayerAttribution(_GradientAttribution):
    """A gradient method at a layer: ``_run`` returns per layer a tuple of tensors.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
    layer : torch.nn.Module (or a list of them where ``_MANY``)
    device_ids : list of int, optional
        captum's argument for ``DataParallel`` models, accepted.
    """

    _MANY = False  # whether a list of layers is accepted
    _FLOATING = True  # whether the inputs must be floating-point (they are interpolated)

    def __init__(self, forward_func, layer, device_ids=None):
        super().__init__(forward_func)
        _set_layer(self, layer, device_ids, self._MANY)

    def _attribute(
        self, inputs, baselines, target, additional_forward_args, options, with_delta=False
    ):
        warm_heap()
        with _autograd():
            xs, is_tuple = _check_inputs(inputs, floating=self._FLOATING)
            bs = self._checked_baselines(baselines, inputs, xs, is_tuple)
            call = _Call(
                self.forward_func, additional_forward_args, target, len(xs[0]), xs[0].device
            )
            if self._FAST_LAYOUT:
                call.use_fast_layout(xs)
            per_layer, delta = self._run(xs, bs, call, with_delta, {}, **options)
        out = _formatted(per_layer, self._is_list)
        return (out, delta) if with_delta else out


def _to_input(flag) -> bool:
    return check_flag(flag, "attribute_to_layer_input")
