"""Numba kernel of lime's ``"lasso_path"`` feature selection for many Gram problems at once.

Same signature as :func:`xai_fast.solvers.lasso_path_ref.lasso_path_support`. Each problem runs
LARS with the lasso modification on its Gram matrix, keeping a Cholesky factor of the active
block; the support after every step is checked against lime's scan rule as the path goes.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_MAX_ITER = 500  # lars_path's default step limit, which lime keeps
_PIVOT_MIN = 1e-7  # a feature whose Cholesky pivot is below this never enters (sklearn's rule)
_ALPHA_TOL = float(np.finfo(np.float32).eps)  # the path stops once max|corr| / n_samples <= this
_TINY = float(np.finfo(np.float32).tiny)  # keeps step-length denominators away from zero
_EPS = float(np.finfo(np.float64).eps)

# Per-feature state during a path.
_INACTIVE, _ACTIVE, _JUST_DROPPED, _DEGENERATE = 0, 1, 2, 3


def lasso_path_support(G, c, num_features, n_samples=1):
    """See :func:`xai_fast.solvers.lasso_path_ref.lasso_path_support`.

    Parameters
    ----------
    G : ndarray of float64, shape (B, d, d)
    c : ndarray of float64, shape (B, d)
    num_features : int
    n_samples : int, optional

    Returns
    -------
    ndarray of bool, shape (B, d)
    """
    G = np.ascontiguousarray(G, dtype=np.float64)
    c = np.ascontiguousarray(c, dtype=np.float64)
    if c.ndim != 2 or G.shape != (c.shape[0], c.shape[1], c.shape[1]):
        raise ValueError(f"G must have shape (B, d, d) and c (B, d); got {G.shape} and {c.shape}.")
    if not n_samples > 0:
        raise ValueError(f"n_samples must be positive; got {n_samples!r}.")
    out = np.zeros(c.shape, dtype=np.bool_)
    _support_batch(G, c, int(num_features), float(n_samples), out)
    return out


@nb.njit(cache=True)
def _support_batch(G, c, num_features, n_samples, out):
    """Fill ``out`` (B, d) with the kept features of every problem, one after the other."""
    B, d = c.shape
    # Workspaces shared by all problems.
    L = np.zeros((d, d))  # lower Cholesky factor of the active Gram block, entry order
    work = np.empty((6, d))  # float vectors, see _support_one
    act = np.empty(d, np.int64)  # active features, entry order
    state = np.empty(d, np.int8)
    col1 = np.empty(d, np.bool_)  # support of path column 1
    for b in range(B):
        _support_one(G[b], c[b], num_features, n_samples, out[b], L, work, act, state, col1)


@nb.njit(cache=True)
def _cholesky_append(G, L, act, na, j):
    """Write row ``na`` of ``L`` for feature ``j`` after ``act[:na]``; return its pivot."""
    for i in range(na):
        acc = G[act[i], j]
        for m in range(i):
            acc -= L[i, m] * L[na, m]
        L[na, i] = acc / L[i, i]
    acc = G[j, j]
    for m in range(na):
        acc -= L[na, m] * L[na, m]
    return max(np.sqrt(abs(acc)), _EPS)


@nb.njit(cache=True)
def _support_one(G, c, num_features, n_samples, keep, L, work, act, state, col1):
    """Lasso LARS path of one problem and lime's scan over its breakpoints; fills ``keep`` (d,)."""
    d = c.shape[0]
    sgn = work[0]  # sign of each active feature's correlation, per active slot
    u = work[1]  # equiangular direction in coefficient space, per active slot
    z = work[2]  # step at which each active coefficient reaches zero, per active slot
    a = work[3]  # correlation of each feature with the equiangular direction
    beta = work[4]
    cur = work[5]  # current correlations c - G @ beta
    beta[:] = 0.0
    cur[:] = c
    state[:] = _INACTIVE
    keep[:] = False
    na = 0  # number of active features
    n_iter = 0  # path columns after column 0
    prev_alpha = 0.0
    dropped = False
    found = False  # some column >= 1 has at most num_features nonzeros
    while True:
        # Current correlation level: the largest among features outside the active set.
        C = 0.0
        jmax = -1
        for j in range(d):
            if (state[j] == _INACTIVE or state[j] == _JUST_DROPPED) and abs(cur[j]) > C:
                C = abs(cur[j])
                jmax = j
        alpha = C / n_samples
        if alpha <= _ALPHA_TOL or n_iter >= _MAX_ITER or na >= d:
            break
        if not dropped:
            # The most correlated feature enters, unless it is (nearly) collinear with the active
            # set; then it is set aside for good and the next one is tried.
            pivot = _cholesky_append(G, L, act, na, jmax)
            if pivot < _PIVOT_MIN:
                state[jmax] = _DEGENERATE
                continue
            L[na, na] = pivot
            act[na] = jmax
            sgn[na] = 1.0 if cur[jmax] > 0 else -1.0
            state[jmax] = _ACTIVE
            na += 1
        if n_iter > 0 and prev_alpha < alpha:
            break  # rounding has overtaken the remaining correlation
        # Equiangular direction: u = G_AA^-1 s / sqrt(s' G_AA^-1 s), via q = L^-1 s.
        for i in range(na):
            acc = sgn[i]
            for m in range(i):
                acc -= L[i, m] * u[m]
            u[i] = acc / L[i, i]
        qq = 0.0
        for i in range(na):
            qq += u[i] * u[i]
        if not (0.0 < qq < np.inf):
            break  # the active block is numerically singular
        AA = 1.0 / np.sqrt(qq)
        for i in range(na - 1, -1, -1):
            acc = u[i]
            for m in range(i + 1, na):
                acc -= L[m, i] * u[m]
            u[i] = acc / L[i, i]
        for i in range(na):
            u[i] *= AA
        # Longest step before an outside feature ties the active correlation level (or it hits 0).
        a[:] = 0.0
        for i in range(na):  # a = G[act].T @ u, row by row
            row = act[i]
            ui = u[i]
            for j in range(d):
                a[j] += G[row, j] * ui
        gamma = C / AA
        for j in range(d):
            if state[j] == _INACTIVE or state[j] == _JUST_DROPPED:
                acc = np.rint(a[j] * 1e15) / 1e15  # numpy.around(., 15), as sklearn rounds
                a[j] = acc
                # A feature that just left sits on the face +-C it left by; it may only come back
                # through the opposite one.
                left = state[j] == _JUST_DROPPED
                if not (left and cur[j] > 0):
                    g = (C - cur[j]) / (AA - acc + _TINY)
                    if 0.0 < g < gamma:
                        gamma = g
                if not (left and cur[j] < 0):
                    g = (C + cur[j]) / (AA + acc + _TINY)
                    if 0.0 < g < gamma:
                        gamma = g
        # Lasso modification: stop where an active coefficient crosses zero and drop it.
        zmin = np.inf
        for i in range(na):
            z[i] = -beta[act[i]] / (u[i] + _TINY)
            if 0.0 < z[i] < zmin:
                zmin = z[i]
        dropped = zmin < gamma
        if dropped:
            gamma = zmin
        n_iter += 1
        for i in range(na):
            beta[act[i]] += gamma * u[i]
        for j in range(d):
            if state[j] == _INACTIVE or state[j] == _JUST_DROPPED:
                cur[j] -= gamma * a[j]
                state[j] = _INACTIVE
        if dropped:
            kept = 0
            for i in range(na):
                j = act[i]
                if z[i] == zmin:
                    beta[j] = 0.0
                    state[j] = _JUST_DROPPED
                else:
                    act[kept] = j
                    sgn[kept] = sgn[i]
                    kept += 1
            na = kept
            for i in range(na):  # refactor the smaller active block
                L[i, i] = _cholesky_append(G, L, act, i, act[i])
            for j in range(d):  # exact correlation of the features that left
                if state[j] == _JUST_DROPPED:
                    acc = c[j]
                    for i in range(na):
                        acc -= G[j, act[i]] * beta[act[i]]
                    cur[j] = acc
        # Record this breakpoint's support for lime's scan (the last qualifying column wins).
        nnz = 0
        for j in range(d):
            if beta[j] != 0.0:
                nnz += 1
        if n_iter == 1:
            for j in range(d):
                col1[j] = beta[j] != 0.0
        if nnz <= num_features:
            found = True
            for j in range(d):
                keep[j] = beta[j] != 0.0
        prev_alpha = alpha
    if n_iter == 0:
        keep[:] = True  # one-column path: lime keeps every feature
    elif not found:
        keep[:] = col1
