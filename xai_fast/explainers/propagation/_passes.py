"""The two passes of DeepLift on paired rows, chunked: multipliers of the targeted outputs.

``_multipliers(call, xs, bs, eps, chunk, shared)`` runs the baselines (recording), then each
chunk of inputs with the rules in place, and differentiates the targeted outputs of the inputs
with respect to them. Rows ``r`` of ``xs`` and ``bs`` are one pair. With ``shared`` the baseline
pass runs once on the distinct baseline rows and the rules broadcast its records over the pairs;
otherwise each chunk's baseline rows are run before its inputs.
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import torch

from ..._runtime.model_errors import USER_ERRORS
from ..gradient._call import _Call, _differentiable
from ..layer._hooks import _LayerHooks
from ._mode import _divergent, _Rules, _Ungatherable

__all__ = ["_check_completeness", "_multipliers"]

#: Input values per chunk when no chunk size is given (4 MiB of float32 inputs). A model's
#: activations are often several times its input, and the rules' backward passes stream them:
#: chunks about the size of the cache ran 1.3-1.9x faster than four times larger ones (a small
#: CNN on 3x32x32 images, 100 baselines: DeepExplainer 3.65 -> 2.15 s, DeepLiftShap 1.02 ->
#: 0.53 s; an MLP on 30 features 0.53 -> 0.50 s).
_CHUNK_VALUES = 1 << 20


def _in_mode(call: _Call, mode: _Rules) -> _Call:
    """``call`` whose model runs inside ``mode`` (target selection and checks outside it)."""
    inner = copy.copy(call)
    forward = call.forward_func

    def run(*args):
        with mode:
            out = forward(*args)
        if mode.final is not None and out is mode.final[0]:
            mode.final[1].on = True
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


def _multipliers(
    calls,
    xs,
    bs,
    eps: float,
    chunk: int | None,
    shared=None,
    layer=None,
    to_layer_input=True,
):
    """DeepLIFT multipliers of every pair of rows, for one or several targets.

    Parameters
    ----------
    calls : _Call or list of _Call
        The model call for these rows (row ``r`` belongs to the example ``call`` maps it to);
        several calls differ only in their targets and share one forward per pass.
    xs, bs : tuple of torch.Tensor, each (R, ...)
        Input rows and their paired baseline rows, the same shapes.
    eps : float
    chunk : int or None
        Rows per pass; ``None`` picks about ``2**20`` input values per chunk.
    shared : (tuple of torch.Tensor (M, ...), torch.Tensor (R,)), optional
        The ``M`` distinct baseline rows and which one each pair uses. When the model allows
        it, the baseline pass then runs once on the ``M`` rows and its tape is gathered per
        pair (otherwise, as without ``shared``, on all ``R`` paired rows).
    layer : torch.nn.Module, optional
        Attribute to this submodule's positional inputs (or, without ``to_layer_input``, its
        output tensors) instead of the model's inputs; it must run once per forward.
    to_layer_input : bool, default True
        With ``layer``: its positional inputs, or its output.

    Returns
    -------
    multipliers : tuple of torch.Tensor, each (R, ...)
        With a list of calls, a list of such tuples, one per call.
    y, y_b : torch.Tensor, shape (R,)
        Targeted outputs of the inputs and of the baselines; ``(T, R)`` for a list of calls.
    layer_values : (tuple of torch.Tensor, tuple of torch.Tensor), only with ``layer``
        The layer's inputs (or outputs) on the input rows and on their paired baseline rows,
        each (R, ...).
    """
    one = not isinstance(calls, list)
    calls = [calls] if one else calls
    R = xs[0].shape[0]
    if chunk is None:
        per_row = sum(x[0].numel() for x in xs)
        chunk = max(1, _CHUNK_VALUES // max(per_row, 1))
    out = None
    if shared is not None and _shareable(calls[0]) and shared[0][0].shape[0] < min(chunk, R):
        M = shared[0][0].shape[0]
        chunk = max(M, chunk - chunk % M)  # whole tilings of the M baselines per chunk
        while R % chunk == M:  # a last chunk of M rows could not tell rows from other axes
            chunk += M
        try:
            out = _passes(calls, xs, bs, eps, chunk, shared, layer, to_layer_input)
        except (_Ungatherable, *USER_ERRORS):
            pass  # a layout the tape cannot be gathered along, or a model that wants the
            # paired rows: one baseline row per pair (which raises again if the model does)
    if out is None:
        out = _passes(calls, xs, bs, eps, chunk, None, layer, to_layer_input)
    mults, y, y_b, acts = out
    _check_finite(y, "inputs")
    _check_finite(y_b, "baselines")
    if one:
        mults, y, y_b = mults[0], y[0], y_b[0]
    return (mults, y, y_b) if layer is None else (mults, y, y_b, acts)


def _check_finite(ys, what: str) -> None:
    """Raise when a targeted output of the model on the ``what`` rows is NaN or inf (every
    multiplier of those rows would be NaN)."""
    for y in ys:
        bad = ~torch.isfinite(y.detach())
        if bool(bad.any()):
            raise ValueError(
                f"the model returned NaN or inf at the target on the {what} of "
                f"{int(bad.sum())} of {y.shape[0]} rows; their attributions would be NaN. "
                f"Check the {what} (NaN in them?) and the model."
            )


def _layer_hook(layer, to_input: bool, model=None):
    """The hooks keeping ``layer``'s positional inputs (or output) of one forward, as they are
    in the graph; clones go on downstream."""
    if layer is None:
        return contextlib.nullcontext(None)
    return _LayerHooks((layer,), to_input, "keep", model=model)


def _memoised(call: _Call) -> _Call:
    """``call`` whose forward runs once; later calls with the same rows reuse its output (so
    several targets share one forward)."""
    inner = copy.copy(call)
    forward, kept = call.forward_func, []

    def run(*args):
        if not kept:
            kept.append(forward(*args))
        return kept[0]

    inner.forward_func = run
    return inner


def _retarget(calls, sub: _Call) -> list:
    """``sub`` (one chunk's call of ``calls[0]``) for each call's target."""
    return [sub.retargeted(c) for c in calls]


def _passes(calls, xs, bs, eps: float, chunk: int, shared, layer, to_input=True):
    R, device = xs[0].shape[0], xs[0].device
    call, T = calls[0], len(calls)
    mults = None if layer is not None else [_empty(xs) for _ in calls]
    ys, ybs, acts_x, acts_b = [], [], [], []
    if shared is not None:  # one baseline pass on the M distinct rows, its full outputs
        distinct, which = shared
        tape: list = []
        record = _Rules(distinct, tape, False, eps)
        with torch.no_grad(), record, _layer_hook(layer, to_input, call.forward_func) as hook:
            out_b = call.forward_func(*distinct, *call.args)
        distinct_acts = None if hook is None else tuple(a.detach() for a in hook.taken())
        if distinct_acts is not None and any(
            v.shape[0] != distinct[0].shape[0] for v in distinct_acts
        ):
            raise _Ungatherable
        if not isinstance(out_b, torch.Tensor) or out_b.dim() == 0:
            raise _Ungatherable
    for a, b, sub in call.chunks(R, chunk, device):
        subs = _retarget(calls, sub)
        if shared is None:
            base_rows = tuple(t[a:b] for t in bs)
            tape = []
            gather = None
            with torch.no_grad(), _layer_hook(layer, to_input, call.forward_func) as hook:
                base = [_memoised(_in_mode(sub, _Rules(base_rows, tape, False, eps)))]
                base = _retarget(calls, base[0])
                ybs.append(torch.stack([s(base_rows) for s in base]))
                if hook is not None:
                    acts_b.append(tuple(v.detach() for v in hook.taken()))
        else:
            j = which[a:b]
            M = distinct[0].shape[0]
            tiled = (b - a) % M == 0 and torch.equal(j, torch.arange(b - a, device=device) % M)
            gather = (M, j, tiled)
            if out_b.shape[0] != gather[0]:
                raise _Ungatherable
            with torch.no_grad():
                picked = out_b.index_select(0, j)
                ybs.append(torch.stack([s._select(picked) for s in subs]))
            if distinct_acts is not None:
                acts_b.append(tuple(v.index_select(0, j) for v in distinct_acts))
        # integer rows (token ids before an embedding layer) are tracked, not differentiated
        rows = tuple(
            t[a:b].detach().requires_grad_() if t.is_floating_point() else t[a:b] for t in xs
        )
        replay = _Rules(rows, tape, True, eps, gather)
        with _layer_hook(layer, to_input, call.forward_func) as hook:
            run = _retarget(calls, _memoised(_in_mode(sub, replay)))
            y = [s(rows) for s in run]
            wrt = rows if hook is None else hook.taken()
        if replay.at != len(tape):
            raise _divergent(tape[replay.at][0] + " (not run on the inputs)", "it")
        if layer is not None:
            acts_x.append(tuple(v.detach() for v in wrt))
            if mults is None:
                mults = [
                    _empty(tuple(v[:1].expand((R,) + v.shape[1:]) for v in wrt)) for _ in calls
                ]
        for t in range(T):
            _differentiable(y[t])
            grads = torch.autograd.grad(y[t].sum(), wrt, allow_unused=True, retain_graph=t < T - 1)
            for m, g in zip(mults[t], grads, strict=True):
                if g is None:
                    m[a:b] = 0
                else:
                    m[a:b] = g
        ys.append(torch.stack([v.detach() for v in y]))
    acts = None
    if layer is not None:
        acts = tuple(_joined(acts_x)), tuple(_joined(acts_b))
    return mults, torch.cat(ys, 1), torch.cat(ybs, 1), acts


def _joined(chunks):
    """Per tensor position, the chunks' tensors concatenated along the rows."""
    return (torch.cat(p) for p in zip(*chunks, strict=True))


def _empty(like) -> tuple:
    return tuple(torch.empty(x.shape, dtype=x.dtype, device=x.device) for x in like)


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
