"""The exact fit of games whose odd part has terms of at most three players
(``sampler="auto"``'s check), against brute-force Shapley values."""

import itertools

import numpy as np
import pytest
from oracles import brute_force_shapley

from xai_fast.backends import get_backend
from xai_fast.sampling.leverage_plan import plan_leverage
from xai_fast.solvers.odd_cubic import exact_odd_cubic, odd_cubic_terms


def _pairs(M, n_pairs, rng):
    """``n_pairs`` distinct complementary pairs in adjacent rows (neither empty nor full)."""
    codes = rng.choice(np.arange(1, 2 ** (M - 1)), n_pairs, replace=False)  # player M-1 absent
    Z = ((codes[:, None] >> np.arange(M)) & 1).astype(bool)
    return np.stack([Z, ~Z], axis=1).reshape(-1, M)


def _game(M, sizes, rng, n_terms=12):
    """Main effects and products of players' indicators (sizes from ``sizes``), and even terms
    in the signs; columns: one game per entry of ``sizes``. ``v(Z)`` is ``(S, R)``."""
    games = []
    for allowed in sizes:
        a = rng.normal(size=M)
        prods = [rng.choice(M, int(rng.choice(allowed)), replace=False) for _ in range(n_terms)]
        evens = [
            rng.choice(M, int(rng.choice([2, 4, 6][: M // 2])), replace=False) for _ in range(4)
        ]
        c, e = rng.normal(size=n_terms), rng.normal(size=4)
        games.append((a, prods, evens, c, e))

    def v(Z):
        Zf = np.asarray(Z, dtype=float)
        s = 2.0 * Zf - 1.0
        cols = []
        for a, prods, evens, c, e in games:
            col = Zf @ a
            col += sum(ci * Zf[:, t].prod(axis=1) for ci, t in zip(c, prods, strict=True))
            col += sum(ei * s[:, t].prod(axis=1) for ei, t in zip(e, evens, strict=True))
            cols.append(col)
        return np.stack(cols, axis=1)

    return v


@pytest.mark.parametrize("M", [6, 9])
def test_exact_where_the_odd_part_is_cubic_and_only_there(M, rng):
    # products of up to four indicators have odd parts of one and three players; five do not
    v = _game(M, [(1, 2, 3), (3, 4), (5,), (2, 5)], rng)
    Z = _pairs(M, min(2 ** (M - 1) - 1, odd_cubic_terms(M) + 20), rng)
    w = rng.uniform(0.5, 2.0, size=len(Z))
    empty, full = v(np.zeros((1, M), bool))[0], v(np.ones((1, M), bool))[0]
    phi, exact = exact_odd_cubic(Z, w, v(Z) - empty, full - empty)
    truth = brute_force_shapley(lambda X: v(X > 0.5), np.ones(M), np.zeros((1, M)))
    assert exact.tolist() == [True, True, False, False]
    np.testing.assert_allclose(phi[:, :2], truth[:, :2], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(phi.sum(axis=0), full - empty, rtol=1e-12, atol=1e-12)


def test_on_the_leverage_design_of_the_explainer(rng):
    M = 10
    plan = plan_leverage(M, 600)
    Z, w, _ = get_backend("numpy").leverage_design(
        M, np.uint64(rng.integers(2**31)), plan.sizes, plan.pairs, plan.enumerated, 16
    )
    v = _game(M, [(1, 3, 4), (5, 6)], rng, n_terms=20)
    empty, full = v(np.zeros((1, M), bool))[0], v(np.ones((1, M), bool))[0]
    phi, exact = exact_odd_cubic(Z, w, v(Z) - empty, full - empty)
    truth = brute_force_shapley(lambda X: v(X > 0.5), np.ones(M), np.zeros((1, M)))
    assert exact.tolist() == [True, False]
    np.testing.assert_allclose(phi[:, 0], truth[:, 0], rtol=1e-9, atol=1e-9)


def test_too_few_pairs_or_repeated_ones_tell_nothing(rng):
    M = 6
    v = _game(M, [(1, 2)], rng)
    few = _pairs(M, odd_cubic_terms(M) - 1, rng)  # every odd part reproduced: no evidence
    _, exact = exact_odd_cubic(few, np.ones(len(few)), v(few), np.ones(1))
    assert not exact.any()
    same = np.tile(_pairs(M, 10, rng), (5, 1))  # 50 pairs, 10 distinct: terms not told apart
    _, exact = exact_odd_cubic(same, np.ones(len(same)), v(same), np.ones(1))
    assert not exact.any()


def test_unpaired_rows_are_refused():
    Z = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 0], [0, 1, 1]], dtype=bool)
    with pytest.raises(ValueError, match="complementary pairs"):
        exact_odd_cubic(Z, np.ones(4), np.zeros((4, 1)), np.zeros(1))


def test_term_count():
    for M in range(1, 12):
        expected = sum(1 for k in (1, 3) for _ in itertools.combinations(range(M), k))
        assert odd_cubic_terms(M) == expected


def test_auto_is_exact_on_boosted_trees_of_depth_four(rng):
    # a leaf of a depth-4 tree is a product of at most four features' indicators in the
    # coalition, so the game's odd part has one- and three-player terms only
    from sklearn.datasets import make_regression
    from sklearn.ensemble import GradientBoostingRegressor

    import xai_fast as xf

    seed = int(rng.integers(2**31))
    X, y = make_regression(n_samples=300, n_features=13, noise=1.0, random_state=seed)
    model = GradientBoostingRegressor(n_estimators=30, max_depth=4, random_state=seed).fit(X, y)
    B, rows = X[:4], X[-3:]
    exact = xf.ExactExplainer(model.predict, B).shap_values(rows)
    auto = xf.KernelExplainer(model.predict, B, seed=seed, sampler="auto")
    out = auto(rows, nsamples=1500, error_bars=True, silent=True)
    np.testing.assert_allclose(out.values, exact, rtol=1e-9, atol=1e-9 * np.abs(exact).max())
    assert np.all(out.error_std == 0)
