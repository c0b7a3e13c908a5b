"""LIME's compiled kernels against their numpy references, scikit-learn and lime itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xai_fast.masking import lime_rows_numba, lime_rows_ref
from xai_fast.sampling import lime_neighbourhood_numba, lime_neighbourhood_ref
from xai_fast.sampling.lime_neighbourhood_ref import BINNED, CATEGORICAL, GAUSSIAN
from xai_fast.solvers import lime_ridge_numba, lime_ridge_ref


def _tables(rng, d=7, V=5):
    kinds = np.array([GAUSSIAN, CATEGORICAL, BINNED] * 3, dtype=np.int8)[:d]
    freq = rng.random((d, V)) + 0.05
    freq[1, V - 1] = 0.0  # a value that is never drawn
    freq /= freq.sum(axis=1, keepdims=True)
    cdf = np.cumsum(freq, axis=1)
    cdf[:, -1] = 1.0
    values = np.tile(np.arange(V, dtype=np.float64), (d, 1))
    values[1] = np.sort(rng.choice(50, V, replace=False)).astype(float)
    lo = np.sort(rng.normal(size=(d, V)), axis=1)
    hi = lo + rng.random((d, V)) + 0.1
    mu = lo + (hi - lo) * rng.random((d, V))
    sd = rng.random((d, V)) + 0.05
    lo[2, 0] = hi[2, 0] = mu[2, 0]  # a zero-width bin
    sd[5, 1] = 1e-11  # a constant bin
    center, scale = rng.normal(size=d), rng.random(d) + 0.5
    return kinds, cdf, values, lo, hi, mu, sd, center, scale, freq


def test_sampler_numba_matches_reference(rng):
    kinds, cdf, values, lo, hi, mu, sd, center, scale, _ = _tables(rng)
    seed = np.uint64(rng.integers(2**63))
    args = (seed, 3000, kinds, cdf, values, lo, hi, mu, sd, center, scale)
    c_ref, inv_ref = lime_neighbourhood_ref.sample_neighbourhood(*args)
    c_nb, inv_nb = lime_neighbourhood_numba.sample_neighbourhood(*args)
    drawn = kinds != GAUSSIAN
    np.testing.assert_array_equal(c_nb[:, drawn], c_ref[:, drawn])
    np.testing.assert_allclose(c_nb, c_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inv_nb, inv_ref, rtol=1e-12, atol=1e-12)
    again = lime_neighbourhood_numba.sample_neighbourhood(*args)[1]
    np.testing.assert_array_equal(again, inv_nb)
    other = lime_neighbourhood_numba.sample_neighbourhood(seed + np.uint64(1), *args[1:])[1]
    assert not np.array_equal(other, inv_nb)


def test_sampler_distribution(rng):
    kinds, cdf, values, lo, hi, mu, sd, center, scale, freq = _tables(rng)
    seed = np.uint64(rng.integers(2**63))
    S = 40000
    codes, inv = lime_neighbourhood_numba.sample_neighbourhood(
        seed, S, kinds, cdf, values, lo, hi, mu, sd, center, scale
    )
    # categorical and binned columns: frequencies within 4 standard errors
    for j in np.nonzero(kinds != GAUSSIAN)[0]:
        counts = np.array([(codes[:, j] == v).sum() for v in values[j]])
        se = np.sqrt(freq[j] * (1 - freq[j]) / S)
        assert np.all(np.abs(counts / S - freq[j]) < 4 * se + 1e-12), j
    # Gaussian columns: mean and standard deviation of z * scale + center
    for j in np.nonzero(kinds == GAUSSIAN)[0]:
        z = (inv[:, j] - center[j]) / scale[j]
        assert abs(z.mean()) < 4 / np.sqrt(S) and abs(z.std() - 1) < 4 / np.sqrt(2 * S)
        assert stats.kstest(codes[:, j], "norm").pvalue > 1e-4
    # binned values lie in their bin and follow the truncated normal
    j = 2
    for b in range(1, values.shape[1]):
        x = inv[codes[:, j] == b, j]
        assert np.all((x >= lo[j, b]) & (x <= hi[j, b]))
        a_, b_ = (lo[j, b] - mu[j, b]) / sd[j, b], (hi[j, b] - mu[j, b]) / sd[j, b]
        ref = stats.truncnorm(a_, b_, loc=mu[j, b], scale=sd[j, b])
        assert stats.kstest(x, ref.cdf).pvalue > 1e-4
    np.testing.assert_array_equal(inv[codes[:, 2] == 0, 2], lo[2, 0])  # zero-width bin
    np.testing.assert_allclose(inv[codes[:, 5] == 1, 5], np.clip(mu[5, 1], lo[5, 1], hi[5, 1]))


def test_normal_quantile_is_accurate(rng):
    from scipy.special import ndtri

    p = np.concatenate([rng.random(2000), 10.0 ** -rng.uniform(1, 300, 200), [0.5, 1 - 2**-53]])
    ours = np.array([lime_neighbourhood_numba.ndtri(x) for x in p])
    np.testing.assert_allclose(ours, ndtri(p), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("around", [False, True])
def test_rows_numba_matches_reference(rng, around):
    kinds = np.array([GAUSSIAN, CATEGORICAL, BINNED, BINNED, GAUSSIAN], dtype=np.int8)
    S1, n, d = 400, 6, kinds.size
    codes = rng.integers(0, 3, size=(S1, d)).astype(float)
    codes[:, kinds == GAUSSIAN] = rng.normal(size=(S1, 2))
    inst = rng.integers(0, 3, size=(n, d)).astype(float)
    z0 = rng.normal(size=(n, d))
    ref = lime_rows_ref.interpretable_rows(codes, inst, z0, kinds, around)
    got = lime_rows_numba.interpretable_rows(codes, inst, z0, kinds, around)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-12, atol=1e-12)
    # oracle: binary columns say "same code as the row", distances to sample 0
    i, s = 3, 17
    assert ref[0][i, s + 1, 2] == float(codes[s, 2] == inst[i, 2])
    np.testing.assert_allclose(ref[1][i, s + 1], np.linalg.norm(ref[0][i, s + 1] - ref[0][i, 0]))


def _problem(rng, n=3, S=1500, d=8, L=2):
    X = (rng.random((n, S, d)) < rng.uniform(0.2, 0.8, d)).astype(float)
    X[:, :, -1] = rng.normal(size=(n, S))  # one continuous column
    X[:, 0, :-1] = 1.0
    w = rng.random((n, S)) + 0.01
    beta = rng.normal(size=(n, d, L)) * (rng.random((n, d, L)) < 0.6)
    Y = np.einsum("nsd,ndl->nsl", X, beta) + 0.3 * rng.normal(size=(n, S, L))
    return X, w, Y


@pytest.mark.parametrize("method,k", [(0, 8), (1, 3), (1, 8), (2, 4), (2, 1)])
def test_ridge_kernels_match_reference(rng, method, k):
    X, w, Y = _problem(rng)
    mr = lime_ridge_ref.weighted_moments(X, w, Y)
    mn = lime_ridge_numba.weighted_moments(X, w, Y)
    for a, b in zip(mn, mr, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    x0 = X[:, 0]
    used_r = lime_ridge_ref.select_features(mr[1], mr[3], mr[4], x0, method, k)
    used_n = lime_ridge_numba.select_features(mr[1], mr[3], mr[4], x0, method, k)
    np.testing.assert_array_equal(used_n, used_r)
    fr = lime_ridge_ref.ridge_fit(mr[1], mr[3], mr[4], mr[0], mr[2], x0, used_r, 1.0)
    fn = lime_ridge_numba.ridge_fit(mr[1], mr[3], mr[4], mr[0], mr[2], x0, used_r, 1.0)
    for a, b in zip(fn, fr, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("alpha", [1.0, 0.01])
def test_ridge_fit_equals_sklearn(rng, alpha):
    from sklearn.linear_model import Ridge

    X, w, Y = _problem(rng)
    xbar, G, ybar, c, syy = lime_ridge_ref.weighted_moments(X, w, Y)
    used = lime_ridge_ref.select_features(G, c, syy, X[:, 0], lime_ridge_ref.FORWARD, 5)
    coef, b0, score, pred = lime_ridge_numba.ridge_fit(G, c, syy, xbar, ybar, X[:, 0], used, alpha)
    for i in range(X.shape[0]):
        for t in range(Y.shape[2]):
            u = used[i, t][used[i, t] >= 0]
            m = Ridge(alpha=alpha).fit(X[i][:, u], Y[i, :, t], sample_weight=w[i])
            np.testing.assert_allclose(coef[i, t, u], m.coef_, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(b0[i, t], m.intercept_, rtol=1e-8, atol=1e-10)
            r2 = m.score(X[i][:, u], Y[i, :, t], sample_weight=w[i])
            np.testing.assert_allclose(score[i, t], r2, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(pred[i, t], m.predict(X[i][:1, u])[0], rtol=1e-8)
            assert not np.any(coef[i, t, np.setdiff1d(np.arange(X.shape[2]), u)])


@pytest.mark.parametrize("method,name,k", [(1, "forward_selection", 3), (2, "highest_weights", 4)])
def test_selection_equals_lime(rng, method, name, k):
    from lime.lime_base import LimeBase

    X, w, Y = _problem(rng)
    xbar, G, ybar, c, syy = lime_ridge_numba.weighted_moments(X, w, Y)
    used = lime_ridge_numba.select_features(G, c, syy, X[:, 0].copy(), method, k)
    base = LimeBase(kernel_fn=lambda x: x)
    for i in range(X.shape[0]):
        for t in range(Y.shape[2]):
            theirs = base.feature_selection(X[i], Y[i, :, t], w[i], k, name)
            assert list(used[i, t][used[i, t] >= 0]) == list(theirs)
