"""Another library's attribution method (e.g. captum's ``DeepLift``) inside :class:`NoiseTunnel`.

:class:`_Foreign` gives any object with captum's ``attribute(inputs, target=...,
additional_forward_args=..., ...)`` the interface of this package's methods: its ``_run`` calls
``attribute`` once on all noisy copies, with targets and extra arguments gathered per copy.
"""

from __future__ import annotations

import inspect

import torch

from ._base import _GradientAttribution


class _Foreign(_GradientAttribution):
    """``method.attribute`` run on rows, each row tagged with its example.

    Parameters
    ----------
    method : object
        Has ``attribute(inputs, ...)`` taking a tuple of tensors and the keywords ``target``
        and ``additional_forward_args`` (captum's convention) and returning a tuple of
        tensors (and deltas with ``return_convergence_delta=True``).
    """

    def __init__(self, method):
        self.method = method
        self.forward_func = getattr(method, "forward_func", None)
        self._names = list(inspect.signature(method.attribute).parameters)[1:]
        self._BASELINES = "per_example" if "baselines" in self._names else "none"

    def has_convergence_delta(self) -> bool:
        has = getattr(self.method, "has_convergence_delta", None)
        return bool(has()) if callable(has) else False

    @property
    def multiplies_by_inputs(self) -> bool:
        return bool(getattr(self.method, "multiplies_by_inputs", False))

    def _argument_names(self) -> list[str]:
        return self._names

    def _options(self, **options) -> dict:
        return options

    def _run(self, xs, bs, call, delta, rngs, **options):
        kwargs = dict(options)
        if call.target is not None:
            T = call.target if call.index is None else call.target.index_select(0, call.index)
            kwargs["target"] = T[:, 0] if T.shape[1] == 1 else [tuple(t) for t in T.tolist()]
        args = call._row_args()
        if args:
            kwargs["additional_forward_args"] = args
        if bs is not None:
            kwargs["baselines"] = tuple(b.expand_as(x) for b, x in zip(bs, xs, strict=True))
        if kwargs.get("feature_mask") is not None and call.index is not None:
            kwargs["feature_mask"] = _per_copy(kwargs["feature_mask"], xs, call.index, call.N)
        if delta:
            kwargs["return_convergence_delta"] = True
        out = self.method.attribute(tuple(xs), **kwargs)
        attrs, d = out if delta else (out, None)
        attrs = attrs if isinstance(attrs, tuple) else (attrs,)
        return tuple(torch.as_tensor(a) for a in attrs), d


def _per_copy(mask, xs, index: torch.Tensor, N: int):
    """A feature mask with one row per example (``N``), gathered per noisy copy (``index``:
    each row's example), as captum repeats it per copy; any other mask stays as it is (one
    shared by the batch, or one of a wrong size, which the method then refuses)."""
    one = not isinstance(mask, tuple)
    masks = (mask,) if one else mask
    out = tuple(
        m.index_select(0, index.to(m.device))
        if isinstance(m, torch.Tensor) and m.dim() == x.dim() and m.shape[0] == N > 1
        else m
        for m, x in zip(masks, xs, strict=False)
    )
    return out[0] if one else out
