"""Randomness of the gradient methods: one torch Generator per explainer and ``attribute``
call, seeded from the explainer's ``seed``, and draws from it."""

from __future__ import annotations

import torch

from ..._rng import normalize_seed, torch_global_seed


def _generator(seed, device: torch.device) -> torch.Generator:
    """A torch Generator for one ``attribute`` call: ``seed`` itself when it is one, else a new
    one seeded from it (on ``device`` where torch has generators there). ``None`` draws the
    seed from torch's global generator, as captum's randomness comes from it."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        seed = torch_global_seed()
    try:
        g = torch.Generator(device=device)
    except RuntimeError:  # no generator for this device type: draw on the CPU
        g = torch.Generator()
    return g.manual_seed(int(normalize_seed(seed)))


def _draw(fn, g: torch.Generator, *args, dtype, device) -> torch.Tensor:
    """``fn(*args)`` drawn from ``g`` on its device, moved to ``device``."""
    return fn(*args, generator=g, dtype=dtype, device=g.device).to(device)


def _rng(owner, rngs: dict, device) -> torch.Generator:
    """The generator of explainer ``owner`` for the current call, created on first use."""
    if id(owner) not in rngs:
        rngs[id(owner)] = _generator(owner.seed, device)
    return rngs[id(owner)]
