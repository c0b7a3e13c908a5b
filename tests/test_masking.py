import numpy as np
import pytest

from xai_fast.masking import fill_numba, fill_ref, varying_features

KERNELS = {"numpy": fill_ref.fill_masked_rows, "numba": fill_numba.fill_masked_rows}


def naive_rows(X, B, Z, var_idx, start, P):
    """Row-by-row construction, the obvious way."""
    S = Z.shape[0]
    rows = []
    for p in range(start, start + P):
        i, s = divmod(p, S)
        for b in B:
            r = b.copy()
            for j, c in enumerate(var_idx[i]):
                if Z[s, j]:
                    r[c] = X[i, c]
            rows.append(r)
    return np.array(rows)


@pytest.mark.parametrize("backend", list(KERNELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_matches_naive_construction(rng, backend, dtype):
    n, d, N, S, M = 4, 9, 5, 13, 6
    X = rng.normal(size=(n, d)).astype(dtype)
    B = rng.normal(size=(N, d)).astype(dtype)
    Z = rng.random((S, M)) < 0.5
    var_idx = np.sort(np.array([rng.choice(d, M, replace=False) for _ in range(n)]), axis=1)
    start, P = 7, 20
    out = np.full((P * N, d), np.nan, dtype=dtype)
    KERNELS[backend](X, B, Z, var_idx, start, out)
    np.testing.assert_array_equal(out, naive_rows(X, B, Z, var_idx, start, P))


def test_backends_agree_on_a_large_chunk(rng):
    n, d, N, S, M = 3, 40, 17, 200, 40
    X = rng.normal(size=(n, d)).astype(np.float32)
    B = rng.normal(size=(N, d)).astype(np.float32)
    Z = rng.random((S, M)) < 0.5
    var_idx = np.tile(np.arange(d), (n, 1))
    a = np.empty((n * S * N, d), np.float32)
    b = np.empty_like(a)
    fill_ref.fill_masked_rows(X, B, Z, var_idx, 0, a)
    fill_numba.fill_masked_rows(X, B, Z, var_idx, 0, b)
    np.testing.assert_array_equal(a, b)


def test_varying_features_uses_shap_closeness():
    B = np.array([[1.0, 2.0, np.nan, 5.0], [1.0, 3.0, np.nan, 5.0]])
    X = np.array([[1.0 + 1e-9, 2.0, np.nan, 5.1], [1.1, 2.0, 0.0, 5.0]])
    expected = np.array([[False, True, False, True], [True, True, True, False]])
    np.testing.assert_array_equal(varying_features(X, B), expected)


def test_varying_features_equals_isclose_on_finite_and_nonfinite_data(rng):
    """The finite-data shortcut and the general path both equal numpy.isclose's answer."""
    B = rng.normal(size=(6, 8))
    X = rng.normal(size=(9, 8))
    X[rng.random(X.shape) < 0.3] = B[0, 0]  # equal to one background row only
    B[:, 1] = X[0, 1] * (1 + 1e-6 * rng.normal(size=6))  # within rtol of every row
    B[:, 2] = X[1, 2] + 5e-9  # within atol
    for Xc, Bc in [(X, B), (np.where(X > 1.5, np.inf, X), B), (X.astype(np.float32), B)]:
        want = ~np.isclose(Xc[:, None], Bc[None], rtol=1e-5, atol=1e-8, equal_nan=True).all(1)
        np.testing.assert_array_equal(varying_features(Xc, Bc), want)
    ints = rng.integers(0, 3, size=(5, 4)).astype(np.uint8)
    want = ~np.isclose(ints[:, None], ints[None, :2], equal_nan=True).all(1)
    np.testing.assert_array_equal(varying_features(ints, ints[:2]), want)
