"""lime's ``"lasso_path"`` selection: numba kernel vs sklearn reference vs lime itself."""

import numpy as np
import pytest

from xai_fast.solvers import lasso_path_numba, lasso_path_ref

SUPPORTS = {
    "numpy": lasso_path_ref.lasso_path_support,
    "numba": lasso_path_numba.lasso_path_support,
}


def weighted_problem(X, y, w):
    """lime's centred, sqrt-weighted data and labels, and their Gram matrix and correlations."""
    Xw = (X - np.average(X, axis=0, weights=w)) * np.sqrt(w)[:, None]
    yw = (y - np.average(y, weights=w)) * np.sqrt(w)
    return Xw.T @ Xw, Xw.T @ yw


def random_problem(rng, n, d, kind="gauss"):
    """Data, labels and positive weights of one regression with a sparse true coefficient."""
    if kind == "gauss":
        X = rng.normal(size=(n, d))
        w = rng.random(n) + 0.05
    else:  # lime's tabular neighbourhood: 1 = same bin as the instance, exponential kernel
        X = (rng.random((n, d)) < 0.5).astype(np.float64)
        X[0] = 1.0
        dist = np.sqrt(((X - 1.0) ** 2).sum(axis=1))
        w = np.exp(-(dist**2) / (0.75 * np.sqrt(d)) ** 2)
    beta = np.where(rng.random(d) < 0.3, rng.normal(size=d), 0.0)
    y = X @ beta + rng.choice([0.01, 0.3, 3.0]) * rng.normal(size=n)
    if kind == "lime":
        y = 1.0 / (1.0 + np.exp(-y))  # probabilities, as lime explains
    return X, y, w


def random_batch(rng, B, n, d, kind="gauss"):
    """Stacked ``G`` (B, d, d) and ``c`` (B, d) of ``B`` independent problems."""
    G, c = zip(*(weighted_problem(*random_problem(rng, n, d, kind)) for _ in range(B)), strict=True)
    return np.array(G), np.array(c)


def num_features_grid(d):
    return sorted({1, 2, d // 2, d - 1, d, d + 3} - {0})


@pytest.mark.parametrize("kind", ["gauss", "lime"])
@pytest.mark.parametrize("d", [3, 8, 12, 30])
def test_numba_matches_reference(rng, d, kind):
    n = 300
    G, c = random_batch(rng, 8, n, d, kind)
    for n_samples in (1, n):
        for k in num_features_grid(d):
            expected = lasso_path_ref.lasso_path_support(G, c, k, n_samples=n_samples)
            got = lasso_path_numba.lasso_path_support(G, c, k, n_samples=n_samples)
            assert got.dtype == np.bool_ and got.shape == (8, d)
            np.testing.assert_array_equal(got, expected, err_msg=f"k={k}, n_samples={n_samples}")


def test_numba_matches_reference_wide(rng):
    G, c = random_batch(rng, 2, 1000, 200)
    for k in (1, 10, 100, 199, 200):
        np.testing.assert_array_equal(
            lasso_path_numba.lasso_path_support(G, c, k),
            lasso_path_ref.lasso_path_support(G, c, k),
            err_msg=f"k={k}",
        )


def test_numba_matches_reference_nearly_collinear(rng):
    n, d = 300, 12
    Z = rng.normal(size=(n, 3))
    X = Z @ rng.normal(size=(3, d)) + 0.05 * rng.normal(size=(n, d))  # rank 3 plus a little
    w = rng.random(n) + 0.05
    G, c = weighted_problem(X, X[:, :4].sum(axis=1) + 0.1 * rng.normal(size=n), w)
    for k in num_features_grid(d):
        np.testing.assert_array_equal(
            lasso_path_numba.lasso_path_support(G[None], c[None], k),
            lasso_path_ref.lasso_path_support(G[None], c[None], k),
            err_msg=f"k={k}",
        )


def test_numba_matches_reference_along_drops(rng):
    # Few samples and a factor structure: coefficients often cross zero, features leave the path
    # and come back, possibly with the other sign.
    n, d, B = 40, 30, 20
    G, c = [], []
    for _ in range(B):
        X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, d)) + 0.3 * rng.normal(size=(n, d))
        y = X @ np.where(rng.random(d) < 0.5, rng.normal(size=d), 0.0) + rng.normal(size=n)
        Gb, cb = weighted_problem(X, y, rng.random(n) + 0.05)
        G.append(Gb)
        c.append(cb)
    G, c = np.array(G), np.array(c)
    for k in range(1, d + 2):
        np.testing.assert_array_equal(
            lasso_path_numba.lasso_path_support(G, c, k),
            lasso_path_ref.lasso_path_support(G, c, k),
            err_msg=f"k={k}",
        )


