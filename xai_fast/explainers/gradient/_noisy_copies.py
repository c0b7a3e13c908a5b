"""The noisy-copies loop shared by ``NoiseTunnel`` and ``GradientShap``."""

from __future__ import annotations

import torch

from ._inputs import _take
from ._random import _background_picks, _noisy


def _noise_tunnel(method, xs, bs, call, delta, rngs, options, *, n, batch, stdevs, draw, g):
    """Run ``method`` on ``n`` noisy copies of every example, ``batch`` copies per call.

    Copies are example-major (row ``i * batch + j`` is copy ``j`` of example ``i``, as captum).
    With ``draw``, each copy gets a baseline drawn from the background rows ``bs``. ``g`` is
    the call's generator, or ``None`` for captum's draws (``_random.py``).

    Returns
    -------
    mean, mean_sq : tuple of torch.Tensor
        Mean of the attributions and of their squares over the copies, per example.
    delta : torch.Tensor of shape (N * n,) or None
    """
    N, device = xs[0].shape[0], xs[0].device
    sums = squares = full_runs = None
    deltas = []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        ex = torch.arange(N, device=device).repeat_interleave(b)  # copy -> example
        noisy = [_noisy(x.index_select(0, ex), sd, g) for x, sd in zip(xs, stdevs, strict=True)]
        if method._BASELINES != "per_example":  # none, or background rows drawn from inside
            inner = bs
        elif draw and g is None:  # captum's draws: one per baseline tensor, and the rows of
            # the first full run reused by every full run (a shorter last run draws its own)
            if b != batch or full_runs is None:
                picks = [_background_picks(t.shape[0], len(ex), None, device) for t in bs]
                inner = tuple(t.index_select(0, p) for t, p in zip(bs, picks, strict=True))
                full_runs = inner if b == batch else full_runs
            else:
                inner = full_runs
        elif draw:
            M = max(t.shape[0] for t in bs)
            pick = _background_picks(M, len(ex), g, device)
            inner = tuple(t if t.shape[0] == 1 else t.index_select(0, pick) for t in bs)
        else:
            inner = tuple(_take(t, ex) for t in bs)
        attrs, d = method._run(tuple(noisy), inner, call.expand(ex), delta, rngs, **options)
        attrs = tuple(a.reshape((N, b) + tuple(a.shape[1:])) for a in attrs)
        s, q = tuple(a.sum(1) for a in attrs), tuple((a * a).sum(1) for a in attrs)
        if sums is None:
            sums, squares = s, q
        else:
            sums = tuple(u + v for u, v in zip(sums, s, strict=True))
            squares = tuple(u + v for u, v in zip(squares, q, strict=True))
        if d is not None:
            deltas.append(d)
    mean = tuple(s / n for s in sums)
    mean_sq = tuple(q / n for q in squares)
    return mean, mean_sq, (torch.cat(deltas) if delta else None)
