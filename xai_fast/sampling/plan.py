"""The deterministic part of the Kernel SHAP design, shared by every backend.

Subset sizes are enumerated whole, smallest (with their complements) first, while the budget
covers them; the remaining sizes are sampled. This follows the design of shap's
KernelExplainer so that the fully enumerated regime gives the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Budget used by ``nsamples="auto"``: ``2 * M + AUTO_BASE`` (as in shap).
AUTO_BASE = 2**11


@dataclass(frozen=True)
class DesignPlan:
    """Sizes, budget and weights of a Kernel SHAP design for ``M`` players.

    Attributes
    ----------
    M : int
        Number of players (varying features).
    nsamples : int
        Coalitions to evaluate, capped at ``max_samples``.
    max_samples : int
        ``2**M - 2`` when ``M <= 30``, else ``2**30`` (shap's convention).
    weight_vector : ndarray of float64, shape (ceil((M-1)/2),)
        Shapley-kernel mass of each subset size ``s`` (with its complement when paired).
    num_full : int
        Number of sizes enumerated completely.
    num_paired : int
        Sizes ``s <= num_paired`` are paired with their complements ``M - s``.
    n_enumerated : int
        Coalitions in the enumerated part.
    binoms : ndarray of float64, shape (ceil((M-1)/2),)
        ``C(M, s)`` for each size.
    """

    M: int
    nsamples: int
    max_samples: int
    weight_vector: np.ndarray
    num_full: int
    num_paired: int
    n_enumerated: int
    binoms: np.ndarray

    @property
    def num_sizes(self) -> int:
        return len(self.weight_vector)

    @property
    def fully_enumerated(self) -> bool:
        """True when every coalition (but the empty and full ones) is in the design."""
        return self.num_full == self.num_sizes

    @property
    def fraction_evaluated(self) -> float:
        return self.nsamples / self.max_samples


def _as_float(count: int) -> float:
    """An exact integer as a float, ``inf`` beyond float range (only enumerated sizes use it)."""
    try:
        return float(count)
    except OverflowError:
        return math.inf


def resolve_nsamples(nsamples, M: int) -> int:
    """Budget for ``M`` players: ``"auto"`` gives ``2 * M + 2048``; ints pass through."""
    if isinstance(nsamples, str):
        if nsamples != "auto":
            raise ValueError(f'nsamples must be "auto" or a positive int; got {nsamples!r}.')
        return 2 * M + AUTO_BASE
    return int(nsamples)


def plan_design(M: int, nsamples) -> DesignPlan:
    """Plan the Kernel SHAP design for ``M >= 2`` players and a budget of ``nsamples``.

    Parameters
    ----------
    M : int
        Number of players, at least 2.
    nsamples : int or "auto"
        Requested number of coalitions.

    Returns
    -------
    DesignPlan
    """
    if M < 2:
        raise ValueError(f"a Kernel SHAP design needs at least 2 players; got M={M}.")
    n = resolve_nsamples(nsamples, M)
    max_samples = 2**M - 2 if M <= 30 else 2**30
    n = min(n, max_samples)

    num_sizes = math.ceil((M - 1) / 2.0)
    num_paired = (M - 1) // 2
    sizes = np.arange(1, num_sizes + 1, dtype=np.float64)
    weight_vector = (M - 1.0) / (sizes * (M - sizes))
    weight_vector[:num_paired] *= 2
    weight_vector /= weight_vector.sum()
    binoms = np.array([_as_float(math.comb(M, s)) for s in range(1, num_sizes + 1)])

    num_full = 0
    left = n
    remaining = weight_vector.copy()
    for s in range(1, num_sizes + 1):
        nsub = binoms[s - 1] * (2 if s <= num_paired else 1)
        if left * remaining[s - 1] / nsub < 1.0 - 1e-8:
            break
        num_full += 1
        left -= nsub
        if remaining[s - 1] < 1.0:
            remaining /= 1 - remaining[s - 1]
    n_enum = int(sum(binoms[s - 1] * (2 if s <= num_paired else 1) for s in range(1, num_full + 1)))
    return DesignPlan(M, n, max_samples, weight_vector, num_full, num_paired, n_enum, binoms)


def random_size_cdf(plan: DesignPlan) -> np.ndarray:
    """Cumulative probabilities of drawing each not-enumerated size (one draw per pair).

    Returns
    -------
    ndarray of float64, shape (num_sizes - num_full,)
    """
    rem = plan.weight_vector.copy()
    rem[: plan.num_paired] /= 2
    rem = rem[plan.num_full :]
    return np.cumsum(rem / rem.sum())
