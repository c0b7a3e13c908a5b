"""The two passes of DeepLift on paired rows, chunked: multipliers of the targeted outputs.

``_multipliers(call, xs, bs, eps, chunk, shared)`` runs the baselines (recording), then each
chunk of inputs with the rules in place, and differentiates the targeted outputs of the inputs
with respect to them. Rows ``r`` of ``xs`` and ``bs`` are one pair. With ``shared`` the baseline
pass runs once on the distinct baseline rows and the rules broadcast its records over the pairs;
otherwise each chunk's baseline rows are run before its inputs.
"""

from __future__ import annotations

import copy
import warnings

import torch

from ..._runtime.model_errors import USER_ERRORS
from ..gradient._call import _Call, _differentiable
from ._mode import _divergent, _Rules, _Ungatherable

__all__ = ["_check_completeness", "_multipliers"]

#: Input values per chunk when no chunk size is given (about 16 MiB of float32 inputs).
_CHUNK_VALUES = 1 << 22


def _in_mode(call: _Call, mode: _Rules) -> _Call:
    """``call`` whose model runs inside ``mode`` (target selection and checks outside it)."""
    inner = copy.copy(call)
    forward = call.forward_func

    def run(*args):
        with mode:
            out = forward(*args)
        if mode.replay and isinstance(out, torch.Tensor) and not mode.varies(out):
            raise NotImplementedError(
                "the model's output does not depend on the inputs through operations DeepLift "
                "sees: something between them runs outside torch's function overrides (a "
                "custom torch.autograd.Function, for one), so no rule can be applied there. "
                "Write that part with torch operations, or use IntegratedGradients."
            )
        return out

    inner.forward_func = run
    return inner


def _shareable(call: _Call) -> bool:
    """Whether the baselines' outputs do not depend on the example they are paired with: no
    extra forward argument with a batch axis."""
    return not any(isinstance(a, torch.Tensor) and a.dim() > 0 for a in call.args)


def _multipliers(call: _Call, xs, bs, eps: float, chunk: int | None, shared=None):
    """DeepLIFT multipliers of every pair of rows.

    Parameters
    ----------
    call : _Call
        The model call for these rows (row ``r`` belongs to the example ``call`` maps it to).
    xs, bs : tuple of torch.Tensor, each (R, ...)
        Input rows and their paired baseline rows, the same shapes.
    eps : float
    chunk : int or None
        Rows per pass; ``None`` picks about ``2**22`` input values per chunk.
    shared : (tuple of torch.Tensor (M, ...), torch.Tensor (R,)), optional
        The ``M`` distinct baseline rows and which one each pair uses. When the model allows
        it, the baseline pass then runs once on the ``M`` rows and its tape is gathered per
        pair (otherwise, as without ``shared``, on all ``R`` paired rows).

    Returns
    -------
    multipliers : tuple of torch.Tensor, each (R, ...)
    y, y_b : torch.Tensor, shape (R,)
        Targeted outputs of the inputs and of the baselines.
    """
    R = xs[0].shape[0]
    if chunk is None:
        per_row = sum(x[0].numel() for x in xs)
        chunk = max(1, _CHUNK_VALUES // max(per_row, 1))
    if shared is not None and _shareable(call) and shared[0][0].shape[0] < min(chunk, R):
        M = shared[0][0].shape[0]
        chunk = max(M, chunk - chunk % M)  # whole tilings of the M baselines per chunk
        while R % chunk == M:  # a last chunk of M rows could not tell rows from other axes
            chunk += M
        try:
            return _passes(call, xs, bs, eps, chunk, shared)
        except (_Ungatherable, *USER_ERRORS):
            pass  # a layout the tape cannot be gathered along, or a model that wants the
            # paired rows: one baseline row per pair (which raises again if the model does)
    return _passes(call, xs, bs, eps, chunk, None)


def _passes(call: _Call, xs, bs, eps: float, chunk: int, shared):
    R, device = xs[0].shape[0], xs[0].device
    mults = tuple(torch.empty(x.shape, dtype=x.dtype, device=x.device) for x in xs)
    ys, ybs = [], []
    if shared is not None:  # one baseline pass on the M distinct rows, its full outputs
        distinct, which = shared
        tape: list = []
        record = _Rules(distinct, tape, False, eps)
        with torch.no_grad(), record:
            out_b = call.forward_func(*distinct, *call.args)
        if not isinstance(out_b, torch.Tensor) or out_b.dim() == 0:
            raise _Ungatherable
    for a in range(0, R, chunk):
        b = min(a + chunk, R)
        sub = call if b - a == R else call.expand(torch.arange(a, b, device=device))
        if shared is None:
            base_rows = tuple(t[a:b] for t in bs)
            tape = []
            gather = None
            with torch.no_grad():
                ybs.append(_in_mode(sub, _Rules(base_rows, tape, False, eps))(base_rows))
        else:
            j = which[a:b]
            M = distinct[0].shape[0]
            tiled = (b - a) % M == 0 and torch.equal(j, torch.arange(b - a, device=device) % M)
            gather = (M, j, tiled)
            if out_b.shape[0] != gather[0]:
                raise _Ungatherable
            with torch.no_grad():
                ybs.append(sub._select(out_b.index_select(0, j)))
        rows = tuple(t[a:b].detach().requires_grad_() for t in xs)
        replay = _Rules(rows, tape, True, eps, gather)
        y = _in_mode(sub, replay)(rows)
        if replay.at != len(tape):
            raise _divergent(tape[replay.at][0] + " (not run on the inputs)", "it")
        _differentiable(y)
        grads = torch.autograd.grad(y.sum(), rows, allow_unused=True)
        for m, g in zip(mults, grads, strict=True):
            if g is None:
                m[a:b] = 0
            else:
                m[a:b] = g
        ys.append(y.detach())
    return mults, torch.cat(ys), torch.cat(ybs)


def _check_completeness(mults, xs, bs, y, y_b, owner: str) -> None:
    """Warn when ``sum(m * (x - b))`` misses ``y - y_b`` by more than 1e-3 of the outputs'
    scale: an operation the rules could not see (a custom autograd Function, a C++ op)."""
    total = sum(
        ((x - b) * m).reshape(len(y), -1).sum(1) for m, x, b in zip(mults, xs, bs, strict=True)
    )
    miss = (total - (y - y_b)).abs()
    scale = y.abs() + y_b.abs() + torch.finfo(y.dtype).tiny
    worst = float((miss / scale).max())
    if worst > 1e-3:
        warnings.warn(
            f"{owner}'s attributions miss f(x) - f(baseline) by up to {worst:.2g} of the outputs' "
            "size; some operation of the model ran outside the rules (a custom autograd "
            "Function or an operation that bypasses torch's function overrides). Check the "
            "model, or compare with IntegratedGradients.",
            RuntimeWarning,
            stacklevel=4,
        )
