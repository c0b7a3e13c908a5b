"""The binary perturbations lime's image and text explainers draw from a ``RandomState``.

lime spends the 32-bit words of ``numpy.random.RandomState`` (Mersenne Twister) as follows:

* images: ``randint(0, 2, S * M)`` (one word per entry, its lowest bit), row 0 set to ones;
* text: ``randint(1, d + 1, S - 1)`` (how many words each sample removes), then for each sample
  ``choice(d, size, replace=False)``, which is the first ``size`` entries of a Fisher-Yates
  shuffle of ``arange(d)``: for ``i = d - 1 .. 1`` a word masked to the next power of two
  above ``i`` and rejected while it exceeds ``i``.

:func:`text_masks` replays the text draws from the raw stream with one compiled pass (lime
calls ``choice`` once per sample) and leaves the ``RandomState`` where lime leaves it, so the
next call draws what lime's next call draws; :func:`text_masks_ref` makes lime's calls one by
one (the oracle).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["image_masks", "text_masks", "text_masks_ref"]


def image_masks(rs: np.random.RandomState, S: int, M: int) -> np.ndarray:
    """lime's image perturbations: ``(S, M)`` int64 of 0/1, row 0 all ones (``rs`` advances)."""
    Z = rs.randint(0, 2, S * M).reshape(S, M)
    Z[0, :] = 1
    return Z


def text_masks_ref(rs: np.random.RandomState, S: int, d: int) -> np.ndarray:
    """lime's text perturbations made with lime's calls: ``(S, d)`` float64, row 0 all ones."""
    sizes = rs.randint(1, d + 1, S - 1)
    Z = np.ones((S, d))
    for s, size in enumerate(sizes, start=1):  # the oracle: lime's calls, in lime's order
        Z[s, rs.choice(range(d), size, replace=False)] = 0
    return Z


@nb.njit(cache=True)
def _shuffle_masks(words, sizes, d, Z):  # pragma: no cover - compiled
    """Zero ``Z[s + 1]`` ``(S, d)`` at the first ``sizes[s]`` entries of sample ``s``'s
    shuffle; returns the words spent, or -1 when ``words`` ran out."""
    p = 0
    perm = np.empty(d, dtype=np.int64)
    for s in range(sizes.shape[0]):
        for j in range(d):
            perm[j] = j
        for i in range(d - 1, 0, -1):
            mask = i
            mask |= mask >> 1
            mask |= mask >> 2
            mask |= mask >> 4
            mask |= mask >> 8
            mask |= mask >> 16
            while True:
                if p >= words.shape[0]:
                    return -1
                v = words[p] & mask
                p += 1
                if v <= i:
                    break
            t = perm[i]
            perm[i] = perm[v]
            perm[v] = t
        for j in range(sizes[s]):
            Z[s + 1, perm[j]] = 0.0
    return p


def text_masks(rs: np.random.RandomState, S: int, d: int) -> np.ndarray:
    """The perturbations of :func:`text_masks_ref`, equal entry for entry, and ``rs`` advanced
    alike.

    Parameters
    ----------
    rs : numpy.random.RandomState
    S : int
        Samples, the text itself (row 0) included.
    d : int
        Features of the text (words, or characters).

    Returns
    -------
    ndarray of float64, shape (S, d)
        1 where the feature is kept.
    """
    sizes = rs.randint(1, d + 1, S - 1).astype(np.int64)
    Z = np.ones((S, d))
    state = rs.get_state(legacy=False)
    bits = np.random.MT19937()
    bits.state = {"bit_generator": "MT19937", "state": state["state"]}
    count = max(int(1.5 * (S - 1) * max(d - 1, 0)) + 64, 64)
    words = bits.random_raw(count)
    while (used := _shuffle_masks(words, sizes, d, Z)) < 0:  # rejections ran past the words
        words = np.concatenate([words, bits.random_raw(len(words))])
        Z[1:] = 1.0
    after = np.random.MT19937()
    after.state = {"bit_generator": "MT19937", "state": state["state"]}
    after.random_raw(used)
    state["state"] = after.state["state"]
    rs.set_state(state)
    return Z
