"""Kernel SHAP with error bars: one group of rows, in rounds that double the budget for ``tol``.

``sampler="auto"`` fits the leverage design's pairs by Gaussian-process regression of the game's
odd part (:func:`xai_fast.solvers.odd_gp.odd_gp`), whose error bars are its posterior standard
deviations, where the pairs number at most ``MAX_GP_PAIRS``; beyond, it fits third-order
interactions when they fit the budget, else the linear model. Those fits end in a jackknife
(:func:`xai_fast.solvers.poly_wls.poly_wls`): the leverage design deals its sampled pairs to
blocks; shap's design, drawn with replacement, deals its draws
(:mod:`xai_fast.sampling.kernel_design_blocks`). ``tol`` stops the doubling once every
value of a row is within ``tol`` times the row's spread at about 95% confidence: treating each
error as normal with its reported standard error, the chances that each value misses, summed
over the row (a union bound), must be at most ``TOL_MISS``.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from .._rng import round_seed
from .._runtime.blas import single_threaded_blas
from ..links import apply_link
from ..sampling import random_size_cdf, shap_design
from ..sampling.kernel_design_blocks import kernel_design_blocks
from ..sampling.leverage_plan import plan_leverage
from ..solvers.odd_cubic import exact_odd_cubic, odd_cubic_terms
from ..solvers.odd_gp import odd_gp
from ..solvers.poly_wls import n_terms, poly_wls

#: Jackknife blocks (error bars).
N_BLOCKS = 16
#: Largest budget the ``tol`` stopping rule grows to.
MAX_TOL_BUDGET = 2**17
#: ``sampler="auto"`` uses the Gaussian-process fit for designs of at most this many pairs (its
#: cost grows as the pairs cubed: about 0.2 s at 2,048 coalitions for 16 players, here) ...
MAX_GP_PAIRS = 4096
#: ... with at least this many pairs per player (the linear terms are fitted freely) ...
MIN_GP_PAIRS_PER_PLAYER = 2
#: ... and at most this many players (its tables grow as the players times the orders squared).
MAX_GP_PLAYERS = 1000
#: Up to this many pairs the fit runs on one BLAS thread: numpy's and scipy's bundled thread
#: pools otherwise take each other's cores, and their spinning threads the model's next calls
#: (measured on 2 cores, 5 rows of MLPs with 16 and 50 features: 110 and 140 ms a call at about
#: 2,100 coalitions against 180-470 ms, 0.37 against 0.43-0.79 s at 4,096). Larger
#: factorisations gain more from the threads than they lose (0.83 against 0.67 s at 6,144).
MAX_SINGLE_THREAD_GP_PAIRS = 2048
#: Where the pairs outnumber the at most this many terms of one and three players by the
#: players, a game whose odd part those terms reproduce to rounding (boosted trees of depth 3,
#: say) gets their fit's exact values (the Gaussian process would be close, and its error bars
#: wide).
MAX_EXACT_CHECK_TERMS = 1000
#: Beyond the Gaussian-process fit's reach, ``sampler="auto"`` fits third-order interactions
#: when they number at most this many and the budget gives each term at least
#: ``CUBIC_SAMPLES_PER_TERM`` coalitions. With the ridge chosen
#: on held-out blocks, one coalition per term already beats the linear fit on every trained
#: model of ``benchmarks/bench_estimator_zoo.py`` (16 players: 0.0111 -> 0.0076 relative error
#: at 1,024 coalitions on breast cancer); with fewer, the fit is underdetermined and worse.
MAX_CUBIC_TERMS = 3000
CUBIC_SAMPLES_PER_TERM = 1.0
#: Ridge penalties on the cubic fit's three-player terms, relative to the normal equations' mean
#: diagonal; the one that best predicts held-out blocks of coalitions is used (0 keeps the fit
#: exact on games of at most three-player terms; pairs are not penalised, so pairwise games
#: stay exact under any penalty).
CUBIC_RIDGE = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
#: Probability that some value of a row misses ``tol`` when the error bars are right.
TOL_MISS = 0.05


def uses_gp(M: int, nsamples: int) -> bool:
    """Whether ``sampler="auto"`` fits a (not fully enumerated) design of ``nsamples``
    coalitions on ``M`` players by Gaussian-process regression."""
    pairs = nsamples // 2
    return M <= MAX_GP_PLAYERS and MIN_GP_PAIRS_PER_PLAYER * M <= pairs <= MAX_GP_PAIRS


def _converged(phi, std, tol) -> bool:
    """Whether every column's values are within ``tol`` of its spread with probability about
    ``1 - TOL_MISS``: ``sum_i P(|N(0, std_i)| > tol * spread) <= TOL_MISS``.

    ``phi``, ``std``: ``(M, R)``."""
    from scipy.special import ndtr

    spread = phi.max(axis=0) - phi.min(axis=0)  # (R,)
    with np.errstate(divide="ignore", invalid="ignore"):  # an exact value (std 0) never misses
        margin = np.where(std > 0, tol * spread / std, np.inf)  # (M, R) in standard errors
    return bool(np.all((2.0 * ndtr(-margin)).sum(axis=0) <= TOL_MISS))


def _coalition_values(explainer, game, Z, X, var_idx, link_null, silent):
    """Linked coalition values minus the empty coalition's, ``(S, n_g * k)`` on the host."""
    ey = game.evaluate(Z, X, var_idx, progress=not silent)  # (n_g, S, k)
    Y = apply_link(explainer.link, ey, what="model output averaged over the background")
    Y = Y.cpu().numpy() if hasattr(Y, "cpu") else Y
    n_g, S, k = Y.shape
    return (Y - link_null).transpose(1, 0, 2).reshape(S, -1), (n_g, k)


