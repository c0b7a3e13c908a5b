"""The shared part of the neuron methods: captum's ``neuron_selector``, the neuron as a
function of the inputs, and the layer arguments.

:func:`_neuron_function` turns a model, a layer and a selector into a forward that returns the
selected neuron's value per row, ``(R,)``: the model runs with the layer hooked
(:class:`~xai_fast.explainers.layer._hooks._LayerHooks`) and stops once the layer's tensors are
recorded (nothing after the layer can change the neuron). Most neuron methods are then the
input method (Saliency, IntegratedGradients, GradientShap, DeepLift, FeatureAblation, guided
backpropagation) on that forward, with one value per example and no target.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch

from ..._runtime.model_errors import USER_ERRORS, reraise
from ..._validation import check_flag
from .._captum_surface import CaptumSurface
from ..gradient._call import _check_forward_func
from ..layer._base import _set_layer
from ..layer._hooks import _LayerHooks

__all__ = ["_NeuronAttribution", "_check_selector", "_neuron_function", "_select"]


class _Stop(BaseException):
    """Raised by :class:`_StopAtLayer` to end a forward at the layer (never escapes)."""


class _StopAtLayer(_LayerHooks):
    """``_LayerHooks`` that end the forward once the (one) layer's tensors are recorded."""

    def _take(self, k, tensors, is_tuple):
        super()._take(k, tensors, is_tuple)
        raise _Stop


def _check_selector(selector):
    """captum's ``neuron_selector``: an int, a tuple of ints and slices, or a callable.

    Returns the selector with every index a Python int (or slice); ``TypeError`` otherwise.
    """
    if callable(selector):
        return selector
    if isinstance(selector, tuple) and selector:
        out = []
        for k, s in enumerate(selector):
            if isinstance(s, slice):
                out.append(s)
                continue
            try:
                if isinstance(s, bool):
                    raise TypeError
                out.append(operator.index(s))
            except TypeError:
                raise TypeError(
                    f"neuron_selector[{k}] is {type(s).__name__} ({s!r}); a tuple selector holds "
                    "ints (one per axis of the layer's tensor after the batch axis) and slices."
                ) from None
        return tuple(out)
    if not isinstance(selector, bool):
        try:
            return operator.index(selector)
        except TypeError:
            pass
    raise TypeError(
        "neuron_selector must be an int (for a layer tensor of shape (N, k)), a tuple of ints "
        "and slices indexing the layer tensor after its batch axis, or a callable taking the "
        f"layer's tensor(s) and returning one value per example; got {type(selector).__name__}"
        f" ({selector!r})."
    )


def _select(values: tuple, selector, what: str = "output", total: bool = False) -> torch.Tensor:
    """The selected neuron of each row, ``(R,)``, from the layer's tensors ``values`` (each
    ``(R, ...)``); a slice selector sums the neurons it selects, as captum does.

    With ``total``, a callable may also return one value for all rows (their sum, say): it is
    spread evenly over the rows, which keeps its gradient (for methods that need only that).
    """
    R = values[0].shape[0]
    if callable(selector):
        out = selector(values if len(values) > 1 else values[0])
        if isinstance(out, torch.Tensor) and out.numel() == 1 and (total or R == 1):
            return out.reshape(1).expand(R) / R
        if (
            not isinstance(out, torch.Tensor)
            or out.dim() == 0
            or out.shape[0] != R
            or out[0].numel() != 1
        ):
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(
                f"the neuron_selector callable must return a tensor with one value per row, "
                f"shape ({R},); it returned {got}."
            )
        return out.reshape(R)
    if len(values) > 1:
        raise ValueError(
            f"the layer's {what} is a tuple of {len(values)} tensors, so an index selector "
            "cannot say which one; pass a callable neuron_selector taking the tuple, e.g. "
            "lambda t: t[0][:, 3]."
        )
    v = values[0]
    index = (selector,) if isinstance(selector, int) else selector
    shape = tuple(v.shape[1:])
    if len(index) > len(shape):
        raise ValueError(
            f"neuron_selector {selector!r} has {len(index)} indices, but the layer's {what} has "
            f"shape {shape} per example ({len(shape)} axes)."
        )
    for axis, (s, size) in enumerate(zip(index, shape, strict=False)):
        if isinstance(s, int) and not -size <= s < size:
            raise ValueError(
                f"neuron_selector {selector!r} is out of range: index {s} on axis {axis + 1} of "
                f"the layer's {what}, which has shape {shape} per example (indices "
                f"0..{size - 1})."
            )
    out = v[(slice(None), *index)]
    if any(isinstance(s, slice) for s in index):
        return out.reshape(R, -1).sum(1)
    if out[0].numel() != 1:
        raise ValueError(
            f"neuron_selector {selector!r} picks {tuple(out.shape[1:])} values per example from "
            f"the layer's {what} of shape {shape}; give one index per axis, or slices (whose "
            "neurons are summed)."
        )
    return out.reshape(R)


def _neuron_function(model, layer, selector, to_input: bool, total: bool = False) -> Callable:
    """The forward ``f(*inputs, *args) -> (R,)``: the selected neuron of ``layer``'s output
    (or positional inputs) on each row; differentiable where the model is. ``total`` as in
    :func:`_select`."""
    what = "input" if to_input else "output"

    def neuron(*args):
        hooks = _StopAtLayer((layer,), to_input, "keep", model=model)
        try:
            with hooks:
                model(*args)
        except _Stop:
            pass
        except USER_ERRORS as err:
            reraise(err, args, "forward_func")
        return _select(hooks.taken(), selector, what, total)

    neuron.layout_module = model  # it runs the model on its rows as they come
    return neuron


class _NeuronAttribution(CaptumSurface):
    """A neuron method: the model, one layer and captum's ``device_ids`` (accepted).

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
    layer : torch.nn.Module
        A submodule that runs exactly once per call of ``forward_func``.
    device_ids : list of int, optional
        captum's argument for ``DataParallel`` models, accepted.
    """

    def __init__(self, forward_func, layer, device_ids=None):
        _check_forward_func(forward_func)
        self.forward_func = forward_func
        _set_layer(self, layer, device_ids)

    def _neuron(self, neuron_selector, attribute_to_neuron_input, total=False) -> Callable:
        """The selected neuron as a forward of the inputs (arguments checked); ``total``: a
        callable selector may return one value for all rows (gradient-only methods)."""
        selector = _check_selector(neuron_selector)
        to_input = check_flag(attribute_to_neuron_input, "attribute_to_neuron_input")
        return _neuron_function(self.forward_func, self.layer, selector, to_input, total)
