"""LimeTabularExplainer's lime forms, side by side with lime: random_state=None seeded from
numpy's global generator, training_data_stats with training_labels, lime's bookkeeping
attributes, and sparse training data and rows."""

# ruff: noqa: NPY002  (lime seeds from numpy's legacy global generator: tested on purpose)
from __future__ import annotations

import numpy as np
import pytest
from lime_compat_cases import data as _data
from lime_compat_cases import keep_global_state  # noqa: F401  (autouse fixture)
from lime_compat_cases import model as _model

import xai_fast as xf

lime_tabular = pytest.importorskip("lime.lime_tabular")
lime_disc = pytest.importorskip("lime.discretize")
sparse = pytest.importorskip("scipy.sparse")


def _dense(exp, label, d):
    w = np.zeros(d)
    for j, v in exp.local_exp[label]:
        w[j] = v
    return w


# ---------------------------------------------------------------- seeds
@pytest.mark.parametrize("discretize", [True, False])
def test_random_state_none_follows_numpy_global_seed(discretize, rng):
    X, y = _data(rng)
    f = _model(X, y)
    ex = xf.LimeTabularExplainer(X, discretize_continuous=discretize)
    s = int(rng.integers(1e6))
    np.random.seed(s)
    a = ex.explain_instance(X[0], f, num_samples=300).as_map()
    after = np.random.get_state()[1].copy()
    np.random.seed(s)
    b = ex.explain_instance(X[0], f, num_samples=300).as_map()
    assert a == b
    c = ex.explain_instance(X[0], f, num_samples=300).as_map()  # the global state moved on
    assert a != c
    np.random.seed(s)
    np.random.randint(0, 2**63, dtype=np.int64)  # one call reads exactly one draw
    np.testing.assert_array_equal(np.random.get_state()[1], after)


def test_explicit_random_state_ignores_global_state(rng):
    X, y = _data(rng)
    f = _model(X, y)
    ex = xf.LimeTabularExplainer(X, random_state=int(rng.integers(1e9)))
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    a = ex.explain_instance(X[2], f, num_samples=300).as_map()
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # nothing read or written
    np.random.seed(1)
    assert ex.explain_instance(X[2], f, num_samples=300).as_map() == a


# ---------------------------------------------------------------- bookkeeping
def test_bookkeeping_attributes_match_lime(rng):
    n = 200
    X = np.column_stack(
        [rng.integers(0, 3, n), rng.normal(size=n), rng.integers(0, 5, n), rng.normal(size=n)]
    ).astype(float)
    for kw in (
        dict(categorical_features=[0, 2]),
        dict(categorical_features=[2, 0], discretize_continuous=False),
        dict(categorical_features=[0], discretizer="decile"),
        dict(),
    ):
        ours = xf.LimeTabularExplainer(X, feature_names=np.array(list("abcd")), **kw)
        ref = lime_tabular.LimeTabularExplainer(X, feature_names=np.array(list("abcd")), **kw)
        assert ours.feature_names == ref.feature_names == list("abcd")
        assert sorted(ours.categorical_features) == sorted(ref.categorical_features)
        assert sorted(ours.feature_values) == sorted(ref.feature_values)
        for j in ref.feature_values:
            assert ours.feature_values[j] == list(ref.feature_values[j])
            np.testing.assert_allclose(
                ours.feature_frequencies[j], ref.feature_frequencies[j], rtol=1e-15
            )


# ---------------------------------------------------------------- training_data_stats
def _stats(X, names, shuffle_rng=None):
    """lime's training_data_stats from lime's quartile discretizer (values in any order)."""
    disc = lime_disc.QuartileDiscretizer(X, [], names)
    coded = disc.discretize(X)
    values, freqs = {}, {}
    for j in range(X.shape[1]):
        v, c = np.unique(coded[:, j], return_counts=True)
        order = np.arange(v.size) if shuffle_rng is None else shuffle_rng.permutation(v.size)
        values[j], freqs[j] = v[order].tolist(), c[order].tolist()
    bins = disc.bins(X, None)
    return {
        "means": disc.means, "stds": disc.stds, "mins": disc.mins, "maxs": disc.maxs,
        "bins": {j: list(b) for j, b in enumerate(bins)},
        "feature_values": values, "feature_frequencies": freqs,
    }  # fmt: skip


def test_stats_give_the_data_explanation(rng):
    X, y = _data(rng)
    f = _model(X, y)
    names = list("abcd")
    seed = int(rng.integers(1e9))
    from_data = xf.LimeTabularExplainer(X, feature_names=names, random_state=seed)
    stats = _stats(X, names, shuffle_rng=rng)
    labels = ["no", "yes", "maybe"]  # lime ignores training_labels here, whatever their length
    from_stats = xf.LimeTabularExplainer(
        np.zeros((2, 4)), feature_names=names, random_state=seed,
        training_data_stats=stats, training_labels=labels,
    )  # fmt: skip
    for i in range(3):
        a = from_data.explain_instance(X[i], f, num_samples=500)
        b = from_stats.explain_instance(X[i], f, num_samples=500)
        assert [n for n, _ in a.as_list()] == [n for n, _ in b.as_list()]
        np.testing.assert_allclose(
            [w for _, w in a.as_list()], [w for _, w in b.as_list()], rtol=1e-9, atol=1e-12
        )


