"""Shapley values by Gaussian-process regression of a game's odd part (``sampler="auto"``).

Write a game in the players' signs ``s = 2 z - 1`` as ``v = sum_T c_T prod_{i in T} s_i``. A
term of an even number of players gives every player 0 (it takes the same value on the full and
the empty coalition) and a term of ``k`` players, ``k`` odd, gives each of them ``2 c_T / k``. So
the Shapley values depend only on the odd part ``(v(z) - v(1 - z)) / 2``, which a design of
complementary pairs observes exactly, one value per pair.

The odd part is fitted with its linear terms free (a flat prior) and every term of ``k = 3, 5,
...`` players an independent Gaussian of variance ``rho^((k - 3) / 2) / C(M, k)`` (the terms of
one order share ``rho^((k - 3) / 2)``). The prior covariance of two coalitions then depends only
on how many players they differ in (a Krawtchouk sum), so every order is in the fit and the fit
costs one ``n x n`` Cholesky factorisation per ``rho`` for ``n`` pairs, whatever ``M``. ``rho``
is chosen per output column by restricted maximum likelihood among a few candidates (on 512
pairs spread over a larger design, which is then fitted once per chosen candidate).

The fit has no noise term (coalition values are exact): it reproduces every observed pair, the
full coalition's included, so the values are efficient, and a game whose odd part is linear (a
game of main effects and pairs, in particular) is fitted exactly. The error bars are the
posterior standard deviations, with the prior's scale estimated from the fit's residuals.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.linalg
from scipy.special import gammaln

__all__ = ["RHOS", "krawtchouk_normalised", "odd_gp", "odd_gp_tables"]

#: Candidate decays of the prior variance per order (order ``k``: ``rho^((k - 3) / 2)``).
RHOS = (0.01, 0.03, 0.1, 0.3, 0.6)
#: Pairs on which ``rho`` is chosen in a larger design.
SELECT_PAIRS = 512
#: Added to the prior covariance's diagonal, relative to a coalition's prior variance.
NUGGET = 1e-10
#: Orders whose prior weight is below this are left out (``rho < 1``).
MIN_WEIGHT = 1e-13


@functools.lru_cache(maxsize=64)
def krawtchouk_normalised(M: int, orders: tuple) -> np.ndarray:
    """``kappa`` ``(len(orders), M + 1)``: ``kappa[a, d] = K_k(d) / C(M, k)``, ``k = orders[a]``.

    ``K_k(d) = sum_j (-1)^j C(d, j) C(M - d, k - j)`` is the sum over the subsets ``T`` of ``k``
    of ``M`` players of ``prod_{i in T} s_i s'_i`` for two sign vectors that differ in ``d``
    players. Over ``C(M, k)`` each term is a hypergeometric probability, so the alternating sum
    is accurate to rounding (the three-term recurrence in ``k`` is not, beyond a few dozen
    players).
    """
    k = np.asarray(orders, dtype=np.float64)[:, None, None]  # (K, 1, 1)
    d = np.arange(M + 1, dtype=np.float64)[None, :, None]  # (1, M + 1, 1)
    j = np.arange(int(k.max(initial=0)) + 1, dtype=np.float64)[None, None, :]  # (1, 1, J)
    ok = (j <= k) & (j <= d) & (k - j <= M - d)
    with np.errstate(invalid="ignore"):
        log_p = _log_comb(d, j) + _log_comb(M - d, k - j) - _log_comb(float(M), k)
    terms = np.where(ok, np.exp(np.where(ok, log_p, 0.0)), 0.0) * (-1.0) ** j
    return terms.sum(axis=2)


def _log_comb(a, b):
    return gammaln(a + 1.0) - gammaln(b + 1.0) - gammaln(a - b + 1.0)


def _orders(M: int, rho: float) -> np.ndarray:
    """Odd orders ``3 .. M`` whose prior weight ``rho^((k - 3) / 2)`` is at least ``MIN_WEIGHT``."""
    orders = np.arange(3, M + 1, 2)
    if rho < 1.0:
        orders = orders[(orders - 3) / 2.0 * np.log(rho) >= np.log(MIN_WEIGHT)]
    return orders


def odd_gp_tables(M: int, rho: float):
    """The prior's covariances, by the number of differing players.

    Returns
    -------
    g : ndarray, shape (M + 1,)
        ``g[d]``: prior covariance of the odd part at two coalitions differing in ``d`` players.
    h : ndarray, shape (M,)
        ``h[q]``: covariance of player ``i``'s share of the terms of 3+ players with the odd part
        at a coalition, over ``s_i``, for a coalition with ``q`` minus signs among the others.
    u_var : float
        Prior variance of one player's share of the terms of 3+ players.
    """
    orders = _orders(M, rho)
    wk = rho ** ((orders - 3) / 2.0)  # (K,) total prior variance of each odd order
    g = wk @ krawtchouk_normalised(M, tuple(orders.tolist()))
    # sum_{T ni i, |T| = k} (2 / k) sigma_k^2 prod_{j in T - i} s_j = (2 / M) w_k kappa^(M-1)_{k-1}
    h = (2.0 / M) * (wk @ krawtchouk_normalised(M - 1, tuple((orders - 1).tolist())))
    return g, h, float((4.0 / M) * (wk / orders).sum())


def odd_gp(Z, Y, total, rhos=RHOS, errors=False, select_pairs=None):
    """Shapley values from the posterior mean of the odd part; optional posterior errors.

    Parameters
    ----------
    Z : ndarray of bool, shape (S, M)
        Complementary pairs in adjacent rows (``Z[1::2] == ~Z[0::2]``), neither the empty nor
        the full coalition.
    Y : ndarray of float64, shape (S, R)
        Coalition values minus the empty coalition's, per column.
    total : ndarray of float64, shape (R,)
        Full coalition's value minus the empty one's.
    rhos : sequence of float
        Candidate prior decays; each column keeps the one of largest restricted likelihood.
    errors : bool, default False
        Also return the posterior standard deviations.
    select_pairs : int, optional
        With more than twice ``max(select_pairs, 4 * M)`` pairs, ``rho`` is chosen on that many
        pairs spread over the design, and the whole design is fitted only with the chosen
        candidates (default ``SELECT_PAIRS``; each factorisation costs the pairs cubed).

    Returns
    -------
    phi : ndarray of float64, shape (M, R)
        Sums to ``total`` per column.
    std : ndarray of float64, shape (M, R), or None
    """
    S, M = Z.shape
    select_pairs = SELECT_PAIRS if select_pairs is None else select_pairs
    if S % 2 or not np.array_equal(Z[1::2], ~Z[0::2]):
        raise ValueError("odd_gp needs complementary pairs in adjacent rows of Z.")
    Zs = np.vstack([Z[0::2], np.ones((1, M), dtype=bool)])  # (n, M): the full pair last
    y = np.vstack([(Y[0::2] - Y[1::2]) / 2.0, total[None, :] / 2.0])  # (n, R) odd part
    n, R = y.shape
    if n <= M:
        raise ValueError(f"odd_gp needs more than {M} pairs for {M} players; got {n}.")
    s = 2.0 * Zs - 1.0
    differ = np.rint((M - s @ s.T) / 2.0).astype(np.intp)  # (n, n)
    absent = ~Zs
    q = absent.sum(axis=1)[:, None] - absent  # (n, M) minus signs among the other players
    chosen = None  # (R,) index into rhos, chosen on a strided subset of the pairs
    sub = max(select_pairs, 4 * M)
    if len(rhos) > 1 and n > 2 * sub:
        keep = np.append(np.linspace(0, n - 2, sub - 1).astype(np.intp), n - 1)
        scores = [_fit(s[keep], y[keep], differ[np.ix_(keep, keep)], q[keep], M, r, False)
                  for r in rhos]  # fmt: skip
        scores = np.stack([np.full(R, -np.inf) if f is None else f[0] for f in scores])
        if np.all(np.isfinite(scores.max(axis=0))):
            chosen = np.argmax(scores, axis=0)
    best = np.full(R, -np.inf)
    phi = np.zeros((M, R))
    std = np.zeros((M, R)) if errors else None
    for a, rho in enumerate(rhos):
        if chosen is not None and not np.any(chosen == a):
            continue
        fit = _fit(s, y, differ, q, M, rho, errors)
        if fit is None:
            continue
        score, phi_r, std_r = fit
        take = (score > best) if chosen is None else (chosen == a)
        best = np.where(take, score, best)
        phi[:, take] = phi_r[:, take]
        if errors:
            std[:, take] = std_r[:, take]
    if not np.all(np.isfinite(best)):
        raise np.linalg.LinAlgError("odd_gp: the prior covariance is singular for every rho.")
    phi += (total - phi.sum(axis=0)) / M  # rounding only: the fit interpolates the full pair
    return phi, std


def _fit(s, y, differ, q, M, rho, errors):
    """One prior: ``(score (R,), phi (M, R), std (M, R) or None)``; ``None`` if singular."""
    n, R = y.shape
    g, h, u_var = odd_gp_tables(M, rho)
    K = g[differ]
    K[np.diag_indices_from(K)] += NUGGET * g[0]
    try:
        L = scipy.linalg.cholesky(K, lower=True, overwrite_a=True, check_finite=False)
        KiX = scipy.linalg.cho_solve((L, True), s, check_finite=False)  # (n, M)
        Kiy = scipy.linalg.cho_solve((L, True), y, check_finite=False)  # (n, R)
        A = s.T @ KiX  # (M, M) generalised least squares of the linear terms
        LA = scipy.linalg.cholesky(A, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    beta = scipy.linalg.cho_solve((LA, True), s.T @ Kiy, check_finite=False)  # (M, R)
    alpha = Kiy - KiX @ beta  # K^-1 (y - s beta)
    quad = np.maximum(((y - s @ beta) * alpha).sum(axis=0), 1e-300)  # (R,)
    dof = n - M
    logdet = 2.0 * (np.log(np.diag(L)).sum() + np.log(np.diag(LA)).sum())
    score = -0.5 * (dof * np.log(quad / dof) + logdet)  # REML, the scale profiled out
    Kl = s * h[q]  # (n, M) prior covariance of each player's share with the odd part
    phi = 2.0 * beta + Kl.T @ alpha
    if not errors:
        return score, phi, None
    V = scipy.linalg.solve_triangular(L, Kl, lower=True, check_finite=False)  # (n, M)
    u_post = u_var - (V**2).sum(axis=0)  # (M,) shares' variance given the linear terms
    B = 2.0 * np.eye(M) - s.T @ scipy.linalg.cho_solve((L, True), Kl, check_finite=False)
    C = scipy.linalg.solve_triangular(LA, B, lower=True, check_finite=False)  # (M, M)
    var = np.maximum(u_post + (C**2).sum(axis=0), 0.0)  # (M,) per unit prior scale
    return score, phi, np.sqrt(var[:, None] * (quad / dof)[None, :])
