"""ExactExplainer against brute-force enumeration, shap's shapes, and its limits."""

import itertools
import math

import numpy as np
import pytest
import torch
from oracles import brute_force_shapley

import xai_fast as xf
from xai_fast.backends import available
from xai_fast.solvers.exact_shapley import interactions_from_values, shapley_from_values


def brute_force_interactions(v, M):
    """Interaction values from the value table ``v`` (2**M,), by explicit loops."""
    table_i = np.zeros((M, M))
    phi = np.zeros(M)
    for c in range(2**M):
        s = bin(c).count("1")
        for i in range(M):
            if c >> i & 1:
                continue
            phi[i] += (
                math.factorial(s)
                * math.factorial(M - s - 1)
                / math.factorial(M)
                * (v[c | 1 << i] - v[c])
            )
            for j in range(M):
                if j == i or c >> j & 1:
                    continue
                coef = math.factorial(s) * math.factorial(M - s - 2) / math.factorial(M - 1)
                table_i[i, j] += (
                    0.5 * coef * (v[c | 1 << i | 1 << j] - v[c | 1 << i] - v[c | 1 << j] + v[c])
                )
    for i in range(M):
        table_i[i, i] = phi[i] - table_i[i].sum()
    return table_i, phi


def nonlinear(X):
    return np.stack(
        [
            X[:, 0] * X[:, 1] * X[:, 2] + np.sin(X[:, 3]) + X[:, 4] ** 2,
            np.tanh(X[:, 5] * X[:, 0]) - X[:, 2],
        ],
        axis=1,
    )


def test_value_table_sums_match_loops(rng):
    M = 5
    v = rng.normal(size=(2, 2**M, 3))
    phi = shapley_from_values(v)
    inter = interactions_from_values(v)
    for r in range(2):
        for k in range(3):
            table_i, p = brute_force_interactions(v[r, :, k], M)
            np.testing.assert_allclose(phi[r, :, k], p, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(inter[r, :, :, k], table_i, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", available())
def test_exact_equals_brute_force(rng, backend):
    B = rng.normal(size=(25, 7))
    B[:, 6] = 0.3  # feature 6 constant in the background ...
    X = rng.normal(size=(4, 7))
    X[1, 6] = 0.3  # ... and equal to it in row 1: that row has 6 varying features
    e = xf.ExactExplainer(nonlinear, B, backend=backend)
    v = e.shap_values(X)
    assert v.shape == (4, 7, 2)
    exact = np.stack([brute_force_shapley(nonlinear, x, B) for x in X])
    np.testing.assert_allclose(v, exact, rtol=1e-9, atol=1e-12)
    assert v[1, 6, 0] == 0.0


def test_weighted_background(rng):
    f = lambda Z: Z[:, 0] * Z[:, 1] + Z[:, 2]  # noqa: E731
    B = rng.normal(size=(6, 3))
    w = rng.random(6) + 0.1
    X = rng.normal(size=(3, 3))
    v = xf.ExactExplainer(f, xf.Background(B, w)).shap_values(X)
    exact = np.stack([brute_force_shapley(f, x, B, w)[:, 0] for x in X])
    np.testing.assert_allclose(v, exact, rtol=1e-10, atol=1e-12)


def test_interactions_equal_brute_force_and_sum_to_values(rng):
    B = rng.normal(size=(10, 6))
    X = rng.normal(size=(3, 6))
    e = xf.ExactExplainer(nonlinear, B)
    inter = e.shap_interaction_values(X)
    assert inter.shape == (3, 6, 6, 2)
    np.testing.assert_allclose(inter.sum(axis=2), e.shap_values(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(inter, np.swapaxes(inter, 1, 2), rtol=0, atol=1e-12)
    for r, x in enumerate(X):
        masks = np.array(list(itertools.product([False, True], repeat=6)))[:, ::-1]
        rows = np.where(masks[:, None, :], x, B[None]).reshape(-1, 6)
        v = nonlinear(rows).reshape(64, len(B), 2).mean(1)
        codes = masks @ (1 << np.arange(6))
        table = np.empty_like(v)
        table[codes] = v
        table_i, _ = brute_force_interactions(table[:, 1], 6)
        np.testing.assert_allclose(inter[r, :, :, 1], table_i, rtol=1e-9, atol=1e-12)


def test_shapes_explanation_and_torch_module(rng):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    B = rng.normal(size=(7, 5))
    X = rng.normal(size=(3, 5))
    e = xf.ExactExplainer(net.double(), B)
    assert e.shap_values(X).shape == (3, 5, 1)
    assert e.shap_values(X[0]).shape == (5, 1)
    exp = e(X, interactions=True)
    assert exp.values.shape == (3, 5, 5, 1)
    assert exp.axes == ("row", "feature", "feature2", "output")
    row = exp[1, :, :, 0]
    assert row.axes == ("feature", "feature2") and row.data.shape == (5,)
    np.testing.assert_allclose(
        row.values.sum() + row.base_values, exp[1].values.sum() + exp.base_values[1, 0], rtol=1e-12
    )
    f = lambda Z: net(torch.from_numpy(Z)).detach().numpy()[:, 0]  # noqa: E731
    exact = np.stack([brute_force_shapley(f, x, B)[:, 0] for x in X])
    np.testing.assert_allclose(e.shap_values(X)[..., 0], exact, rtol=1e-9, atol=1e-12)


def test_twenty_features(rng):
    d = 20
    a = rng.normal(size=d)
    B = rng.normal(size=(2, d))
    X = rng.normal(size=(2, d))
    f = lambda Z: Z @ a + Z[:, 0] * Z[:, 19]  # noqa: E731
    v = xf.ExactExplainer(f, B).shap_values(X, silent=True)
    m, mm = B.mean(0), (B[:, 0] * B[:, 19]).mean()
    expected = a * (X - m)
    expected[:, 0] += 0.5 * (X[:, 0] * m[19] - mm + X[:, 0] * X[:, 19] - m[0] * X[:, 19])
    expected[:, 19] += 0.5 * (X[:, 19] * m[0] - mm + X[:, 0] * X[:, 19] - m[19] * X[:, 0])
    np.testing.assert_allclose(v, expected, rtol=1e-9, atol=1e-10)


def test_too_many_evaluations_is_a_clear_error(rng):
    B = rng.normal(size=(100, 18))
    e = xf.ExactExplainer(lambda Z: Z.sum(1), B, max_evals=10**6)
    with pytest.raises(ValueError, match=r"2\*\*18 = 262,144 coalitions.*26,214,400 model"):
        e.shap_values(rng.normal(size=(1, 18)))
    with pytest.raises(ValueError, match="max_evals must be"):
        xf.ExactExplainer(lambda Z: Z.sum(1), B, max_evals=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        xf.ExactExplainer(lambda Z: Z.sum(1), B, nsamples=10)


def test_exact_equals_kernel_in_full_enumeration(rng):
    B = rng.normal(size=(12, 8))
    X = rng.normal(size=(4, 8))
    a = xf.ExactExplainer(nonlinear, B).shap_values(X)
    b = xf.KernelExplainer(nonlinear, B, seed=0).shap_values(X, l1_reg=False)
    np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
