"""xai_fast.testing: the games are exact, the assertions catch a 1% error, strategies work."""

import numpy as np
import pytest
from hypothesis import given
from oracles import brute_force_shapley

from xai_fast.testing import (
    assert_dummy,
    assert_efficiency,
    assert_linearity,
    assert_symmetry,
    count_host_syncs,
    dummy_game,
    linear_game,
    pairwise_game,
    symmetric_game,
)
from xai_fast.testing import strategies as xst

MAKERS = [linear_game, pairwise_game, dummy_game, symmetric_game]


@pytest.mark.parametrize("make", MAKERS)
def test_closed_forms_equal_brute_force(rng, make):
    game = make(6, int(rng.integers(2**31)), n_background=7)
    X = game.rows(3, seed=int(rng.integers(2**31)))
    exact = np.stack([brute_force_shapley(game.model, x, game.background)[:, 0] for x in X])
    np.testing.assert_allclose(game.shapley_values(X), exact, rtol=1e-10, atol=1e-12)


def test_games_have_their_structure(rng):
    g = dummy_game(9, int(rng.integers(2**31)))
    X = g.rows(4)
    Xc = X.copy()
    Xc[:, list(g.dummy_features)] += 10.0
    np.testing.assert_allclose(g.model(Xc), g.model(X), rtol=1e-12)
    s = symmetric_game(6, int(rng.integers(2**31)))
    X = s.rows(4)
    for i, j in s.symmetric_pairs:
        Xs = X.copy()
        Xs[:, [i, j]] = rng.normal(size=(4, 2))
        swapped = Xs.copy()
        swapped[:, [i, j]] = Xs[:, [j, i]]
        np.testing.assert_allclose(s.model(swapped), s.model(Xs), rtol=1e-12)


def exact_case(rng):
    game = pairwise_game(6, int(rng.integers(2**31)))
    X = game.rows(5, seed=1)
    return game, X, game.shapley_values(X)


def test_assert_efficiency_catches_one_percent(rng):
    game, X, phi = exact_case(rng)
    base = game.model(game.background).mean()
    assert_efficiency(phi, base, game.model(X))
    bad = phi.copy()
    bad[2] *= 1.01
    with pytest.raises(AssertionError, match="efficiency.*row 2"):
        assert_efficiency(bad, base, game.model(X))


def test_assert_symmetry_and_dummy_catch_one_percent(rng):
    game = symmetric_game(6, int(rng.integers(2**31)))
    phi = game.shapley_values(game.rows(4))
    assert_symmetry(phi, game.symmetric_pairs)
    bad = phi.copy()
    bad[1, 0] += 0.01 * np.abs(phi).max()
    with pytest.raises(AssertionError, match="symmetry of features 0 and 1.*row 1"):
        assert_symmetry(bad, game.symmetric_pairs)
    game = dummy_game(6, int(rng.integers(2**31)))
    phi = game.shapley_values(game.rows(4))
    assert_dummy(phi, game.dummy_features)
    bad = phi.copy()
    bad[3, game.dummy_features[0]] = 0.01 * np.abs(phi).max()
    with pytest.raises(AssertionError, match=f"row 3 feature {game.dummy_features[0]}"):
        assert_dummy(bad, game.dummy_features)


def test_assert_linearity_catches_a_nonlinear_explainer(rng):
    ga, gb = linear_game(5, 1), pairwise_game(5, 2)
    B, X = ga.background, ga.rows(3)

    def exact(f, background, X):  # exact Shapley values by enumeration: linear in f
        return np.stack([brute_force_shapley(f, x, background)[:, 0] for x in X])

    assert_linearity(exact, ga.model, gb.model, B, X, weights=(2.0, -0.5))

    def skewed(f, background, X):  # 1% too large whenever the game is the combination
        v = exact(f, background, X)
        is_a = np.allclose(f(background), ga.model(background))
        is_b = np.allclose(f(background), gb.model(background))
        return v if is_a or is_b else 1.01 * v

    with pytest.raises(AssertionError, match="linearity"):
        assert_linearity(skewed, ga.model, gb.model, B, X, weights=(2.0, -0.5))


def test_explanation_objects_are_accepted(rng):
    import xai_fast as xf

    game = pairwise_game(5, int(rng.integers(2**31)))
    X = game.rows(3)
    exp = xf.ExactExplainer(game.model, game.background)(X)
    assert_efficiency(exp, exp.base_values, game.model(X))


@given(game=xst.games(max_features=6, max_background=8))
def test_strategy_games_are_consistent(game):
    X = game.rows(2)
    phi = game.shapley_values(X)
    assert phi.shape == (2, game.n_features)
    assert_efficiency(phi, game.model(game.background).mean(), game.model(X), atol=1e-9)
    assert_dummy(phi, game.dummy_features)
    assert_symmetry(phi, game.symmetric_pairs)


def test_count_host_syncs_needs_cuda():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        assert count_host_syncs(lambda: torch.ones(3, device="cuda").sum().item()) >= 1
    else:
        with pytest.raises(RuntimeError, match="needs a CUDA device"):
            count_host_syncs(lambda: None)
