"""The DeepLIFT rules as autograd functions: each runs its op forward and, backward, passes on
multipliers that conserve ``grad . delta`` between the op's output and its inputs.

Every function gets the op's inputs ``x`` on the explained rows and the same op's inputs ``x_b``
and output ``y_b`` recorded on the paired baseline rows: the same shapes, or ``M`` rows tiled
over the ``n * M`` explained rows (row ``r`` paired with baseline row ``r % M``). Conservation
per op, ``sum(g_out * (y - y_b)) == sum(g_in * (x - x_b))`` per example, is what makes the
attributions of a whole model add up to ``f(x) - f(baseline)``: linear ops conserve it under
the chain rule.

- :class:`_Rescale`: elementwise ops, multiplier ``(y - y_b) / (x - x_b)``; the op's own
  derivative where ``|x - x_b| < eps``.
- :class:`_MaxPool`: each window's output difference goes to one input of the window, the
  argmax on the side (input or baseline) whose maximum is larger.
- :class:`_Path`: any other differentiable op, the vector-Jacobian product averaged over
  Gauss-Legendre points between baseline and input, corrected along ``x - x_b`` per slice so that
  the conservation is exact (softmax, log-softmax, layer norm; products of two varying operands,
  where two points are exact already). A softmax that is the model's output (``switch`` on)
  passes ``g * (y - y_b) / (x - x_b)`` elementwise instead: it conserves as exactly, and each
  explained probability then only goes through its own logit, which float32 rounding of large
  logits cannot upset (the path rule spreads it over logits whose differences are rounding).
"""

from __future__ import annotations

import torch

from ._rescale import rescale_multiplier

__all__ = ["_MaxPool", "_Path", "_Rescale"]


def _safe(d: torch.Tensor, small: torch.Tensor) -> torch.Tensor:
    return torch.where(small, torch.ones_like(d), d)


