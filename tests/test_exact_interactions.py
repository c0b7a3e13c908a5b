"""ExactExplainer's interaction values: the Shapley-Taylor index (shap's ExactExplainer) and
the Shapley interaction index (shap's TreeExplainer convention), against explicit sums over
subsets and against shap."""

import itertools
import math

import numpy as np
import pytest

import xai_fast as xf
from xai_fast.solvers.exact_shapley import interactions_from_values


def game(X):
    """Three-way and pairwise terms: the two indices differ on it."""
    return X[:, 0] * X[:, 1] * X[:, 2] + np.sin(X[:, 2]) * X[:, 3] + X[:, 4] ** 2 - X[:, 1]


def shapley_taylor_by_subsets(v, players):
    """Order-2 Shapley-Taylor values of the set function ``v`` (a callable on tuples), halved
    on each side of the diagonal, main effects on it: explicit sums over subsets."""
    d = len(players)
    out = np.zeros((d, d))
    for i in range(d):
        out[i, i] = v((players[i],)) - v(())
        for j in range(d):
            if j == i:
                continue
            rest = [p for p in players if p not in (players[i], players[j])]
            for r in range(d - 1):
                w = 2 / d / math.comb(d - 1, r)
                for S in itertools.combinations(rest, r):
                    a, b = players[i], players[j]
                    delta = v(S + (a, b)) - v(S + (a,)) - v(S + (b,)) + v(S)
                    out[i, j] += w * delta / 2
    return out


def coalition_value(f, x, B):
    def v(S):
        Z = B.copy()
        Z[:, list(S)] = x[list(S)]
        return f(Z).mean()

    return v


def test_shapley_taylor_equals_subset_sums(rng):
    d = 6
    B = rng.normal(size=(8, d))
    X = rng.normal(size=(3, d))
    B[:, 5] = X[1, 5] = 0.4  # row 1: feature 5 equals every background row (not a player)
    exp = xf.ExactExplainer(game, B)(X, interactions=True)
    assert exp.values.shape == (3, d, d)
    for r, x in enumerate(X):
        want = shapley_taylor_by_subsets(coalition_value(game, x, B), tuple(range(d)))
        np.testing.assert_allclose(exp.values[r], want, rtol=1e-10, atol=1e-12)
    assert np.all(exp.values[1, 5] == 0) and np.all(exp.values[1, :, 5] == 0)
    gap = game(X) - game(B).mean()
    np.testing.assert_allclose(exp.values.sum(axis=(1, 2)), gap, rtol=1e-10, atol=1e-12)
    # each three-way dividend is shared by its three pairs, so rows still sum to the Shapley
    # values, but the matrix is not the Shapley interaction index's
    e = xf.ExactExplainer(game, B)
    np.testing.assert_allclose(exp.values.sum(axis=2), e.shap_values(X), rtol=1e-10, atol=1e-12)
    assert np.abs(exp.values - e.shap_interaction_values(X)).max() > 1e-2


def test_both_indices_from_one_value_table(rng):
    M, k = 5, 2
    v = rng.normal(size=(3, 2**M, k))
    st = interactions_from_values(v, "shapley_taylor")
    sii = interactions_from_values(v, "shapley")
    for r in range(3):
        for o in range(k):

            def table(S, r=r, o=o):
                return v[r, sum(1 << p for p in S), o]

            want = shapley_taylor_by_subsets(table, tuple(range(M)))
            np.testing.assert_allclose(st[r, :, :, o], want, rtol=1e-12, atol=1e-13)
    total = v[:, -1, :] - v[:, 0, :]
    np.testing.assert_allclose(st.sum(axis=(1, 2)), total, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(sii.sum(axis=(1, 2)), total, rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="index must be one of"):
        interactions_from_values(v, "banzhaf")


def test_interactions_equal_shaps(rng):
    shap = pytest.importorskip("shap")
    d = 5
    B = rng.normal(size=(10, d))
    X = rng.normal(size=(4, d))
    ours = xf.ExactExplainer(game, B)(X, interactions=True)
    theirs = shap.explainers.ExactExplainer(game, B)(X, interactions=True)
    np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.base_values, theirs.base_values, rtol=1e-12)


def test_interaction_arguments(rng):
    B = rng.normal(size=(6, 4))
    X = rng.normal(size=(2, 4))
    f = lambda Z: Z[:, 0] * Z[:, 1] * Z[:, 2] + Z[:, 3]  # noqa: E731
    e = xf.ExactExplainer(f, B)
    st = e(X, interactions=True).values
    for same in (2, "shapley_taylor", np.True_):
        np.testing.assert_array_equal(e(X, interactions=same).values, st)
    for off in (False, 1, None):
        assert e(X, interactions=off).values.shape == (2, 4)
    sii = e(X, interactions="shapley").values
    np.testing.assert_array_equal(sii, e.shap_interaction_values(X))
    np.testing.assert_allclose(sii.sum(axis=2), e.shap_values(X), rtol=1e-10, atol=1e-12)
    assert np.abs(sii - st).max() > 1e-3
    with pytest.raises(ValueError, match="up to order 2"):
        e(X, interactions=3)
    with pytest.raises(ValueError, match="not an interaction index"):
        e(X, interactions="taylor")
    with pytest.raises(TypeError, match="must be a bool, an int"):
        e(X, interactions=1.5)
