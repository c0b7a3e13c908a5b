"""What the propagation modes share: which tensors depend on the inputs.

:class:`_Tracking` is the base of the ``TorchFunctionMode`` of each method (DeepLift's rules,
the guided / deconvolution ReLU): it remembers the tensors that depend on the explained rows
(``varying``) by identity, through weak references, so that a tensor freed and another one
allocated at the same address is never mistaken for it.
"""

from __future__ import annotations

import weakref

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["_Tracking", "flatten_call"]

_NESTS = (tuple, list, dict)


def _opaque(a) -> bool:
    """A leaf as far as the modes care: not a nest, or a flat tuple or list of non-tensors
    (a stride, a shape, a padding)."""
    if not isinstance(a, _NESTS):
        return True
    return not isinstance(a, dict) and not any(isinstance(t, (torch.Tensor, *_NESTS)) for t in a)


def flatten_call(args: tuple, kwargs: dict):
    """``(leaves, rebuild)``: the leaves of a call's arguments and the function that puts
    changed leaves back, ``rebuild(leaves) -> (args, kwargs)``. Flat arguments (the usual
    case; a tuple of ints such as a stride counts as one leaf) skip ``torch.utils._pytree``,
    which costs about as much as a small op."""
    if all(_opaque(a) for a in args) and all(_opaque(v) for v in kwargs.values()):
        n, keys = len(args), tuple(kwargs)

        def rebuild(leaves):
            return tuple(leaves[:n]), dict(zip(keys, leaves[n:], strict=True))

        return [*args, *kwargs.values()], rebuild
    leaves, spec = tree_flatten((args, kwargs))
    return leaves, lambda ls: tree_unflatten(list(ls), spec)


class _Tracking(TorchFunctionMode):
    """A torch-function mode that knows which tensors depend on ``rows`` (the tensors the model
    is called with). Subclasses mark the outputs of the calls they see with :meth:`_mark`."""

    def __init__(self, rows):
        super().__init__()
        self._varying: dict[int, weakref.ref] = {}
        for r in rows:
            self._mark(r)

    def _mark(self, out) -> None:
        """Mark every tensor in ``out`` (a tensor or a nest of them) as varying."""
        if isinstance(out, torch.Tensor):
            self._varying[id(out)] = weakref.ref(out)
            return
        if out is None:
            return
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self._varying[id(t)] = weakref.ref(t)

    def varies(self, t) -> bool:
        """Whether ``t`` is a tensor that depends on the rows."""
        if not isinstance(t, torch.Tensor):
            return False
        r = self._varying.get(id(t))
        return r is not None and r() is t
