"""Lexicographic enumeration of subsets, shared by the Numba designs."""

from __future__ import annotations

import numba as nb

__all__ = ["next_combination"]


@nb.njit(cache=True)
def next_combination(comb, s, M):
    """Advance ``comb[:s]``, an increasing ``s``-subset of ``0..M-1``, to the next one in
    lexicographic order, in place; ``False`` (``comb`` unchanged) after the last one."""
    i = s - 1
    while i >= 0 and comb[i] == M - s + i:
        i -= 1
    if i < 0:
        return False
    comb[i] += 1
    for j in range(i + 1, s):
        comb[j] = comb[j - 1] + 1
    return True
