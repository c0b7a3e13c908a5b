"""The deterministic part of the leverage-score design (``sampler="leverage"`` / ``"auto"``).

Leverage-score sampling for Kernel SHAP (Musco & Witter, ICLR 2025) gives every subset size the
same total probability, samples subsets within a size uniformly and without replacement, pairs
each subset with its complement, and reweights each sample by its Shapley-kernel weight over its
inclusion probability. Here the count per size is fixed (stratified) rather than random: a size
whose subsets all fit in its share is enumerated, and the rest of the budget is shared equally
by the other sizes, rounded deterministically to whole pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .plan import resolve_nsamples

__all__ = ["LeveragePlan", "plan_leverage"]


@dataclass(frozen=True)
class LeveragePlan:
    """Per size group ``g`` (sizes ``s`` and ``M - s``; the middle size alone), what to draw.

    Attributes
    ----------
    M : int
    nsamples : int
        Coalitions in the design (even, at most the request and ``2**M - 2``).
    sizes : ndarray of int64, shape (G,)
        ``s = 1 .. floor(M / 2)``.
    pairs : ndarray of int64, shape (G,)
        Pairs (subset and complement) drawn in each sampled group; 0 for enumerated groups.
    enumerated : ndarray of bool, shape (G,)
        Groups whose subsets are all in the design.
    binoms : ndarray of float64, shape (G,)
        ``C(M, s)`` (``inf`` beyond float range).
    """

    M: int
    nsamples: int
    sizes: np.ndarray
    pairs: np.ndarray
    enumerated: np.ndarray
    binoms: np.ndarray

    @property
    def fully_enumerated(self) -> bool:
        return bool(self.enumerated.all())


def _capacity(M: int, s: int, b: float) -> float:
    """Coalitions in group ``s``: both sizes, or the middle size once."""
    return b if 2 * s == M else 2 * b


def plan_leverage(M: int, nsamples) -> LeveragePlan:
    """Plan a leverage-score design for ``M >= 2`` players and a budget of ``nsamples``."""
    if M < 2:
        raise ValueError(f"a Kernel SHAP design needs at least 2 players; got M={M}.")
    n = min(resolve_nsamples(nsamples, M), 2**M - 2 if M <= 60 else 2**60)
    n -= n % 2
    sizes = np.arange(1, M // 2 + 1, dtype=np.int64)
    binoms = np.array([_as_float(math.comb(M, int(s))) for s in sizes])
    cap = np.array([_capacity(M, int(s), b) for s, b in zip(sizes, binoms, strict=True)])
    share = np.array([1.0 if 2 * s == M else 2.0 for s in sizes])  # sizes per group
    # water-filling: each size gets c coalitions, or all of its subsets if fewer
    enumerated = np.zeros(len(sizes), dtype=bool)
    left = float(n)
    while True:
        free = ~enumerated
        c = left / share[free].sum() if free.any() else 0.0
        newly = free & (cap <= c * share + 1e-9)
        if not newly.any():
            break
        enumerated |= newly
        left -= cap[newly].sum()
    pairs = np.zeros(len(sizes), dtype=np.int64)
    free = np.nonzero(~enumerated)[0]
    if free.size:
        want = c * share[free] / 2.0  # pairs per group
        base = np.floor(want).astype(np.int64)
        extra = int(round(left / 2.0)) - int(base.sum())
        order = np.argsort(-(want - base), kind="stable")  # largest remainders first
        base[order[: max(extra, 0)]] += 1
        pairs[free] = np.minimum(base, np.floor(cap[free] / 2.0 - 0.5))  # leave a subset unseen

    total = int(cap[enumerated].sum()) + 2 * int(pairs.sum())
    return LeveragePlan(M, total, sizes, pairs, enumerated, binoms)


def _as_float(count: int) -> float:
    try:
        return float(count)
    except OverflowError:
        return math.inf