def _tiled(a: torch.Tensor, b: torch.Tensor):
    """``a`` ``(n * M, ...)`` viewed ``(n, M, ...)`` when ``b`` holds ``M`` rows tiled over
    ``a``'s (the distinct baselines of a shared pass), else ``a`` as it is."""
    if b.dim() == 0 or b.shape[0] == a.shape[0]:
        return a
    return a.view((a.shape[0] // b.shape[0],) + tuple(b.shape))


def _minus(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a - b`` row by row, ``b``'s rows tiled over ``a``'s when it holds fewer."""
    return (_tiled(a, b) - b).view(a.shape)


def _rows_tile(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether ``b``'s rows tile ``a``'s: ``(M, ...)`` against ``(R, ...)``, ``R % M == 0``."""
    return (
        a.dim() >= 1
        and b.dim() == a.dim()
        and b.shape[1:] == a.shape[1:]
        and b.shape[0] > 0
        and a.shape[0] % b.shape[0] == 0
    )


def _full(b: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``b``'s rows tiled to ``like``'s number of rows."""
    if b.shape[0] == like.shape[0]:
        return b
    return b.repeat((like.shape[0] // b.shape[0],) + (1,) * (b.dim() - 1))


class _Rescale(torch.autograd.Function):
    """``y = fn(x)`` for an elementwise ``fn``; backward ``g * (y - y_b) / (x - x_b)``."""

    @staticmethod
    def forward(ctx, x, x_b, y_b, fn, eps):
        y = fn(x)
        if _rows_tile(x, x_b) and y.shape == x.shape and y_b.shape == x_b.shape:
            # one pass (a fresh tensor: later in-place ops on x or y cannot change it)
            m, n_small = rescale_multiplier(x, x_b, y.detach(), y_b, eps)
            small = torch.isnan(m) if int(n_small) else None
        else:
            dx = _minus(x, x_b)  # fresh tensors, as above
            m = _minus(y, y_b).div_(dx)  # inf or nan where dx == 0, replaced below
            small = dx.abs_() < eps
            small = small if bool(small.any()) else None
        if small is not None:
            with torch.enable_grad():
                xx = x.detach().requires_grad_()
                (d,) = torch.autograd.grad(fn(xx), xx, torch.ones_like(y))
            m = torch.where(small, d, m)
        ctx.save_for_backward(m)
        return y

    @staticmethod
    def backward(ctx, g):
        (m,) = ctx.saved_tensors
        return g * m, None, None, None, None


class _MaxPool(torch.autograd.Function):
    """Max pooling over the last ``k`` axes. ``pool(t)`` returns ``(values, flat indices)``;
    ``idx_b`` are the baseline's indices.

    Window ``j`` sends ``g_j * (y_j - y_b_j)`` to one position ``p_j``: the input's argmax when
    ``y_j >= y_b_j``, else the baseline's. There ``|x_p - x_b_p| >= |y_j - y_b_j|`` with the same
    sign, so the multiplier ``(y_j - y_b_j) / (x_p - x_b_p)`` lies in [0, 1]; overlapping windows
    add up. Where ``|x_p - x_b_p| < eps`` the multiplier is 1 (the error is below ``eps``).
    """

    @staticmethod
    def forward(ctx, x, x_b, y_b, idx_b, pool, k, eps):
        y, idx = pool(x)
        up = _tiled(y, y_b) >= y_b
        p = torch.where(up, _tiled(idx, idx_b), idx_b).view(y.shape).flatten(y.dim() - k)
        dx = _at_windows(x, x_b, p, k)  # (..., S_out)
        small = dx.abs() < eps
        w = torch.where(
            small, torch.ones_like(dx), _minus(y, y_b).flatten(y.dim() - k) / _safe(dx, small)
        )
        ctx.save_for_backward(p, w)
        ctx.shape = x.shape
        ctx.k = k
        return y

    @staticmethod
    def backward(ctx, g):
        p, w = ctx.saved_tensors
        flat = ctx.shape[: len(ctx.shape) - ctx.k] + (-1,)
        grad = torch.zeros(
            flat[:-1] + (int(torch.Size(ctx.shape[-ctx.k :]).numel()),),
            dtype=g.dtype,
            device=g.device,
        )
        grad.scatter_add_(-1, p, g.flatten(g.dim() - ctx.k) * w)
        return grad.reshape(ctx.shape), None, None, None, None, None, None


def _at_windows(x, x_b, p, k: int) -> torch.Tensor:
    """``x - x_b`` at the flat positions ``p`` (..., S_out) of the last ``k`` axes, gathered
    before subtracting (the windows' outputs are fewer than their inputs)."""
    xf, xbf = x.flatten(x.dim() - k), x_b.flatten(x_b.dim() - k)
    if xbf.shape == xf.shape:
        return xf.gather(-1, p) - xbf.gather(-1, p)
    if not _rows_tile(xf, xbf):
        return _minus(x, x_b).flatten(x.dim() - k).gather(-1, p)
    n = xf.shape[0] // xbf.shape[0]  # row r pairs with baseline row r % M
    tiled = xbf.expand((n,) + tuple(xbf.shape)).gather(
        -1, p.view((n,) + tuple(xbf.shape[:-1]) + (-1,))
    )
    return xf.gather(-1, p) - tiled.view(p.shape)


class _Path(torch.autograd.Function):
    """``y = fn(*xs)``; backward the VJP averaged over points ``b + t (x - b)``, then, when
    ``dims`` is given, corrected per slice over ``dims`` along ``x - b`` to conserve exactly.

    ``tensors`` holds the ``n`` varying operands followed by their ``n`` baselines.
    """

    @staticmethod
    def forward(ctx, fn, nodes, weights, dims, eps, y_b, switch, n, *tensors):
        xs = tuple(t.detach().clone() for t in tensors[:n])
        y = fn(*tensors[:n])
        bs = tuple(_full(b, x) for b, x in zip(tensors[n:], xs, strict=True))
        ctx.save_for_backward(*xs, *bs, y.detach().clone(), _full(y_b, y))
        ctx.fn, ctx.nodes, ctx.weights, ctx.dims, ctx.eps, ctx.n = fn, nodes, weights, dims, eps, n
        ctx.switch = switch
        return y

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        n = ctx.n
        xs, bs, y, y_b = saved[:n], saved[n : 2 * n], saved[-2], saved[-1]
        ds = tuple(x - b for x, b in zip(xs, bs, strict=True))
        elementwise = ctx.switch is not None and ctx.switch.on
        if elementwise:
            m, broken = _elementwise(ds[0], y - y_b, g, ctx.eps, ctx.dims)
            if not bool(broken.any()):
                return (None,) * 8 + (m, None)
        grads = [torch.zeros_like(x) for x in xs]
        with torch.enable_grad():
            for t, w in zip(ctx.nodes, ctx.weights, strict=True):
                pts = tuple((b + t * d).requires_grad_() for b, d in zip(bs, ds, strict=True))
                gs = torch.autograd.grad(ctx.fn(*pts), pts, g, allow_unused=True)
                for acc, gp in zip(grads, gs, strict=True):
                    if gp is not None:
                        acc.add_(gp, alpha=w)
        if ctx.dims is not None:  # one operand; exact conservation per slice over dims
            (d,) = ds
            dims = ctx.dims
            miss = (g * (y - y_b)).sum(dims, keepdim=True) - (grads[0] * d).sum(dims, keepdim=True)
            q = (d * d).sum(dims, keepdim=True)
            big = q > ctx.eps**2
            grads[0] = grads[0] + torch.where(big, miss / torch.where(big, q, 1.0), 0.0) * d
        if elementwise:
            grads[0] = torch.where(broken, grads[0], m)
        return (None,) * 8 + tuple(grads) + (None,) * n


def _elementwise(dx, dy, g, eps, dims):
    """The rule of a final softmax (shap's, and captum's before its mean shift): ``g * dy / dx``
    per element, and the slices over ``dims`` where some ``|dx| < eps`` (there the ratio cannot
    conserve: the path rule is used)."""
    small = dx.abs() < eps
    broken = small.any(dims[0], keepdim=True).expand_as(dx)
    return g * dy / _safe(dx, small), broken
