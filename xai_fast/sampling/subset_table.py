"""An open-addressing table of coalitions (as 64-bit words), shared by the Numba designs."""

from __future__ import annotations

import numba as nb
import numpy as np

from .._rng_numba import mix64

__all__ = ["EMPTY", "find_subset"]

EMPTY = -1  # a free slot


@nb.njit(cache=True)
def find_subset(table, words, cur):
    """Look up the coalition ``cur`` in ``table``.

    Parameters
    ----------
    table : ndarray of int64, shape (T,)
        Slot -> id of a stored coalition, or ``EMPTY``; ``T`` a power of two.
    words : ndarray of uint64, shape (capacity, nwords)
        Bit words of the stored coalitions, by id.
    cur : ndarray of uint64, shape (nwords,)

    Returns
    -------
    slot : int
        Where ``cur`` is, or the free slot to store it in.
    uid : int
        Its id, or -1 when it is not stored.
    """
    tsize = table.shape[0]
    h = np.uint64(0)
    for q in range(cur.shape[0]):
        h = mix64(h ^ cur[q])
    slot = np.int64(h & np.uint64(tsize - 1))
    while table[slot] != EMPTY:
        uid = table[slot]
        same = True
        for q in range(cur.shape[0]):
            if words[uid, q] != cur[q]:
                same = False
                break
        if same:
            return slot, uid
        slot = (slot + 1) & (tsize - 1)
    return slot, np.int64(-1)
