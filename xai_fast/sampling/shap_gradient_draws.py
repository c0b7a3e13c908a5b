"""The background rows and interpolation points shap's ``GradientExplainer`` draws for a seed.

shap seeds numpy's global generator with ``rseed`` and then, for each sample, calls
``np.random.choice(M)`` (a background row) and ``np.random.uniform()`` (a point on the path).
:func:`shap_gradient_draws` gives the same numbers from the seed's Mersenne Twister stream,
vectorised, without touching numpy's global state; :func:`shap_gradient_draws_ref` makes shap's
calls one by one on a ``RandomState`` of its own (the oracle).

How ``RandomState`` spends its 32-bit words: ``choice(M)`` is ``randint(0, M)``, which masks a
word to the next power of two above ``M - 1`` and rejects values ``>= M`` (one word per try; no
word at all when ``M == 1``); ``uniform()`` takes two words, ``((a >> 5) * 2**26 + (b >> 6)) /
2**53``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["shap_gradient_draws", "shap_gradient_draws_ref"]


def shap_gradient_draws_ref(rseed: int, n: int, M: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (row, point) draws as shap makes them: ``choice(M)`` then ``uniform()``.

    Returns
    -------
    rows : ndarray of int64, shape (n,)
    t : ndarray of float64, shape (n,)
    """
    rs = np.random.RandomState(rseed)
    rows, t = np.empty(n, dtype=np.int64), np.empty(n)
    for k in range(n):  # the oracle: shap's calls, in shap's order
        rows[k] = rs.choice(M)
        t[k] = rs.uniform()
    return rows, t


def _words(rseed: int, count: int) -> np.ndarray:
    """The first ``count`` 32-bit words of ``RandomState(rseed)``'s stream, as uint64."""
    state = np.random.RandomState(rseed).get_state(legacy=False)
    bits = np.random.MT19937()
    bits.state = {"bit_generator": "MT19937", "state": state["state"]}
    return bits.random_raw(count)


def _doubles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a >> 5).astype(np.float64) * 67108864.0 + (b >> 6)) / 9007199254740992.0


def _chain(step: np.ndarray, length: int) -> np.ndarray:
    """Positions ``0, step[0], step[step[0]], ...`` (``length`` of them) where ``step[p]`` is
    the position after ``p``, by pointer doubling (``log2(length)`` vectorised passes)."""
    jumps, pos = step, np.zeros(length, dtype=np.int64)
    j = np.arange(length)
    bit = 0
    while (1 << bit) < length:
        take = (j >> bit) & 1 == 1
        pos[take] = jumps[pos[take]]
        jumps = jumps[np.minimum(jumps, len(jumps) - 1)]
        bit += 1
    return pos


def shap_gradient_draws(rseed: int, n: int, M: int) -> tuple[np.ndarray, np.ndarray]:
    """The draws of :func:`shap_gradient_draws_ref`, computed from the raw stream at once.

    Parameters
    ----------
    rseed : int
        shap's ``rseed`` (0 <= rseed < 2**32).
    n : int
        Samples: shap's ``nsamples`` times the number of examples, example-major.
    M : int
        Background rows.

    Returns
    -------
    rows : ndarray of int64, shape (n,)
    t : ndarray of float64, shape (n,)
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    if M == 1:  # randint(0, 1) spends no word
        w = _words(rseed, 2 * n)
        return np.zeros(n, dtype=np.int64), _doubles(w[0::2], w[1::2])
    mask = (1 << int(M - 1).bit_length()) - 1
    if mask == M - 1:  # M a power of two: every try is accepted, three words per sample
        w = _words(rseed, 3 * n)
        return (w[0::3] & mask).astype(np.int64), _doubles(w[1::3], w[2::3])
    tries = 2 * n + 64  # acceptance >= 1/2: enough tries but with tiny probability
    while True:
        w = _words(rseed, 3 * tries + 2)
        accepted = (w[:-2] & mask) <= M - 1
        step = np.arange(len(accepted)) + np.where(accepted, 3, 1)
        step = np.minimum(step, len(accepted) - 1)  # the last position maps onto itself
        pos = _chain(step, tries)
        starts = pos[accepted[pos]]
        if len(starts) >= n:
            starts = starts[:n]
            return (w[starts] & mask).astype(np.int64), _doubles(w[starts + 1], w[starts + 2])
        tries *= 2