def test_stats_errors(rng):
    X, _ = _data(rng)
    stats = _stats(X, list("abcd"))
    del stats["feature_frequencies"]
    with pytest.raises(ValueError, match="missing keys"):
        xf.LimeTabularExplainer(X, training_data_stats=stats)
    stats = _stats(X, list("abcd"))
    stats["means"] = {0: [0.0]}
    with pytest.raises(ValueError, match=r"training_data_stats\['means'\]"):
        xf.LimeTabularExplainer(X, training_data_stats=stats)
    with pytest.raises(ValueError, match="one label per row"):
        xf.LimeTabularExplainer(X, training_labels=[0, 1], discretizer="entropy")


# ---------------------------------------------------------------- sparse
def _halves(score):
    """Labels 1 for the upper half of ``score`` (both classes present): ``(n,)``."""
    return (np.argsort(np.argsort(score)) >= score.size // 2).astype(int)


def _sparse_data(rng, n=300, d=8):
    """Sparse counts times column scales of 0.3-0.5 (lime's sparse surrogate inputs are the
    values times the scale, so a scale far from 1 tells them from the dense ones)."""
    counts = rng.poisson(1.0, size=(n, d)) * (rng.random((n, d)) < 0.6)
    dense = counts * rng.uniform(0.3, 0.5, d)
    y = _halves(dense[:, 0] + dense[:, 1] - dense[:, 2] + 1e-3 * rng.normal(size=n))
    return sparse.csr_matrix(dense), y


def test_sparse_rows_perturbed_where_nonzero(rng):
    X, y = _sparse_data(rng)
    f = _model(X, y)
    ex = xf.LimeTabularExplainer(X, discretize_continuous=True, random_state=3)
    assert ex.discretizer is None  # lime: sparse data is never discretized
    seen = []

    def g(A):
        seen.append(A)
        return f(A)

    i = int(np.argmax(X.getnnz(axis=1) < X.shape[1]))
    row = X[i]
    exp = ex.explain_instance(row, g, num_samples=400, num_features=8)
    samples = seen[-1]
    assert sparse.issparse(samples) and samples.shape == (399, 8)
    zero = row.toarray()[0] == 0
    assert samples[:, zero].nnz == 0
    assert (samples.toarray()[:, ~zero] != row.toarray()[0, ~zero]).all()
    assert len(exp.as_list()) == 8
    # a row without zeros sees the dense row's samples
    full = sparse.csr_matrix(np.abs(rng.normal(size=(1, 8))) + 0.5)
    ex.explain_instance(full, g, num_samples=400)
    ex.explain_instance(full.toarray()[0], g, num_samples=400)
    np.testing.assert_allclose(seen[-3].toarray(), seen[-1], rtol=0, atol=0)


def test_sparse_weights_match_lime(rng):
    X, y = _sparse_data(rng)
    f = _model(X, y)
    kw = dict(feature_selection="none")
    ours = xf.LimeTabularExplainer(X, random_state=int(rng.integers(1e9)), **kw)
    ref = lime_tabular.LimeTabularExplainer(X, random_state=int(rng.integers(1e9)), **kw)
    # rows with 2+ non-zeros (on an all-zero row every sample is the row: lime's R^2 is 1, ours 0)
    rows = rng.choice(np.flatnonzero(X.getnnz(axis=1) >= 2), 3, replace=False)
    for i in rows:
        a = ours.explain_instance(X[i], f, num_samples=20000, num_features=8)
        b = ref.explain_instance(X[i], f, num_samples=20000, num_features=8)
        wa, wb = _dense(a, 1, 8), _dense(b, 1, 8)
        np.testing.assert_array_equal(wa == 0, wb == 0)  # the row's zero columns
        assert np.abs(wa - wb).max() <= 0.06 * np.abs(wb).max() + 1e-3  # noise: <= 3%
        assert abs(a.intercept[1] - b.intercept[1]) < 0.05
        assert abs(a.score - b.score) < 0.05


def test_sparse_around_instance_and_categorical(rng):
    X, y = _sparse_data(rng)
    f = _model(X, y)
    seen = []

    def g(A):
        seen.append(A.toarray())
        return f(A)

    dense = X.toarray()
    x = np.array([1.0, 2.0, 1.0, 0.0, 0.0, 3.0, 1.0, 0.0])
    row = sparse.csr_matrix(x[None, :])
    std = dense.std(axis=0)
    S = 20000
    kw = dict(random_state=1, batch_size=S)  # all samples in one model call
    around = xf.LimeTabularExplainer(X, sample_around_instance=True, **kw)
    around.explain_instance(row, g, num_samples=S)
    assert seen[-1].shape == (S - 1, 8)
    nz = x != 0
    assert (seen[-1][:, ~nz] == 0).all()
    np.testing.assert_allclose(
        seen[-1][:, nz].mean(axis=0), x[nz], atol=5 * std[nz].max() / np.sqrt(S)
    )
    np.testing.assert_allclose(seen[-1][:, nz].std(axis=0), std[nz], rtol=0.03)
    # a categorical column is drawn from its frequencies even where the row is zero
    cat = xf.LimeTabularExplainer(X, categorical_features=[3], **kw)
    cat.explain_instance(row, g, num_samples=S)
    values, counts = np.unique(dense[:, 3], return_counts=True)
    drawn = np.array([(seen[-1][:, 3] == v).mean() for v in values])
    np.testing.assert_allclose(drawn, counts / counts.sum(), atol=0.02)
    assert cat.feature_values[3] == values.tolist()