def leverage_group(explainer, game, X, var_idx, total, M, nsamples, seed, link_null, silent,
                   error_bars, tol):  # fmt: skip
    """Rows sharing ``M`` varying features, with a leverage design (``sampler`` "leverage" or
    "auto").

    Returns
    -------
    phi, std : ndarray, shape (n_g, M, k); ``std`` is ``None`` without error bars or tol
    """
    design = explainer.backend.leverage_design
    budget = plan_leverage(M, nsamples).nsamples
    tot = total.reshape(-1)
    for round_ in range(64):
        plan = plan_leverage(M, budget)
        key = round_seed(seed, round_)  # a fresh design per round
        Z, w, block = design(M, key, plan.sizes, plan.pairs, plan.enumerated, N_BLOCKS)
        Y, (n_g, k) = _coalition_values(explainer, game, Z, X, var_idx, link_null, silent)
        want_std = error_bars or tol is not None
        auto = explainer.sampler == "auto" and not plan.fully_enumerated
        if auto and uses_gp(M, Z.shape[0]):
            small = Z.shape[0] // 2 <= MAX_SINGLE_THREAD_GP_PAIRS
            with single_threaded_blas() if small else contextlib.nullcontext():
                phi, std = odd_gp(Z, Y, tot, errors=want_std)
                odd3 = odd_cubic_terms(M)
                if odd3 <= MAX_EXACT_CHECK_TERMS and Z.shape[0] // 2 >= odd3 + M:
                    phi3, exact = exact_odd_cubic(Z, w, Y, tot)  # odd parts of <= 3-player terms
                    phi[:, exact] = phi3[:, exact]
                    if std is not None:
                        std[:, exact] = 0.0
        else:
            terms3 = n_terms(M, 3)
            cubic = (
                auto and terms3 <= MAX_CUBIC_TERMS and Z.shape[0] >= CUBIC_SAMPLES_PER_TERM * terms3
            )
            with single_threaded_blas():  # the cubic fit's ridge is chosen on the blocks
                phi, std = poly_wls(
                    Z, w, Y, tot, 3 if cubic else 1, block if want_std or cubic else None,
                    N_BLOCKS, CUBIC_RIDGE if cubic else (0.0,), errors=want_std,
                )  # fmt: skip
        if _done(plan.fully_enumerated, budget, phi, std, tol):
            break
        budget *= 2
    phi = phi.reshape(M, n_g, k).transpose(1, 0, 2)
    std = None if std is None else std.reshape(M, n_g, k).transpose(1, 0, 2)
    return phi, std


def shap_group_with_errors(explainer, game, X, var_idx, total, M, nsamples, seed, link_null,
                           silent, tol):  # fmt: skip
    """Rows sharing ``M`` varying features with shap's design, its values and jackknife errors;
    with ``tol``, rounds of doubling budgets (fresh designs) until the errors are small.

    Returns
    -------
    phi, std : ndarray, shape (n_g, M, k)
    """
    tot = total.reshape(-1)
    budget = nsamples
    for round_ in range(64):
        key = round_seed(seed, round_)  # round 0: the design of a call without error bars
        Z, w, plan = shap_design(explainer.backend, M, budget, key)
        Y, (n_g, k) = _coalition_values(explainer, game, Z, X, var_idx, link_null, silent)
        phi = explainer._solve(Z.astype(np.float64), w, Y, tot)  # shap's numbers
        phi = phi.cpu().numpy() if hasattr(phi, "cpu") else phi
        if plan.fully_enumerated:
            std = np.zeros_like(phi)
        else:
            counts = kernel_design_blocks(
                M, plan.nsamples, np.uint64(key), plan.weight_vector, plan.num_full,
                plan.num_paired, plan.binoms, random_size_cdf(plan), N_BLOCKS,
            )  # fmt: skip
            with single_threaded_blas():
                std = poly_wls(Z, w, Y, tot, 1, counts, N_BLOCKS)[1]
        if _done(plan.fully_enumerated, plan.nsamples, phi, std, tol):
            break
        budget = 2 * plan.nsamples
    phi = phi.reshape(M, n_g, k).transpose(1, 0, 2)
    return phi, std.reshape(M, n_g, k).transpose(1, 0, 2)


def _done(enumerated, budget, phi, std, tol) -> bool:
    if tol is None or enumerated or _converged(phi, std, tol):
        return True
    if budget >= MAX_TOL_BUDGET:
        warnings.warn(
            f"tol={tol} was not reached with {budget:,} coalitions (the most tol grows to); "
            "the values are returned as they are (error_bars=True shows their standard "
            "errors). Raise tol, or group features to have fewer players.",
            RuntimeWarning,
            stacklevel=5,
        )
        return True
    return False
