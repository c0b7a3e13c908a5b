"""Guided GradCAM: :class:`GuidedGradCam`, a layer's GradCAM map upsampled to each input and
multiplied by the guided backpropagation of that input, captum's API and numbers.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from ..._validation import check_flag
from ..gradient._base import _GradientAttribution
from ..layer.grad_cam import LayerGradCam
from .guided import GuidedBackprop

__all__ = ["GuidedGradCam"]

#: ``F.interpolate``'s modes; which apply depends on the number of spatial axes.
INTERPOLATE_MODES = (
    "nearest",
    "nearest-exact",
    "linear",
    "bilinear",
    "bicubic",
    "trilinear",
    "area",
)


def _check_device_ids(device_ids):
    if device_ids is None:
        return None
    if not isinstance(device_ids, (list, tuple)) or not all(
        isinstance(d, int) and not isinstance(d, bool) for d in device_ids
    ):
        raise TypeError(
            f"device_ids must be None or a list of ints (CUDA device ids); got {device_ids!r}."
        )
    return list(device_ids)


def _check_mode(mode) -> str:
    if mode not in INTERPOLATE_MODES:
        raise ValueError(
            f"interpolate_mode must be one of {', '.join(map(repr, INTERPOLATE_MODES))} (modes of "
            f"torch.nn.functional.interpolate); got {mode!r}."
        )
    return mode


class GuidedGradCam(_GradientAttribution):
    """Guided GradCAM (Selvaraju et al., 2017): GradCAM of ``layer`` (positive part, channels
    summed) upsampled to the spatial shape of each input, times its guided backpropagation.

    Per input tensor ``x`` of shape ``(N, C, *S)``, the layer's map ``(N, 1, *S_layer)`` is
    resized with ``F.interpolate(cam, S, mode=interpolate_mode)`` and broadcast over the
    channels. The guided backpropagation applies to every ReLU the forward runs (see
    :class:`GuidedBackprop`). Two forward and backward passes in all, each on the whole batch.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Takes the input tensors (then ``additional_forward_args``) with the examples on axis 0.
    layer : torch.nn.Module
        A submodule that runs once per forward, with one floating-point output (or input, with
        ``attribute_to_layer_input``) tensor ``(N, C, ...)``; usually the last convolution.
    device_ids : list of int, optional
        Accepted for captum's signature; the layer's output is kept by a hook on the batch the
        model is called with, so it is not needed here.
    """

    def __init__(self, model, layer, device_ids=None):
        super().__init__(model)
        self.model = model
        self.device_ids = _check_device_ids(device_ids)
        self.grad_cam = LayerGradCam(model, layer)
        self.guided_backprop = GuidedBackprop(model)

    @property
    def layer(self):
        return self.grad_cam.layer

    def attribute(
        self,
        inputs,
        target=None,
        additional_forward_args=None,
        interpolate_mode="nearest",
        attribute_to_layer_input=False,
    ):
        """Guided GradCAM attributions of the targeted output.

        Parameters
        ----------
        inputs : torch.Tensor or tuple of torch.Tensor, each (N, C, *S)
            Floating point, the examples on axis 0.
        target : None, int, tuple of ints, or list / 1-D tensor with one per example
        additional_forward_args : any or tuple, optional
            Passed to the model after the inputs, unchanged.
        interpolate_mode : str, default "nearest"
            How the layer's map is resized to ``S``: ``"nearest"``, ``"nearest-exact"`` or
            ``"area"`` (any number of spatial axes), ``"linear"`` (one), ``"bilinear"`` or
            ``"bicubic"`` (two), ``"trilinear"`` (three).
        attribute_to_layer_input : bool, default False
            GradCAM of the layer's input instead of its output.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
            Shapes of ``inputs``. An input whose axes the map cannot be resized to (its number
            of spatial axes differs from the layer's, or the mode does not apply to it) gets an
            empty tensor, with a warning, as in captum.
        """
        options = dict(
            mode=_check_mode(interpolate_mode),
            to_input=check_flag(attribute_to_layer_input, "attribute_to_layer_input"),
        )
        return self._attribute(inputs, None, target, additional_forward_args, options)

    def _run(self, xs, bs, call, delta, rngs, mode, to_input):
        cams, _ = self.grad_cam._run(
            xs,
            None,
            call,
            False,
            rngs,
            to_input=to_input,
            relu=True,
            summation=True,
            grad_kwargs={"allow_unused": True},
        )
        if len(cams) != 1:
            what = "inputs" if to_input else "outputs"
            raise ValueError(
                f"the layer has {len(cams)} {what} tensors; Guided GradCAM needs a layer with one "
                f"(pick a layer whose {what[:-1]} is a single tensor (N, C, ...))."
            )
        (cam,) = cams
        guided, _ = self.guided_backprop._run(xs, None, call, False, rngs)
        pairs = enumerate(zip(guided, xs, strict=True))
        return tuple(_product(cam, g, x, k, mode) for k, (g, x) in pairs), None


def _product(cam: torch.Tensor, guided: torch.Tensor, x: torch.Tensor, k: int, mode: str):
    """``guided * cam`` resized to the spatial axes of input ``k``; empty when it cannot be."""
    size = tuple(x.shape[2:])
    try:
        return guided * F.interpolate(cam, size, mode=mode)
    except (RuntimeError, ValueError, NotImplementedError, TypeError) as err:
        warnings.warn(
            f"Guided GradCAM: the layer's map of shape {tuple(cam.shape)} cannot be resized "
            f"with interpolate_mode={mode!r} to input {k} of shape {tuple(x.shape)} ({err}); "
            f"input {k} gets an empty tensor. The inputs need as many spatial axes, (N, C, ...), "
            "as the layer, and a mode for that number of axes.",
            UserWarning,
            stacklevel=6,
        )
        return torch.empty(0, dtype=x.dtype, device=x.device)
