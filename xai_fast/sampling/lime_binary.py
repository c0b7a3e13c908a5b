"""LIME's binary perturbations of ``M`` features and their similarity weights (tensor LIME)."""

from __future__ import annotations

import numpy as np

from .._rng import LIME_MASK, stream_keys, uniforms

__all__ = ["binary_similarity", "lime_binary_design"]


def lime_binary_design(M: int, S: int, seed, kernel_width: float):
    """LIME's binary perturbations and their similarity weights.

    Row 0 is all ones (the example itself); every other entry is ``u < 0.5`` for draw
    ``s * M + j`` of stream :data:`xai_fast._rng.LIME_MASK`, so the design depends only on the
    seed, ``M`` and ``S`` (and a smaller ``S`` gives a prefix of a larger one).

    Returns
    -------
    Z : ndarray of bool, shape (S, M)
    w : ndarray of float64, shape (S,)
        ``exp(-d**2 / (2 * kernel_width**2))`` with ``d = 1 - sqrt(|z| / M)`` the cosine
        distance between ``z`` and all ones.
    """
    key = stream_keys(seed, np.array([LIME_MASK], dtype=np.uint64))[0]
    counters = np.arange((S - 1) * M, dtype=np.uint64).reshape(S - 1, M)
    Z = np.ones((S, M), dtype=bool)
    Z[1:] = uniforms(key, counters) < 0.5
    return Z, binary_similarity(Z, kernel_width)


def binary_similarity(Z: np.ndarray, kernel_width: float) -> np.ndarray:
    """``exp(-d**2 / (2 * kernel_width**2))`` per row of ``Z`` ``(S, M)``, with
    ``d = 1 - sqrt(|z| / M)`` the cosine distance between ``z`` and all ones; ``(S,)``."""
    d = 1.0 - np.sqrt(Z.sum(axis=1) / Z.shape[1])
    return np.exp(-(d**2) / (2.0 * kernel_width**2))
