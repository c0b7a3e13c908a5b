"""Channels-last inputs for convolutional modules on the CPU, where they are the fast layout.

A float32 image batch ``(n, C, H, W)`` in torch's default (contiguous, NCHW) layout makes a
CPU convolution reorder its input and output on every call, and max pooling run over one
channel at a time. In channels-last layout (NHWC in memory, the same logical shape) neither
happens: a small two-convolution CNN on 3x32x32 images runs its forward 2-4x faster. The
values are the same numbers (the same oneDNN kernels, the same accumulation order).

Not every module takes the other layout: ``x.view(n, -1)`` after a convolution raises, and a
custom operator may read its input's memory as NCHW. So the layout is tried once per module
and input shape, on the first two rows of its first chunk: channels-last is kept only when that
forward runs and returns what the contiguous one returns (to float32 rounding); otherwise
the module keeps contiguous inputs. Those two rows are the only extra rows the module ever
sees (a module that counts its rows counts them). The choice never depends on timings, so a
call gives the same values in every run.

Only float32 4-D inputs on the CPU to modules with a ``Conv2d`` are candidates: float64
convolutions take no faster path in channels-last (measured: the same time), and other
devices choose their own layouts.
"""

from __future__ import annotations

import threading
import weakref

__all__ = ["as_channels_last", "channels_last_ok", "layout_forward"]

#: ``{module: {(example shape, dtype): keep channels-last?}}``, decided once per key.
_CHOICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: ``{module: has a Conv2d}``.
_HAS_CONV: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
#: Rows of the trial forward in each layout.
_TRIAL_ROWS = 2
#: Largest difference of the two layouts' outputs, relative to their largest magnitude.
_RTOL = 1e-5


def _has_conv(module) -> bool:
    import torch

    with _LOCK:
        known = _HAS_CONV.get(module)
    if known is None:
        known = any(isinstance(m, torch.nn.Conv2d) for m in module.modules())
        with _LOCK:
            _HAS_CONV[module] = known
    return known


def _candidate(module, t) -> bool:
    import torch

    return (
        t.ndim == 4
        and t.dtype == torch.float32
        and t.device.type == "cpu"
        and t.shape[1] > 1  # one channel: both layouts are the same memory
        and _has_conv(module)
    )


def _same_outputs(a, b) -> bool:
    import torch

    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
        return False
    if a.shape != b.shape or a.dtype != b.dtype or not a.is_floating_point():
        return False
    if not (bool(torch.isfinite(a).all()) and bool(torch.isfinite(b).all())):
        return False
    scale = float(a.abs().max()) if a.numel() else 0.0
    return bool((a - b).abs().max() <= _RTOL * max(scale, 1e-30)) if a.numel() else True


def as_channels_last(x):
    """``x`` ``(n, C, H, W)`` in channels-last layout (the same values; differentiable)."""
    import torch

    return x.contiguous(memory_format=torch.channels_last)


def _decide(module, x) -> bool | None:
    """Run ``module`` on the first rows of ``x`` in both layouts, without gradients: True when
    channels-last runs and gives the same outputs; None when the model raises on its own
    layout (nothing is learnt: the real call raises again, explained, or works)."""
    import torch

    with torch.no_grad():
        trial = x[:_TRIAL_ROWS].detach().contiguous()
        try:
            ref = module(trial)
        except Exception:  # noqa: BLE001 - the model's own call raises it again, explained
            return None
        try:
            alt = module(as_channels_last(trial))
        except Exception:  # noqa: BLE001 - any failure in the other layout: keep the default
            return False
    return _same_outputs(ref, alt)


def channels_last_ok(module, t, trial: bool = True) -> bool:
    """Whether ``module`` gets chunks of ``t`` ``(n, ...)`` in channels-last layout: a candidate
    (see the module docstring) that was found to run on it and to give the same outputs;
    ``trial=False`` takes channels-last for every candidate without trying it. A module with a
    submodule in training mode is not tried (its trial could update batch-norm statistics or
    draw dropout masks)."""
    if t.shape[0] == 0 or not _candidate(module, t):
        return False
    if not trial:
        return True
    key = (tuple(t.shape[1:]), t.dtype)
    with _LOCK:
        keep = _CHOICES.get(module, {}).get(key)
    if keep is None:
        if any(m.training for m in module.modules()):
            return False
        keep = _decide(module, t)
        if keep is None:  # not remembered: a fixed model gets its trial next time
            return False
        with _LOCK:
            _CHOICES.setdefault(module, {})[key] = keep
    return keep


def layout_forward(module, t, trial: bool = True):
    """The forward to run on chunks of ``t`` ``(n, ...)``: ``module`` itself, or one that hands
    it its chunks in channels-last layout where :func:`channels_last_ok`."""
    if not channels_last_ok(module, t, trial):
        return module
    return lambda x: module(as_channels_last(x))
