"""The model call of the gradient methods: forward, targets, gradients and outputs.

:class:`_Call` evaluates ``forward_func`` on a batch of rows, each row tagged with the example it
belongs to, with the extra forward arguments and targets gathered per row; ``_gradients`` takes
``torch.autograd.grad`` of the targeted outputs with respect to the rows (never the parameters);
``_values`` and ``_delta`` evaluate outputs without gradients.
"""

from __future__ import annotations

import contextlib
import copy

import torch

from ..._runtime.memory_format import as_channels_last, channels_last_ok
from ..._runtime.model_errors import USER_ERRORS, reraise
from ..._validation import check_target


def _check_forward_func(forward_func) -> None:
    """TypeError unless ``forward_func`` is callable (a module or a function)."""
    if not callable(forward_func):
        raise TypeError(
            "forward_func must be a torch.nn.Module or a callable taking the input tensors (and "
            f"additional_forward_args) and returning a tensor; got {type(forward_func).__name__}."
        )


class _Call:
    """``forward_func`` with its extra arguments and targets, on rows that each belong to one of
    the ``N`` examples.

    ``index`` maps the rows to their examples; ``None`` means the rows are the examples, and the
    extra arguments are then passed unchanged. Otherwise every tensor among them with a batch
    axis is gathered per row, as captum expands them.
    """

    def __init__(self, forward_func, additional_forward_args, target, N: int, device):
        self.forward_func = forward_func
        if additional_forward_args is None:
            self.args = ()
        elif isinstance(additional_forward_args, tuple):
            self.args = additional_forward_args
        else:
            self.args = (additional_forward_args,)
        self.N = N
        self.target = check_target(target, N, device)
        # one target for every example: its indices as ints, selected by basic indexing
        self.shared = None
        if self.target is not None and (N == 1 or self.target.stride(0) == 0):  # expanded
            self.shared = tuple(self.target[0].tolist())
        # range of each target column, checked against the output's shape on every call
        if self.target is None:
            self.bounds = None
        elif self.shared is not None:
            self.bounds = [(t, t) for t in self.shared]
        else:
            lo, hi = self.target.aminmax(dim=0)
            self.bounds = list(zip(lo.tolist(), hi.tolist(), strict=True))
        self.index = None
        self.channels_last = False  # see use_fast_layout

    def use_fast_layout(self, xs) -> _Call:
        """Hand a module its image rows channels-last where that is its fast layout and gives
        the same outputs (:func:`~xai_fast._runtime.memory_format.channels_last_ok`; one
        input tensor, no extra arguments). A forward function with a ``layout_module``
        attribute (a neuron's) runs that module on its rows as they come, so the module's
        choice applies to it. Call before any hook is placed on the model."""
        fn = self.forward_func
        module = fn if isinstance(fn, torch.nn.Module) else getattr(fn, "layout_module", None)
        if len(xs) == 1 and not self.args and isinstance(module, torch.nn.Module):
            self.channels_last = channels_last_ok(module, xs[0])
        return self

    def expand(self, ex: torch.Tensor) -> _Call:
        """The call for new rows, row ``r`` belonging to (current) example ``ex[r]``."""
        new = copy.copy(self)
        new.index = ex if self.index is None else self.index.index_select(0, ex)
        return new

    def retargeted(self, other: _Call) -> _Call:
        """This call with ``other``'s target (same rows and extra arguments)."""
        new = copy.copy(self)
        new.target, new.bounds, new.shared = other.target, other.bounds, other.shared
        return new

    def chunks(self, R: int, step: int | None, device):
        """``(a, b, call)`` for consecutive chunks ``a:b`` of this call's ``R`` rows, ``step``
        rows each (all at once when ``None``), each with the call for its rows."""
        step = max(1, R if step is None else step)
        for a in range(0, R, step):
            b = min(a + step, R)
            yield a, b, (self if b - a == R else self.expand(torch.arange(a, b, device=device)))

    def _row_args(self) -> tuple:
        if self.index is None:
            return self.args
        out = []
        for k, a in enumerate(self.args):
            if isinstance(a, torch.Tensor) and a.dim() > 0:
                if a.shape[0] != self.N:
                    raise ValueError(
                        f"additional_forward_args[{k}] has shape {tuple(a.shape)}; tensors among "
                        f"them are expanded with the inputs and need the {self.N} examples on "
                        "axis 0. Pass a tensor shared by all examples through a closure instead, "
                        "e.g. lambda x: model(x, shared)."
                    )
                a = a.index_select(0, self.index.to(a.device))
            out.append(a)
        return tuple(out)

    def raw(self, rows: tuple[torch.Tensor, ...]):
        """The model's own output on ``rows`` (no target selected), image rows handed over
        channels-last where :meth:`use_fast_layout` chose that layout."""
        if self.channels_last and rows[0].dim() == 4:
            rows = (as_channels_last(rows[0]),)
        try:
            return self.forward_func(*rows, *self._row_args())
        except USER_ERRORS as err:
            reraise(err, tuple(rows), "forward_func")

    def __call__(self, rows: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The targeted output of every row, shape ``(R,)``; differentiable when the rows are."""
        R = rows[0].shape[0]
        out = self.raw(rows)
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"forward_func returned {type(out).__name__}; expected a tensor of shape ({R},) "
                f"or ({R}, k)."
            )
        if out.dim() == 0 or out.shape[0] != R:
            raise ValueError(
                f"forward_func returned an output of shape {tuple(out.shape)} for {R} input "
                f"rows; expected the rows on axis 0, e.g. ({R},) or ({R}, k)."
            )
        y = self._select(out)
        finite = torch.isfinite(y.detach())
        if not bool(finite.all()):
            bad = torch.nonzero(~finite)[:, 0]
            if self.index is not None:
                bad = self.index.index_select(0, bad.to(self.index.device))
            examples = sorted(set(bad.tolist()))
            raise ValueError(
                f"forward_func returned NaN or inf at the target for example(s) {examples[:10]}"
                f"{' ...' if len(examples) > 10 else ''} (at the inputs, baselines or points "
                "between them); gradients of non-finite outputs are meaningless. Check those "
                "inputs and the model."
            )
        return y

    def _select(self, out: torch.Tensor) -> torch.Tensor:
        R, per = out.shape[0], tuple(out.shape[1:])
        if self.target is None:
            if out[0].numel() != 1:
                raise ValueError(
                    f"the model returns outputs of shape {per} per example and target is None; "
                    "gradients need one value per example. Pass target=<output index>: an int "
                    "for all examples, or one int per example (list or 1-D tensor)."
                )
            return out.reshape(R)
        m = self.target.shape[1]
        if len(per) < m:
            raise ValueError(
                f"target indexes {m} output axis/axes but the model returns outputs of shape "
                f"{per} per example; pass target=None for one value per example, or one index "
                "per output axis."
            )
        for j, (lo, hi) in enumerate(self.bounds):
            size = per[j]
            if lo < -size or hi >= size:
                bad = lo if lo < -size else hi
                raise ValueError(
                    f"target {bad} is out of range for output axis {j + 1} of size {size} (the "
                    f"model returns {per} per example); targets must lie in 0..{size - 1}."
                )
        if self.shared is not None:  # a view; its backward writes one slice
            y = out[(slice(None), *self.shared)]
        else:
            T = self.target if self.index is None else self.target.index_select(0, self.index)
            T = T.to(out.device)
            cols = [torch.remainder(T[:, j], size) for j, size in enumerate(per[:m])]
            y = out[(torch.arange(R, device=out.device), *cols)]
        if y[0].numel() != 1:
            raise ValueError(
                f"the targeted output still has shape {tuple(y.shape[1:])} per example; "
                "gradients need one value per example. Pass a tuple target with one index per "
                f"output axis (the model returns {per} per example)."
            )
        return y.reshape(R)


def _differentiable(y: torch.Tensor) -> None:
    if not y.requires_grad:
        raise TypeError(
            "the targeted output does not depend differentiably on what is attributed (it "
            "carries no gradient); forward_func must compute it with torch operations, without "
            "torch.no_grad(), .detach() or conversions to numpy."
        )


def _gradients(call: _Call, rows) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Gradients of the targeted outputs with respect to ``rows`` (same shapes) and the outputs
    ``(R,)``. Inputs the output does not use get zero gradients."""
    rows = tuple(r.detach().requires_grad_() for r in rows)
    y = call(rows)
    _differentiable(y)
    grads = torch.autograd.grad(y.sum(), rows, allow_unused=True)
    grads = tuple(torch.zeros_like(r) if g is None else g for r, g in zip(rows, grads, strict=True))
    return grads, y.detach()


def _values(call: _Call, rows, chunk: int | None = None) -> torch.Tensor:
    """Targeted outputs ``(R,)`` of ``rows``, without gradients, in chunks of ``chunk`` rows."""
    parts = []
    with torch.no_grad():
        for a, b, sub in call.chunks(rows[0].shape[0], chunk, rows[0].device):
            parts.append(sub(tuple(r[a:b] for r in rows)))
    return torch.cat(parts)


def _delta(call: _Call, attrs, xs, bs, chunk: int | None = None) -> torch.Tensor:
    """Per example: sum of attributions - (f(x) - f(baseline)), shape ``(N,)``."""
    N = xs[0].shape[0]
    ends = tuple(torch.cat([x, b.expand_as(x)]) for x, b in zip(xs, bs, strict=True))
    ex = torch.arange(N, device=xs[0].device).repeat(2)
    f = _values(call.expand(ex), ends, chunk)
    total = sum(a.reshape(N, -1).sum(1) for a in attrs)
    return total - (f[:N] - f[N:])


def _delta_apart(call: _Call, attrs, xs, bs, chunk: int | None = None) -> torch.Tensor:
    """As ``_delta``, with the inputs and the baselines evaluated as two batches of ``N`` rows
    (the batches DeepLift's passes run, so float32 rounding matches theirs)."""
    N = xs[0].shape[0]
    f = _values(call, xs, chunk)
    f_b = _values(call, tuple(b.expand_as(x) for x, b in zip(xs, bs, strict=True)), chunk)
    total = sum(a.reshape(N, -1).sum(1) for a in attrs)
    return total - (f - f_b)


@contextlib.contextmanager
def _autograd():
    """Gradients on, also inside the caller's ``torch.no_grad()`` or ``inference_mode()``."""
    if torch.is_grad_enabled() and not torch.is_inference_mode_enabled():
        yield  # already on: entering the modes costs more than a small model's backward
        return
    with torch.inference_mode(False), torch.enable_grad():
        yield
