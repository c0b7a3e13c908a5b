"""The leverage-score sampler, the interaction regression and the jackknife error bars."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xai_fast as xf
from xai_fast.sampling import leverage_design_numba, leverage_design_ref
from xai_fast.sampling.leverage_plan import plan_leverage
from xai_fast.solvers.exact_shapley import shapley_from_values
from xai_fast.solvers.kernel_wls_ref import constrained_wls
from xai_fast.solvers.poly_wls import poly_wls


@pytest.mark.parametrize("M,n", [(2, 2), (5, 20), (8, 100), (16, 2048), (17, 3000), (70, 1500)])
def test_design_numba_matches_reference(rng, M, n):
    plan = plan_leverage(M, n)
    seed = np.uint64(rng.integers(2**63))
    args = (M, seed, plan.sizes, plan.pairs, plan.enumerated, 16)
    Z, w, block = leverage_design_ref.leverage_design(*args)
    Zn, wn, bn = leverage_design_numba.leverage_design(*args)
    np.testing.assert_array_equal(Zn, Z)
    np.testing.assert_array_equal(wn, w)
    np.testing.assert_array_equal(bn, block)
    assert len(Z) == plan.nsamples <= n and len({r.tobytes() for r in Z}) == len(Z)
    assert not (Z.all(axis=1) | ~Z.any(axis=1)).any()
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-12)
    sampled = block >= 0
    np.testing.assert_array_equal(Z[sampled][1::2], ~Z[sampled][0::2])  # complement pairs
    other = leverage_design_numba.leverage_design(M, seed + np.uint64(1), *args[2:])[0]
    assert plan.fully_enumerated or not np.array_equal(other, Z)


def test_design_weights_are_kernel_over_inclusion_probability():
    from math import comb

    M = 12
    plan = plan_leverage(M, 600)
    Z, w, block = leverage_design_numba.leverage_design(
        M, np.uint64(3), plan.sizes, plan.pairs, plan.enumerated, 16
    )
    size = Z.sum(axis=1)
    ratios = []
    for s in range(1, M):
        rows = size == s
        np.testing.assert_allclose(w[rows], w[rows][0])  # one weight per size
        kern = (M - 1) / (comb(M, s) * s * (M - s))  # kernel weight of one subset of size s
        p = rows.sum() / comb(M, s)  # inclusion probability
        ratios.append(w[rows][0] / (kern / p))
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-12)  # the same constant for all sizes
    counts = np.bincount(size, minlength=M)[1:]  # sizes share the budget equally (or enumerate)
    sampled = counts[counts < [comb(M, s) for s in range(1, M)]]
    assert sampled.max() - sampled.min() <= 2


def _random_game(rng, M):
    v = rng.normal(size=(2, 2**M, 1))
    v[:, 0] = 0.0
    return v


@pytest.mark.parametrize("order", [1, 2, 3])
def test_full_enumeration_is_exact_for_every_order(rng, order):
    M = 7
    v = _random_game(rng, M)
    plan = plan_leverage(M, 2**M)
    Z, w, block = leverage_design_numba.leverage_design(
        M, np.uint64(0), plan.sizes, plan.pairs, plan.enumerated, 16
    )
    codes = Z.astype(np.int64) @ (1 << np.arange(M))
    Y = v[:, codes, 0].T  # (S, 2)
    phi, std = poly_wls(Z, w, Y, v[:, -1, 0], order, block)
    np.testing.assert_allclose(phi.T, shapley_from_values(v)[:, :, 0], rtol=1e-9, atol=1e-10)
    np.testing.assert_array_equal(std, 0.0)


def test_linear_fit_equals_kernel_solver(rng):
    M, S = 9, 300
    Z = rng.random((S, M)) < 0.5
    w = rng.random(S)
    Y = rng.normal(size=(S, 3))
    tot = rng.normal(size=3)
    np.testing.assert_allclose(
        poly_wls(Z, w, Y, tot, 1)[0], constrained_wls(Z.astype(float), w, Y, tot), rtol=1e-9
    )


@pytest.fixture(scope="module")
def mlp_game():
    """A 12-feature tanh MLP with a 10-row background and its exact values (fixed seed: the
    accuracy comparisons below average over many design seeds instead)."""
    gen = torch.Generator().manual_seed(11)
    net = torch.nn.Sequential(
        torch.nn.Linear(12, 24), torch.nn.Tanh(), torch.nn.Linear(24, 24), torch.nn.Tanh(),
        torch.nn.Linear(24, 1),
    ).double()  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(1.5 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    data = torch.randn((14, 12), generator=gen, dtype=torch.float64).numpy()
    B, X = data[:10], data[10:]
    exact = xf.ExactExplainer(net, B).shap_values(X)[..., 0]
    return net, B, X, exact


def _errors(mlp_game, sampler, budget, seeds, error_bars=False):
    net, B, X, exact = mlp_game
    errs, act, rep, cover = [], [], [], []
    for seed in seeds:
        e = xf.KernelExplainer(net, B, seed=seed, sampler=sampler)
        out = e(X, nsamples=budget, l1_reg=False, silent=True, error_bars=error_bars)
        v = out.values[..., 0]
        errs.append(np.linalg.norm(v - exact) / np.linalg.norm(exact))
        act.append(np.mean((v - exact) ** 2))
        if error_bars:
            rep.append(np.mean(out.error_std[..., 0] ** 2))
            cover.append(np.mean(np.abs(v - exact) <= 2 * out.error_std[..., 0]))
    if error_bars:
        return np.array(errs), np.array(act), np.array(rep), np.array(cover)
    return np.array(errs), np.array(act), np.array(rep)


def test_new_samplers_beat_shap_at_equal_budget(mlp_game):
    seeds = range(12)
    shap_err = _errors(mlp_game, "shap", 1200, seeds)[0].mean()
    lev_err = _errors(mlp_game, "leverage", 1200, seeds)[0].mean()
    auto_err = _errors(mlp_game, "auto", 1200, seeds)[0].mean()  # cubic terms: 298 <= 1200/2.5
    assert lev_err < 0.85 * shap_err, (lev_err, shap_err)
    assert auto_err < 0.85 * lev_err, (auto_err, lev_err)


@pytest.mark.parametrize("sampler", ["leverage", "auto"])
def test_error_bars_are_calibrated(mlp_game, sampler):
    _, act, rep, cover = _errors(mlp_game, sampler, 1200, range(100, 116), error_bars=True)
    ratio = np.sqrt(rep.mean() / act.mean())  # RMS reported over RMS actual
    assert 0.5 <= ratio <= 2.0, ratio
    assert cover.mean() >= 0.85, cover.mean()  # nominally 95% within two standard errors


def test_tol_stopping_rule_meets_its_tolerance(mlp_game):
    net, B, X, exact = mlp_game
    e = xf.KernelExplainer(net, B, seed=5, sampler="leverage")
    out = e(X, nsamples=200, tol=0.01, silent=True)
    v, std = out.values[..., 0], out.error_std[..., 0]
    spread = v.max(axis=1) - v.min(axis=1)
    assert np.all(std.max(axis=1) <= 0.01 * spread)
    loose = e(X, nsamples=200, l1_reg=False, silent=True, error_bars=True)
    assert loose.error_std.max() > out.error_std.max()


def test_seeds_batches_and_backends_agree(mlp_game):
    net, B, X, _ = mlp_game

    def f(A):
        with torch.no_grad():
            return net(torch.from_numpy(A)).numpy()

    runs = {}
    for backend in ("numpy", "numba", "torch"):
        if backend not in xf.backends.available():
            continue
        e = xf.KernelExplainer(net, B, seed=9, sampler="auto", backend=backend)
        runs[backend] = e(X, nsamples=700, silent=True, error_bars=True)
    ref = runs["numpy"]
    for out in runs.values():
        np.testing.assert_allclose(out.values, ref.values, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out.error_std, ref.error_std, rtol=1e-7, atol=1e-12)
    cb = xf.KernelExplainer(f, B, seed=9, sampler="auto")
    np.testing.assert_allclose(cb.shap_values(X, nsamples=700), ref.values, rtol=1e-9)
    alone = cb.shap_values(X[2], nsamples=700)
    np.testing.assert_allclose(alone, ref.values[2], rtol=1e-9, atol=1e-12)
    assert not np.allclose(xf.KernelExplainer(f, B, seed=10, sampler="auto").shap_values(
        X, nsamples=700), ref.values)  # fmt: skip


def test_sampler_option_errors(mlp_game):
    net, B, X, _ = mlp_game
    with pytest.raises(ValueError, match="sampler must be one of"):
        xf.KernelExplainer(net, B, sampler="fast")
    shap_like = xf.KernelExplainer(net, B, seed=0)
    with pytest.raises(ValueError, match="cannot be combined with error_bars"):
        shap_like(X, l1_reg="aic", error_bars=True)
    with pytest.raises(ValueError, match="cannot be combined with error_bars"):
        shap_like.shap_values(X, l1_reg="num_features(3)", tol=0.1)
    lev = xf.KernelExplainer(net, B, seed=0, sampler="leverage")
    with pytest.raises(ValueError, match="l1_reg"):
        lev.shap_values(X, l1_reg="aic")
    with pytest.raises(ValueError, match="tol must be"):
        lev.shap_values(X, tol=-1)
