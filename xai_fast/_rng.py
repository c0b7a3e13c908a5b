"""One random-number specification shared by every backend.

A counter-based SplitMix64: draw ``j`` of stream ``t`` under ``seed`` is

    key(seed, t) = mix64(seed XOR mix64(t + GOLDEN))
    bits(seed, t, j) = mix64(key + (j + 1) * GOLDEN)          (all mod 2**64)
    uniform = (bits >> 11) * 2**-53                              in [0, 1)

so any draw can be computed independently, in any order, by numpy, Numba or C++,
and the same seed gives bit-identical coalitions everywhere.
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TWO_M53 = 2.0**-53
_MASK64 = (1 << 64) - 1


def normalize_seed(seed) -> np.uint64:
    """Turn a user seed into the 64-bit key used by every backend.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        ``None`` draws fresh entropy from the OS; an ``int`` is taken modulo 2**64;
        a ``Generator`` contributes one 64-bit draw.

    Returns
    -------
    numpy.uint64
    """
    if seed is None:
        return np.uint64(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
    if isinstance(seed, np.random.Generator):
        return np.uint64(seed.integers(0, 2**63, dtype=np.int64))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"seed must be None, an int or a numpy.random.Generator; got {type(seed).__name__}. "
            "Pass an integer such as seed=0 for reproducible results."
        )
    return np.uint64(int(seed) & _MASK64)


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def stream_keys(seed: np.uint64, streams: np.ndarray) -> np.ndarray:
    """Keys of streams ``streams`` (uint64 array) under ``seed``; shape of ``streams``."""
    with np.errstate(over="ignore"):
        return mix64(np.uint64(seed) ^ mix64(np.asarray(streams, dtype=np.uint64) + GOLDEN))


def uniforms(keys: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Uniform doubles in [0, 1) for broadcast ``keys`` and ``counters`` (both uint64)."""
    with np.errstate(over="ignore"):
        bits = mix64(
            np.asarray(keys, dtype=np.uint64)
            + (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * GOLDEN
        )
    return (bits >> _S11).astype(np.float64) * _TWO_M53


# ---------------------------------------------------------------------------- stream ids
# Every random stream of the package, in one table so that no two kinds of draw share one.
# Ids below 2**32 are the complementary-pair streams of the Kernel SHAP design (stream ``p`` for
# pair ``p``, in every backend); the others carry a four-letter tag in their high 32 bits.

#: Kernel SHAP design: pair ``p`` draws from stream ``p`` (``0 <= p < 2**32``).
KERNEL_PAIR_BASE = 0x00000000_00000000
#: Leverage designs: subset size ``s`` draws from stream ``LEVERAGE_BASE + s`` ("LEVE").
LEVERAGE_BASE = 0x4C455645_00000000
#: Tabular LIME: which bin / category a sample takes ("LIME" 1), and where within it (2).
LIME_PICK = 0x4C494D45_00000001
LIME_WITHIN = 0x4C494D45_00000002
#: Tensor LIME: the Bernoulli draws of its binary perturbations ("MASK" 1).
LIME_MASK = 0x4D41534B_00000001
#: Rounds of the ``tol`` stopping rule: round ``r >= 1`` is keyed by stream ``TOL_ROUND + r``
#: ("ROUN").
TOL_ROUND = 0x524F554E_00000000


def round_seed(seed, round_: int) -> np.uint64:
    """Seed of round ``round_`` of an adaptive estimator: round 0 is ``seed`` itself, later rounds
    are independent keys drawn through :data:`TOL_ROUND`."""
    seed = np.uint64(seed)
    if round_ == 0:
        return seed
    return stream_keys(seed, np.array([TOL_ROUND + round_], dtype=np.uint64))[0]


def numpy_global_seed() -> np.uint64:
    """One 63-bit seed drawn from numpy's global generator (shap's and lime's source of
    randomness), so that ``np.random.seed(...)`` makes calls with ``seed=None`` reproducible;
    the global state advances by one draw and is never seeded here."""
    return np.uint64(np.random.randint(0, 2**63, dtype=np.int64))  # noqa: NPY002


def torch_global_seed() -> int:
    """One seed drawn from torch's global generator (captum's source of randomness), so that
    ``torch.manual_seed(...)`` makes calls with ``seed=None`` reproducible; the global state
    advances by one draw and is never seeded here."""
    import torch

    return int(torch.randint(0, 2**62, (1,), dtype=torch.int64).item())


def shap_seed(seed) -> np.uint64:
    """:func:`normalize_seed`, except that ``None`` draws from numpy's global generator, as
    shap samples from it (:func:`numpy_global_seed`)."""
    return numpy_global_seed() if seed is None else normalize_seed(seed)
