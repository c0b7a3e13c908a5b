"""Randomness of the gradient methods: one torch Generator per explainer and ``attribute``
call, seeded from the explainer's ``seed``, and draws from it; or, with ``seed=None``,
captum's very draws.

captum's GradientShap, LayerGradientShap, NeuronGradientShap and NoiseTunnel draw, per run of
copies: the noise of each input tensor with ``torch.normal`` from torch's global generator (also
when its standard deviation is 0), then one background row per copy for each baseline tensor
with ``np.random.choice`` from numpy's, then the path points with ``np.random.uniform``. With
``seed=None`` ours draws the same numbers in the same order and shapes (generator ``None``
below), so that after the same ``torch.manual_seed`` and ``np.random.seed`` the values are
captum's, and the global generators end in the same states.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._rng import normalize_seed


def _generator(seed, device: torch.device) -> torch.Generator:
    """A torch Generator for one ``attribute`` call: ``seed`` itself when it is one, else a new
    one seeded from it (on ``device`` where torch has generators there)."""
    if isinstance(seed, torch.Generator):
        return seed
    try:
        g = torch.Generator(device=device)
    except RuntimeError:  # no generator for this device type: draw on the CPU
        g = torch.Generator()
    return g.manual_seed(int(normalize_seed(seed)))


def _draw(fn, g: torch.Generator, *args, dtype, device) -> torch.Tensor:
    """``fn(*args)`` drawn from ``g`` on its device, moved to ``device``."""
    return fn(*args, generator=g, dtype=dtype, device=g.device).to(device)


def _rng(owner, rngs: dict, device) -> torch.Generator | None:
    """The generator of explainer ``owner`` for the current call, created on first use;
    ``None`` (captum's draws) when its seed is ``None``."""
    if owner.seed is None:
        return None
    if id(owner) not in rngs:
        rngs[id(owner)] = _generator(owner.seed, device)
    return rngs[id(owner)]


def _noisy(x: torch.Tensor, sd: float, g: torch.Generator | None) -> torch.Tensor:
    """``x`` ``(R, ...)`` plus Gaussian noise of standard deviation ``sd``: captum's
    ``torch.normal`` draw when ``g`` is ``None`` (in the precision ``torch.tensor(sd)`` has:
    float32 for a Python float, a numpy scalar's own), else one from ``g`` (none when ``sd`` is
    0). The noisy rows keep ``x``'s dtype."""
    if g is None:
        noise = torch.normal(0, torch.tensor(sd, device=x.device).repeat(x.shape))
        return x + noise.to(x.dtype)
    if sd > 0:
        return x + sd * _draw(torch.randn, g, x.shape, dtype=x.dtype, device=x.device)
    return x


def _background_picks(M: int, n: int, g: torch.Generator | None, device) -> torch.Tensor:
    """``n`` background row indices in ``[0, M)``, int64 on ``device``: captum's
    ``np.random.choice`` draw when ``g`` is ``None``."""
    if g is None:
        return torch.as_tensor(np.random.choice(M, n), dtype=torch.int64, device=device)  # noqa: NPY002
    return _draw(torch.randint, g, M, (n,), dtype=torch.int64, device=device)


def _path_points(g: torch.Generator | None, n: int, like: torch.Tensor) -> torch.Tensor:
    """``n`` points ``u ~ U(0, 1)`` in ``like``'s dtype and device: captum's
    ``np.random.uniform`` draw when ``g`` is ``None``."""
    if g is None:
        u = np.random.uniform(0.0, 1.0, n)  # noqa: NPY002
        return torch.tensor(u, device=like.device, dtype=like.dtype)
    return _draw(torch.rand, g, n, dtype=like.dtype, device=like.device)
