"""The SplitMix64 specification of :mod:`xai_fast._rng` as Numba scalar functions."""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_ONE = np.uint64(1)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 2.0**-53


@nb.njit(cache=True, inline="always")
def mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True, inline="always")
def stream_key(seed, stream):
    return mix64(seed ^ mix64(np.uint64(stream) + _GOLDEN))


@nb.njit(cache=True, inline="always")
def uniform(key, counter):
    bits = mix64(key + (np.uint64(counter) + _ONE) * _GOLDEN)
    return np.float64(bits >> _S11) * _TWO_M53
