"""The forward passes of DeepLift: every torch call seen, the DeepLIFT rules put in place.

:class:`_Rules` is a ``TorchFunctionMode`` active while the model runs. It tracks which tensors
depend on the explained rows (``varying``: the rows and whatever is computed from them); calls
on other tensors (parameters, constants) run untouched. A call with a varying operand is looked
up in :mod:`._ops`: linear ones run as they are, nonlinear ones run through a rule of
:mod:`._rules`, anything else raises, naming the operation.

The model runs twice, on the same number of rows: first on the baselines (``record``), keeping
the varying operands and the output of every nonlinear call in order on a tape, then on the
inputs, each nonlinear call paired with the taped call at the same position (``replay``). The
two passes must run the same operations on tensors of the same shapes.
"""

from __future__ import annotations

import functools
import inspect

import torch
from torch.utils._pytree import tree_flatten

from ..gradient.integrated_gradients import _quadrature
from . import _ops
from ._rules import _MaxPool, _Path, _Rescale
from ._tracking import _Tracking, flatten_call

__all__ = ["_Rules", "_Ungatherable"]

_TWO = _quadrature("gausslegendre", 2)  # exact for the gradient of a cubic
_EIGHT = _quadrature("gausslegendre", 8)
_GETTERS = frozenset({"T", "mT", "H", "mH", "real"})


def _unsupported(name: str, why: str = "") -> NotImplementedError:
    return NotImplementedError(
        f"DeepLift has no rule for the operation `{name}`, which the model applies to a tensor "
        f"that depends on the inputs{why}. Supported: elementwise nonlinearities (relu, "
        "leaky_relu, elu, selu, silu, gelu, softplus, sigmoid, tanh, ...), linear operations "
        "(linear, conv, add, sums, reshapes, average pooling, batch norm in eval mode), "
        "products, max pooling, softmax, log_softmax and layer_norm. Rewrite that part of the "
        "model with these, or use IntegratedGradients, which needs no rules."
    )


@functools.lru_cache(maxsize=512)
def _signature(func):
    """``inspect.signature(func)``, once per function (``None`` when it has none); a model's
    forward asks for the same few functions on every call."""
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


def _no_inplace(func, args, kwargs):
    """``args, kwargs`` with ``inplace=False`` where ``func`` takes that argument."""
    sig = _cached_signature(func)
    if sig is None or "inplace" not in sig.parameters:
        return args, kwargs
    bound = sig.bind(*args, **kwargs)
    bound.arguments["inplace"] = False
    return bound.args, bound.kwargs


def _out_of_place(func, name: str):
    """The out-of-place function of an in-place ``name`` (``relu_`` -> ``relu``)."""
    if name.endswith("_") and not name.endswith("__"):
        base = name[:-1]
        return getattr(torch.Tensor, base, None) or getattr(torch, base)
    return func


def _cached_signature(func):
    try:
        return _signature(func)
    except TypeError:  # an unhashable callable
        try:
            return inspect.signature(func)
        except (TypeError, ValueError):
            return None


def _argument(func, args, kwargs, key: str, position: int, default=None):
    sig = _cached_signature(func)
    try:
        if sig is None:
            raise TypeError
        bound = sig.bind(*args, **kwargs)
    except (TypeError, ValueError):
        return kwargs.get(key, args[position] if len(args) > position else default)
    bound.apply_defaults()
    return bound.arguments.get(key, default)


