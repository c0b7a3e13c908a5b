"""Numba kernel that finds equal perturbed rows; same signature as
:mod:`xai_fast.masking.distinct_ref`.

One pass over the rows, pair by pair. A row's key words are its background row's plus, for each
player the coalition keeps, that player's change of code (instance minus background, times its
place value): one add per kept player, for all background rows at once. Equal keys are found in
two steps. Within one (instance, background row), the row depends only on the kept players
where the two differ, a number of at most ``LOCAL_BITS`` bits that indexes a small direct table
(no hashing: most repeats are found here); the first row of each such class is then looked up
in an open-addressing hash table of full keys, which merges equal rows of different background
rows and instances. Serial, for the same reason as :mod:`.fill_numba`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: Fibonacci hashing
#: Largest number of differing players given a direct table (2**LOCAL_BITS slots).
LOCAL_BITS = 14
#: Most slots of one instance's direct tables (32 MiB); further background rows go without.
MAX_DIRECT = 1 << 22


@nb.njit(cache=True, nogil=True)
def _local_tables(CX, CB, var_idx, i, pairs, local, offset):
    """For instance ``i`` (``pairs`` of its pairs in this block): ``local[m, j]``, the bit of
    player ``m`` in its class number within background row ``j`` (0 where they agree), and
    ``offset[j]``, where row ``j``'s direct table starts (-1: none, too many players differ).

    Returns the slots of all the direct tables.
    """
    N = CB.shape[0]
    M = var_idx.shape[1]
    slots = 0
    for j in range(N):
        bits = 0
        for m in range(M):
            c = var_idx[i, m]
            if CX[i, c] != CB[j, c]:
                local[m, j] = 1 << bits
                bits += 1
            else:
                local[m, j] = 0
        if bits <= LOCAL_BITS and (1 << bits) <= 2 * pairs and slots + (1 << bits) <= MAX_DIRECT:
            offset[j] = slots
            slots += 1 << bits
        else:
            offset[j] = -1
    return slots


@nb.njit(cache=True, nogil=True)
def _lookups(CX, CB, var_idx, S, start, P, local, offset):
    """Most rows of pairs ``start .. start + P - 1`` that reach the hash table."""
    N = CB.shape[0]
    total = 0
    q = 0
    while q < P:
        i = (start + q) // S
        pairs = min(P - q, (i + 1) * S - start - q)  # instance i's pairs in the block
        _local_tables(CX, CB, var_idx, i, pairs, local, offset)
        for j in range(N):
            if offset[j] >= 0:
                bits = 0
                for m in range(var_idx.shape[1]):
                    bits += local[m, j] != 0
                total += min(pairs, 1 << bits)
            else:
                total += pairs
        q += pairs
    return total


@nb.njit(cache=True, nogil=True)
def distinct_masked_rows(CX, CB, weight, word, Z, var_idx, start, P):
    """See :func:`xai_fast.masking.distinct_ref.distinct_masked_rows`."""
    d = CX.shape[1]
    N = CB.shape[0]
    S, M = Z.shape
    W = 1
    for c in range(d):
        W = max(W, word[c] + 1)
    K = P * N
    base = np.zeros((N, W), dtype=np.int64)  # key words of the background rows
    for j in range(N):
        for c in range(d):
            base[j, word[c]] += weight[c] * CB[j, c]
    local = np.zeros((M, N), dtype=np.int64)  # bit of player m in row j's class number
    offset = np.zeros(N, dtype=np.int64)  # start of row j's direct table, or -1
    L = _lookups(CX, CB, var_idx, S, start, P, local, offset)
    bits = 1
    while (1 << bits) < 2 * L:
        bits += 1
    mask = (1 << bits) - 1
    table = np.full(1 << bits, -1, dtype=np.int64)  # slot -> distinct row, at most half full
    ukeys = np.empty((L, W), dtype=np.int64)  # key words of each distinct row
    first = np.empty(L, dtype=np.int64)
    ids = np.empty(K, dtype=np.int64)
    delta = np.zeros((M, N), dtype=np.int64)  # change of key word when player m is kept
    pword = np.zeros(M, dtype=np.int64)  # key word of each player
    keys = np.empty((N, W), dtype=np.int64)
    cls = np.empty(N, dtype=np.int64)  # class number of the pair's row j
    direct = np.empty(0, dtype=np.int64)  # the direct tables of the current instance
    U = 0
    row_i = -1
    for q in range(P):
        p = start + q
        i = p // S
        s = p % S
        if i != row_i:
            pairs = min(P - q, (i + 1) * S - p)
            slots = _local_tables(CX, CB, var_idx, i, pairs, local, offset)
            direct = np.full(slots, -1, dtype=np.int64)
            for m in range(M):
                c = var_idx[i, m]
                pword[m] = word[c]
                for j in range(N):
                    delta[m, j] = weight[c] * (CX[i, c] - CB[j, c])
            row_i = i
        keys[:, :] = base
        cls[:] = offset
        for m in range(M):
            if Z[s, m]:
                w = pword[m]
                for j in range(N):
                    keys[j, w] += delta[m, j]
                    cls[j] += local[m, j]
        for j in range(N):
            r = q * N + j
            if offset[j] >= 0:
                u = direct[cls[j]]
                if u >= 0:
                    ids[r] = u
                    continue
            h = np.int64(0)
            for w in range(W):
                h = (h ^ keys[j, w]) * _GOLDEN
            slot = (h >> (64 - bits)) & mask
            while True:
                u = table[slot]
                if u < 0:  # a new distinct row
                    u = U
                    table[slot] = u
                    ukeys[u] = keys[j]
                    first[u] = r
                    U += 1
                    break
                same = True
                for w in range(W):
                    if ukeys[u, w] != keys[j, w]:
                        same = False
                        break
                if same:
                    break
                slot = (slot + 1) & mask
            if offset[j] >= 0:
                direct[cls[j]] = u
            ids[r] = u
    # renumber by background row, then first occurrence (a counting sort)
    at = np.zeros(N + 1, dtype=np.int64)
    for u in range(U):
        at[first[u] % N + 1] += 1
    for j in range(N):
        at[j + 1] += at[j]
    rank = np.empty(U, dtype=np.int64)
    out_first = np.empty(U, dtype=np.int64)
    for u in range(U):
        j = first[u] % N
        rank[u] = at[j]
        out_first[at[j]] = first[u]
        at[j] += 1
    for r in range(K):
        ids[r] = rank[ids[r]]
    return ids, out_first
