"""captum's ``Occlusion`` on the engine: sliding windows replaced by the baseline.

Every scalar of an example is a player; the design is ``[all kept; all but window w]`` over
the windows of every input tensor (captum's positions: ``ceil((size - window) / stride) + 1``
per axis, the last ones clipped at the edge), evaluated in batched model calls. An element's
attribution is the mean of ``f(x) - f(x without window w)`` over the windows that cover it.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from .._validation import CaptumArgumentError
from ._captum_perturbation import CaptumPerturbation
from ._captum_surface import CaptumSurface

__all__ = ["Occlusion"]

MAX_DESIGN = 2**27  # window x element entries of the design (bools)


def _per_tensor(value, k: int, name: str, shared_ok: bool) -> tuple:
    """``value`` for each of ``k`` input tensors (captum's form for tuple inputs): a tuple with
    one entry per tensor, or (``shared_ok``) one int for all."""
    if shared_ok and isinstance(value, int):
        return (value,) * k
    if not isinstance(value, tuple) or len(value) != k:
        raise CaptumArgumentError(
            f"with a tuple of {k} input tensors, {name} needs a tuple of {k} entries, one per "
            f"tensor; got {value!r}."
        )
    return value


def _axis_members(size: int, window: int, stride: int) -> np.ndarray:
    """``(n, size)`` bool: which positions each window along one axis covers."""
    n = math.ceil((size - window) / stride) + 1
    start = np.arange(n)[:, None] * stride
    pos = np.arange(size)[None, :]
    return (pos >= start) & (pos < start + window)


def window_masks(shape: tuple, window: tuple, stride: tuple) -> np.ndarray:
    """``(W, prod(shape))`` bool: the elements of each window, windows in C order."""
    members = [_axis_members(s, w, st) for s, w, st in zip(shape, window, stride, strict=True)]
    if not members:  # examples of one number, shape (): one window over it
        return np.ones((1, 1), dtype=bool)
    out = members[0]
    for m in members[1:]:  # outer product over the axes
        out = (out[:, None, :, None] & m[None, :, None, :]).reshape(
            out.shape[0] * m.shape[0], out.shape[1] * m.shape[1]
        )
    return out


class Occlusion(CaptumPerturbation):
    """Attribution of each element: the mean change of the output when a sliding window that
    covers it takes the baseline, as ``captum.attr.Occlusion``.

    Constructor arguments as
    :class:`~xai_fast.explainers._captum_perturbation.CaptumPerturbation`.
    """

    _CALL_OPTIONS = (
        "inputs",
        "sliding_window_shapes",
        "strides",
        "baselines",
        "target",
        "additional_forward_args",
        "perturbations_per_eval",
        "show_progress",
    )
    _PROGRESS = "Occlusion"
    _windows = None  # the call's windows, set on a copy of the explainer per call

    attribute_future = CaptumSurface.attribute_future  # not implemented, as captum's

    def attribute(
        self,
        inputs,
        sliding_window_shapes,
        strides=None,
        baselines=None,
        target=None,
        additional_forward_args=None,
        perturbations_per_eval=1,
        show_progress=None,
        **kwargs,
    ):
        """Occlusion attributions of the inputs' shape.

        Parameters
        ----------
        inputs : torch.Tensor (N, ...) or tuple of them
        sliding_window_shapes : tuple of ints, or a tuple of them (one per input tensor)
            The window's shape over one example's axes.
        strides : None, int, tuple of ints, or one of these per input tensor
            Steps between windows along each axis (default 1).
        baselines, target, additional_forward_args, perturbations_per_eval, show_progress
            As for :meth:`FeatureAblation.attribute`.

        Returns
        -------
        torch.Tensor or tuple, the inputs' shape
        """
        xs = inputs if isinstance(inputs, tuple) else (inputs,)
        if not all(isinstance(x, torch.Tensor) for x in xs):
            got = [type(x).__name__ for x in xs] if isinstance(inputs, tuple) else type(inputs)
            raise TypeError(
                f"inputs must be a tensor (N, ...) or a tuple of them for Occlusion; got {got}."
            )
        if any(x.dim() == 0 for x in xs):
            raise ValueError(
                "every input tensor needs the examples on axis 0; got a 0-d tensor. Pass shape "
                "(N,) for one number per example."
            )
        shapes = [tuple(x.shape[1:]) for x in xs]
        strides = 1 if strides is None else strides
        if isinstance(inputs, tuple):
            windows = _per_tensor(sliding_window_shapes, len(xs), "sliding_window_shapes", False)
            steps = _per_tensor(strides, len(xs), "strides", True)
        else:  # one tensor; captum also takes its one-entry tuple form, ((w1, w2, ...),)

            def one(v):
                return (
                    v[0] if isinstance(v, tuple) and len(v) == 1 and isinstance(v[0], tuple) else v
                )

            windows, steps = (one(sliding_window_shapes),), (one(strides),)
        layout = []
        for k, (shape, w, st) in enumerate(zip(shapes, windows, steps, strict=True)):
            w = (w,) if isinstance(w, int) else tuple(w)
            st = (st,) * len(shape) if isinstance(st, int) else tuple(st)
            if len(w) != len(shape) or len(st) != len(shape):
                raise CaptumArgumentError(
                    f"input {k} has examples of shape {shape}; sliding_window_shapes and strides "
                    f"need one entry per axis, got {w} and {st}."
                )
            fits = all(1 <= a <= s for a, s in zip(w, shape, strict=True))
            if not fits or any(not 1 <= b <= a for a, b in zip(w, st, strict=True)):
                raise CaptumArgumentError(
                    f"windows {w} must fit examples of shape {shape} (1 <= window <= size) and "
                    f"strides {st} must lie in 1..window along each axis (as captum's)."
                )
            if xs[k].shape[0]:  # sparse inputs' empty index list: no elements, no windows
                layout.append((shape, w, st))
        job = copy.copy(self)  # the call's windows live on a copy: calls never share them
        job._windows = layout
        return job._run(inputs, baselines, target, additional_forward_args, None, "auto",
                        perturbations_per_eval, show_progress, kwargs)  # fmt: skip

    def _result_dtype(self, batch, args, seen) -> torch.dtype:
        """float32, as captum's Occlusion returns whatever the model's output dtype."""
        return torch.float32

    def _batched_units(self, masker) -> int:
        """The windows, which captum occludes one by one."""
        return sum(
            math.prod(math.ceil((s - a) / b) + 1 for s, a, b in zip(shape, w, st, strict=True))
            for shape, w, st in self._windows
        )

    def _design(self, M: int, n_samples, seed):
        """All kept, then each window of each tensor occluded: ``(W + 1, M)``, and the window
        masks ``(W, M)``."""
        blocks, offset = [], 0
        for shape, w, st in self._windows:
            D = math.prod(shape)
            m = window_masks(shape, w, st)
            full = np.zeros((m.shape[0], M), dtype=bool)
            full[:, offset : offset + D] = m
            blocks.append(full)
            offset += D
        masks = np.concatenate(blocks)
        if masks.size > MAX_DESIGN:
            raise ValueError(
                f"{masks.shape[0]} windows over {M} elements make a design of {masks.size:,} "
                f"entries (at most {MAX_DESIGN:,}); use larger strides or windows."
            )
        return np.vstack([np.ones((1, M), dtype=bool), ~masks]), masks

    def _solve(self, values: torch.Tensor, Z: np.ndarray, masks: np.ndarray) -> torch.Tensor:
        """Each element's mean difference over the windows covering it: ``(n, M)``."""
        W = torch.as_tensor(masks, dtype=torch.float64, device=values.device)
        diffs = values[:, :1] - values[:, 1:]  # (n, W)
        counts = W.sum(0)
        return (diffs @ W) / torch.where(counts > 0, counts, torch.ones_like(counts))