class _Rules(_Tracking):
    """The mode of one pass. ``rows``: the tensors the model is called with (varying);
    ``tape``: the list filled (``replay=False``) or read (``replay=True``); ``eps``: below this
    ``|x - x_b|`` an elementwise rule falls back to the derivative."""

    def __init__(self, rows, tape: list, replay: bool, eps: float, gather=None):
        super().__init__(rows)
        # a softmax that is the model's output passes multipliers elementwise (each probability
        # through its own logit: exact for the explained output, as shap's and captum's rule);
        # ``final`` holds the last softmax's (output, switch), the switch turned on when that
        # output is the model's
        self.final = None
        self.tape, self.replay, self.eps, self.at = tape, replay, eps, 0
        # (M, rows (R,), tiled): the tape holds M distinct baseline rows; tiled when row r
        # pairs with row r % M
        self.gather = gather

    # ------------------------------------------------------------------ dispatch
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        leaves, _ = flatten_call(args, kwargs)
        vary = [i for i, a in enumerate(leaves) if self.varies(a)]
        if not vary:
            return func(*args, **kwargs)
        name = _ops.op_name(func)
        if func in _ops.MAXPOOL:
            return self._maxpool(func, args, kwargs, leaves, vary)
        base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
        if base == "__get__":
            return self._getter(func, args, kwargs)
        if base in _ops.CREATION:
            return func(*args, **kwargs)
        if base in ("__setitem__", "copy"):
            out = func(*args, **kwargs)
            self._mark(args[0])
            return out
        if base in _ops.TRAINING:
            self._check_eval(func, base, args, kwargs)
        if base in _ops.LINEAR or (base in _ops.PRODUCT and len(vary) == 1):
            out = func(*args, **kwargs)
            if any(
                isinstance(t, torch.Tensor) and not t.is_floating_point()
                for t in tree_flatten(out)[0]
            ):
                raise _unsupported(name, " (to a result that is not floating point: a step)")
            self._mark(out)
            return out
        if base in _ops.PRODUCT:
            if len(vary) > 4:  # two points integrate the gradient of a quartic exactly
                raise _unsupported(name, " (a product of more than four such factors)")
            return self._rule(func, name, args, kwargs, "path", (_TWO, None))
        if base in _ops.DIVISION:
            if kwargs.get("rounding_mode") is not None:
                raise _unsupported(name, " (with rounding_mode: a step)")
            denominator = args[0] if base in ("__rtruediv__", "__rdiv__") else (args + (None,))[1]
            denominator = kwargs.get("other", denominator)
            if not self.varies(denominator):
                out = func(*args, **kwargs)
                self._mark(out)
                return out
            if len(vary) > 1:
                raise _unsupported(name, " (a division of two such tensors)")
            return self._rule(func, name, args, kwargs, "rescale", None)
        if base in _ops.RESCALE:
            if len(vary) > 1:
                raise _unsupported(name, " (with more than one operand depending on them)")
            return self._rule(func, name, args, kwargs, "rescale", None)
        if base in _ops.PATH:
            if len(vary) > 1 or not self.varies(args[0]):
                raise _unsupported(name, " (through an operand other than its input)")
            return self._rule(
                func, name, args, kwargs, "path", (_EIGHT, self._dims(func, base, args, kwargs))
            )
        raise _unsupported(name)

    def _getter(self, func, args, kwargs):
        attr = getattr(getattr(func, "__self__", None), "__name__", "?")
        out = func(*args, **kwargs)
        if not isinstance(out, torch.Tensor):
            return out
        if attr not in _GETTERS:
            raise _unsupported(f"Tensor.{attr}", " (it leaves the graph of the inputs)")
        self._mark(out)
        return out

    def _check_eval(self, func, base, args, kwargs) -> None:
        training = _argument(func, args, kwargs, "training", 5 if base == "batch_norm" else 2)
        if base == "batch_norm":
            stats = _argument(func, args, kwargs, "running_mean", 1)
            training = training or stats is None
        else:
            p = _argument(func, args, kwargs, "p", 1, 0.5)
            training = training and p != 0
        if training:
            raise ValueError(
                f"the model runs `{base}` in training mode, which "
                + ("mixes the examples of a batch" if base == "batch_norm" else "is random")
                + "; DeepLift needs the same function for the inputs and the baselines. Call "
                "model.eval() before attributing."
            )

    @staticmethod
    def _dims(func, base, args, kwargs) -> tuple[int, ...]:
        if base == "layer_norm":
            shape = _argument(func, args, kwargs, "normalized_shape", 1)
            k = 1 if isinstance(shape, int) else len(shape)
            return tuple(range(-k, 0))
        dim = _argument(func, args, kwargs, "dim", 1)
        if dim is None:
            raise ValueError(f"`{base}` is called without dim; pass dim explicitly in the model.")
        return (dim,)

    # ------------------------------------------------------------------ rules
    def _taped(self, name: str, operands, out):
        """Record (baseline pass) or fetch (input pass) the paired call at this position."""
        if not self.replay:
            self.tape.append(
                (name, tuple(t.detach().clone() for t in operands), out.detach().clone())
            )
            return None
        if self.at >= len(self.tape):
            raise _divergent(name, "an operation the baselines did not run")
        got, bs, y_b = self.tape[self.at]
        self.at += 1
        if got != name:
            raise _divergent(name, f"`{got}`")
        if self.gather is not None:  # checks the shapes, row counts aside
            return self._gathered(bs, operands, y_b)
        if any(b.shape != t.shape for b, t in zip(bs, operands, strict=False)):
            raise _divergent(name, f"`{got}` on shapes {[tuple(b.shape) for b in bs]}")
        return bs, y_b

    def _gathered(self, bs, operands, y_b):
        """Taped values of ``M`` distinct baseline rows, taken for the ``R`` rows of this pass.

        Only tensors laid out ``(M, ...)`` against ``(R, ...)`` here can be mapped; anything else
        raises :class:`_Ungatherable` and the caller reruns with one baseline row per pair."""
        M, j, tiled = self.gather
        R = j.shape[0]
        shapes = [(b.shape, t.shape) for b, t in zip(bs, operands, strict=False)]
        if (
            y_b.dim() == 0
            or y_b.shape[0] != M
            or any(
                len(sb) != len(st) or sb[0] != M or st[0] != R or sb[1:] != st[1:]
                for sb, st in shapes
            )
        ):
            raise _Ungatherable
        if tiled:  # row r pairs with baseline row r % M: the rules broadcast
            return bs, y_b
        return tuple(b.index_select(0, j) for b in bs), y_b.index_select(0, j)

    def _rule(self, func, name, args, kwargs, kind, path):
        args, kwargs = _no_inplace(func, args, kwargs)
        func = _out_of_place(func, name)
        leaves, rebuild = flatten_call(args, kwargs)
        vary = [i for i, a in enumerate(leaves) if self.varies(a)]

        def fn(*ts):
            ls = list(leaves)
            for i, t in zip(vary, ts, strict=True):
                ls[i] = t
            a, k = rebuild(ls)
            return func(*a, **k)

        xs = tuple(leaves[i] for i in vary)
        if not self.replay:
            out = fn(*xs)
            self._taped(name, xs, out)
            self._mark(out)
            return out
        if kind == "rescale":
            (x,) = xs
            (x_b,), y_b = self._taped(name, xs, None)
            out = _Rescale.apply(x, x_b, y_b, fn, self.eps)
            if out.shape != x.shape:
                raise _unsupported(name, " (it broadcasts its input to a larger shape)")
        else:
            (nodes, weights), dims = path
            bs, y_b = self._taped(name, xs, None)
            switch = _Switch() if name in ("softmax", "softmax_") else None
            out = _Path.apply(fn, nodes, weights, dims, self.eps, y_b, switch, len(xs), *xs, *bs)
            if switch is not None:
                self.final = (out, switch)
        self._mark(out)
        return out

    def _maxpool(self, func, args, kwargs, leaves, vary):
        name = getattr(func, "__name__", "max_pool")
        with_indices, k = _ops.MAXPOOL[func]
        if len(vary) > 1 or not self.varies(args[0]):
            raise _unsupported(name, " (through an operand other than its input)")
        indices = _argument(with_indices, args, kwargs, "return_indices", 99, False)
        rest = args[1:]

        def pool(t):
            return with_indices(t, *rest, **kwargs)

        x = args[0]
        if not self.replay:
            y, idx = pool(x)
            self._taped("max_pool", (x, idx), y)
        else:
            (x_b, idx_b), y_b = self._taped("max_pool", (x,), None)
            y = _MaxPool.apply(x, x_b, y_b, idx_b, pool, k, self.eps)
            idx = pool(x.detach())[1] if indices else None
        self._mark(y)
        return (y, idx) if indices else y


class _Switch:
    """Whether a softmax's rule is the elementwise one of a final softmax (set once the
    forward is done)."""

    on = False


class _Ungatherable(Exception):
    """A taped tensor of the shared baseline pass has no row axis to gather along."""


def _divergent(name: str, what: str) -> ValueError:
    return ValueError(
        f"the model ran `{name}` on the inputs where it ran {what} on the baselines; DeepLift "
        "pairs each operation on the inputs with the same one on the baselines, so the forward "
        "must run the same operations on both (no control flow that depends on the values)."
    )