@pytest.mark.parametrize("scale", [1.0, 1e-3])
@pytest.mark.parametrize("kind", ["gauss", "lime"])
@pytest.mark.parametrize("d", [3, 8, 12, 30])
def test_reference_matches_lime(rng, d, kind, scale):
    from lime.lime_base import LimeBase

    base = LimeBase(kernel_fn=lambda dist: dist)
    n = 300
    for _ in range(3):
        X, y, w = random_problem(rng, n, d, kind)
        X, y = X * scale, y * scale  # small correlations reach sklearn's stopping tolerance
        G, c = weighted_problem(X, y, w)
        for k in num_features_grid(d):
            expected = np.zeros(d, dtype=bool)
            expected[list(base.feature_selection(X, y, w, k, "lasso_path"))] = True
            for name, support in SUPPORTS.items():
                got = support(G[None], c[None], k, n_samples=n)[0]
                np.testing.assert_array_equal(got, expected, err_msg=f"{name}, k={k}")


@pytest.mark.parametrize("backend", list(SUPPORTS))
def test_constant_labels_keep_every_feature(rng, backend):
    from lime.lime_base import LimeBase

    n, d = 300, 6
    X, _, w = random_problem(rng, n, d)
    y = np.full(n, 0.7)
    G, c = weighted_problem(X, y, w)
    lime_kept = LimeBase(kernel_fn=lambda dist: dist).feature_selection(X, y, w, 2, "lasso_path")
    assert list(lime_kept) == list(range(d))  # one-column path: lime's loop never runs
    for k in (1, 2, d + 1):
        assert SUPPORTS[backend](G[None], c[None], k, n_samples=n).all()
    assert SUPPORTS[backend](G[None], np.zeros((1, d)), 1).all()


@pytest.mark.parametrize("backend", list(SUPPORTS))
def test_more_features_than_columns_keeps_the_last_column(rng, backend):
    n, d = 300, 8
    G, c = random_batch(rng, 4, n, d)  # noisy full-rank problems: the path ends on every feature
    for k in (d, d + 1, 10 * d):
        assert SUPPORTS[backend](G, c, k).all()


@pytest.mark.parametrize("backend", list(SUPPORTS))
def test_no_qualifying_column_keeps_column_one(rng, backend):
    n, d = 300, 8
    G, c = random_batch(rng, 4, n, d)
    kept = SUPPORTS[backend](G, c, 0)
    # Column 1 holds only the feature most correlated with the labels.
    expected = np.zeros((4, d), dtype=bool)
    expected[np.arange(4), np.abs(c).argmax(axis=1)] = True
    np.testing.assert_array_equal(kept, expected)


def test_stopping_tolerance_follows_n_samples(rng):
    n, d = 300, 6
    G, c = random_batch(rng, 3, n, d)
    # max|c| / n_samples at or below float32 eps: the path is a single column.
    huge = int(np.abs(c).max() / np.finfo(np.float32).eps) + 1
    for support in SUPPORTS.values():
        assert support(G, c, 2, n_samples=huge).all()
        assert support(G, c, 2, n_samples=1).sum(axis=1).max() <= 2


@pytest.mark.parametrize("twin", ["duplicate", "negated", "sum"])
def test_collinear_columns_give_a_valid_support(rng, twin):
    # sklearn's own path here depends on rounding (which twin enters first, whether the second
    # passes the absolute pivot test), so only validity is checked.
    n, d = 300, 10
    G, c = [], []
    for _ in range(6):
        X, y, w = random_problem(rng, n, d)
        if twin == "duplicate":
            X[:, 3] = X[:, 1]
        elif twin == "negated":
            X[:, 3] = -2.0 * X[:, 1]
        else:
            X[:, 3] = X[:, 1] + X[:, 2]
        y = y + X[:, 1]  # make the collinear group matter
        Gb, cb = weighted_problem(X, y, w)
        G.append(Gb)
        c.append(cb)
    G, c = np.array(G), np.array(c)
    for k in (1, 3, d - 1, d):
        kept = lasso_path_numba.lasso_path_support(G, c, k)
        assert kept.shape == (6, d) and kept.dtype == np.bool_
        sizes = kept.sum(axis=1)
        assert (sizes >= 1).all() and (sizes <= k).all()


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        lasso_path_numba.lasso_path_support(np.zeros((2, 3, 3)), np.zeros((2, 4)), 1)
    with pytest.raises(ValueError, match="n_samples"):
        lasso_path_numba.lasso_path_support(np.zeros((1, 3, 3)), np.zeros((1, 3)), 1, n_samples=0)
