"""PermutationExplainer: shap's numbers for the same seed, exactness where the theory says so,
efficiency, model rows, batching, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from oracles import brute_force_shapley, distinct_walk_sets

import xai_fast as xf
from xai_fast.sampling.permutations import chain_coalitions, shap_orders


def _mlp(rng, d, k):
    torch.manual_seed(int(rng.integers(2**31)))
    return torch.nn.Sequential(torch.nn.Linear(d, 12), torch.nn.Tanh(), torch.nn.Linear(12, k))


def _numpy(net):
    def f(X):
        with torch.no_grad():
            return net(torch.as_tensor(X, dtype=torch.float32)).numpy().astype(np.float64)

    return f


@pytest.mark.parametrize("k", [1, 3])
def test_equals_shap_for_the_same_seed(rng, k):
    shap = pytest.importorskip("shap")
    d = 7
    f = _numpy(_mlp(rng, d, k))
    if k == 1:
        f = (lambda g: lambda X: g(X)[:, 0])(f)
    B, X = rng.normal(size=(9, d)), rng.normal(size=(6, d))
    X[0, 2] = B[:, 2] = 0.5  # a feature equal to every background row: not varying
    seed = int(rng.integers(2**31))
    ours = xf.PermutationExplainer(f, B, seed=seed)
    ref = shap.PermutationExplainer(f, B, seed=seed)
    for _ in range(2):  # the second call continues the stream, as shap's
        a = ours(X, max_evals=150, error_bounds=True, silent=True)
        b = ref(X, max_evals=150, error_bounds=True, silent=True)
        assert a.values.shape == b.values.shape
        np.testing.assert_allclose(a.values, b.values, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.error_std, b.error_std, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.base_values, b.base_values, rtol=1e-12, atol=1e-12)
    assert float(np.abs(a.values).max()) > 1e-3


def test_second_order_model_is_exact_with_one_order(rng):
    """Antithetic walks give exact Shapley values for a model with pairwise interactions."""
    d = 6
    a = rng.normal(size=d)
    C = np.triu(rng.normal(size=(d, d)), 1)

    def f(X):
        return X @ a + np.einsum("ni,ij,nj->n", X, C, X)

    B, X = rng.normal(size=(4, d)), rng.normal(size=(3, d))
    ex = xf.PermutationExplainer(f, B, seed=int(rng.integers(2**31)))
    out = ex(X, max_evals=2 * d + 1, silent=True)  # one order per row
    for i in range(len(X)):
        np.testing.assert_allclose(
            out.values[i], brute_force_shapley(f, X[i], B)[:, 0], rtol=1e-9, atol=1e-12
        )


def test_efficiency_is_exact_and_error_bars_are_the_walks_spread(rng):
    d = 9
    net = _mlp(rng, d, 2)
    B, X = rng.normal(size=(12, d)), rng.normal(size=(5, d))
    out = xf.PermutationExplainer(net, B, seed=1)(X, max_evals=300, error_bounds=True, silent=True)
    with torch.no_grad():
        fx = net(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(out.values.sum(1) + out.base_values, fx, rtol=0, atol=1e-6)
    assert out.error_std.shape == out.values.shape and (out.error_std > 0).all()
    # many orders converge to the exact values
    many = xf.PermutationExplainer(net, B, seed=2)(X[:1], max_evals=19 * 400, silent=True)
    exact = brute_force_shapley(_numpy(net), X[0], B)
    np.testing.assert_allclose(many.values[0], exact, rtol=0, atol=0.02 * np.abs(exact).max())


def test_model_rows_batching_and_seeds(rng):
    d, N, n = 6, 5, 4
    calls = []
    f0 = _numpy(_mlp(rng, d, 1))

    def f(X):
        calls.append(len(X))
        return f0(X)

    B, X = rng.normal(size=(N, d)), rng.normal(size=(n, d))
    ex = xf.PermutationExplainer(f, B, seed=11)
    calls.clear()
    first = ex(X, max_evals=40, silent=True).values
    P = 40 // (2 * d + 1)
    # the rows' outputs, then each distinct kept set of a row's walks once (orders: shap's)
    kept = distinct_walk_sets(11, n, d, P)
    assert kept < n * P * (2 * d - 2)  # the walks repeat sets here
    assert sum(calls) == n + kept * N
    every = xf.PermutationExplainer(xf.ModelAdapter(f, dedup_rows=False), B, seed=11)
    calls.clear()
    np.testing.assert_array_equal(every(X, max_evals=40, silent=True).values, first)
    assert sum(calls) == n + n * P * (2 * d - 2) * N
    small = xf.PermutationExplainer(f, B, seed=11)(X, max_evals=40, batch_size=1, silent=True)
    np.testing.assert_array_equal(small.values, first)  # batching never changes the values
    again = ex(X, max_evals=40, silent=True).values  # the stream goes on: other orders
    assert not np.array_equal(again, first)


def test_main_effects_are_each_feature_alone(rng):
    d = 5
    f = _numpy(_mlp(rng, d, 2))
    B, X = rng.normal(size=(6, d)), rng.normal(size=(3, d))
    out = xf.PermutationExplainer(f, B, seed=0)(X, max_evals=60, main_effects=True, silent=True)
    base = f(B).mean(0)
    for i, j in itertools.product(range(len(X)), range(d)):
        rows = B.copy()
        rows[:, j] = X[i, j]
        np.testing.assert_allclose(out.main_effects[i, j], f(rows).mean(0) - base, atol=1e-12)


def test_frames_outputs_and_shap_values(rng):
    pd = pytest.importorskip("pandas")
    d = 4
    f = _numpy(_mlp(rng, d, 3))
    cols = [f"c{j}" for j in range(d)]
    B = pd.DataFrame(rng.normal(size=(8, d)), columns=cols)
    X = pd.DataFrame(rng.normal(size=(3, d)), columns=cols)
    ex = xf.PermutationExplainer(f, B, seed=5, output_names=["a", "b", "c"])
    one = ex(X, outputs=[2], silent=True)
    assert one.feature_names == cols and one.values.shape == (3, d, 1)
    assert list(one.output_names) == ["c"] and one.base_values.shape == (3, 1)
    legacy = xf.PermutationExplainer(f, B, seed=5).shap_values(X, npermutations=2, silent=True)
    full = xf.PermutationExplainer(f, B, seed=5)(X, max_evals=2 * (2 * d + 1), silent=True)
    np.testing.assert_array_equal(legacy, full.values)
    every = xf.PermutationExplainer(f, B, seed=5)(X, silent=True)  # the same orders as one's
    np.testing.assert_array_equal(one.values[..., 0], every.values[..., 2])


def test_errors(rng):
    B, X = rng.normal(size=(4, 6)), rng.normal(size=(2, 6))
    ex = xf.PermutationExplainer(lambda A: A.sum(1), B, seed=0)
    with pytest.raises(ValueError, match="max_evals=10 is too low.*13"):
        ex(X, max_evals=10)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ex(X, nsamples=10)
    with pytest.raises(TypeError, match="one argument"):
        ex(X, X)
    with pytest.raises(ValueError, match="outputs must be"):
        ex(X, outputs=[3])
    with pytest.raises(ValueError, match="linearize_link=False"):
        xf.PermutationExplainer(lambda A: A.sum(1), B, link="logit")
    with pytest.raises(ValueError, match="seed must be"):
        xf.PermutationExplainer(lambda A: A.sum(1), B, seed=-1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        xf.PermutationExplainer(lambda A: A.sum(1), B, npermutations=3)


def test_shap_orders_are_numpys_shuffles_and_chains_walk_them(rng):
    var_idx = np.sort(rng.choice(20, size=(3, 5), replace=False), axis=1)
    seed = int(rng.integers(2**31))
    got = shap_orders(np.random.RandomState(seed), var_idx, 4)
    rs = np.random.RandomState(seed)
    for i in range(3):
        inds = var_idx[i].copy()
        for p in range(4):
            rs.shuffle(inds)
            np.testing.assert_array_equal(got[i, p], inds)
    Z = chain_coalitions(5)
    assert Z.shape == (8, 5)
    np.testing.assert_array_equal(Z.sum(1), [1, 2, 3, 4, 4, 3, 2, 1])
    assert (Z[:4, 0]).all() and not Z[4:, 0].any()  # forward keeps the first, backward drops it
