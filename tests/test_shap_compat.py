"""shap's call forms of KernelExplainer and ExactExplainer, checked against shap side by side."""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import pytest

import xai_fast as xf

shap = pytest.importorskip("shap")


def _linear(rng, d=5, k=None):
    a = rng.normal(size=(d,) if k is None else (d, k))
    return (lambda Z: np.asarray(Z, dtype=float) @ a), rng.normal(size=(8, d))


def _proba(Z):
    s = np.asarray(Z, dtype=float).sum(1)
    p = 1 / (1 + np.exp(-s))
    return np.column_stack([1 - p, p])


# ---------------------------------------------------------------- KernelExplainer arguments
def test_positional_order_is_shaps(rng):
    B = rng.normal(size=(6, 4))
    names = list("abcd")
    ours = xf.KernelExplainer(_proba, B, names, "logit", seed=0)
    ref = shap.KernelExplainer(_proba, B, names, "logit")
    assert ours.feature_names == names and ours.link == "logit"
    np.testing.assert_allclose(ours.expected_value, ref.expected_value, rtol=1e-12)
    X = rng.normal(size=(3, 4))
    np.testing.assert_allclose(
        ours.shap_values(X, l1_reg=False, silent=True),
        ref.shap_values(X, l1_reg=False, silent=True),
        rtol=1e-7,
        atol=1e-10,
    )


@pytest.mark.parametrize("kw", [{"nsamples": 10}, {"l1_reg": "rank(3)"}, {"random_state": 3}])
def test_keywords_shap_ignores_warn_and_change_nothing(rng, kw):
    f, B = _linear(rng, d=12)
    X = rng.normal(size=(2, 12))
    plain = xf.KernelExplainer(f, B, seed=1).shap_values(X, nsamples=200, l1_reg=False)
    with pytest.warns(UserWarning, match=f"ignores.*{next(iter(kw))}"):
        e = xf.KernelExplainer(f, B, seed=1, **kw)
    np.testing.assert_array_equal(e.shap_values(X, nsamples=200, l1_reg=False), plain)
    with pytest.raises(TypeError, match="unexpected keyword.*bogus"):
        xf.KernelExplainer(f, B, bogus=1)


def test_explain_is_one_row_of_shap_values_and_matches_shap(rng):
    f, B = _linear(rng, d=4, k=2)
    x = rng.normal(size=(1, 4))
    e = xf.KernelExplainer(f, B, seed=0)
    one = e.explain(x, l1_reg=False)
    assert one.shape == (4, 2)
    np.testing.assert_array_equal(one, e.shap_values(x, l1_reg=False)[0])
    ref = shap.KernelExplainer(f, B).explain(x, l1_reg=False)
    np.testing.assert_allclose(one, ref, rtol=1e-8, atol=1e-12)
    with pytest.raises(ValueError, match="one row"):
        e.explain(np.ones((2, 4)))


def test_not_equal_agrees_with_shap():
    import pandas as pd

    pairs = [
        (0, 0), (0, 1), ("0", "0"), ("0", 0), (0, np.nan), (np.nan, np.nan), ("0", None),
        ("ab", "ab"), ("ab", "bc"), (1.0, 1.0 + 1e-12), (np.float32(2), 2),
        (pd.Timestamp("2017-01-01T12"), pd.Timestamp("2017-01-01T13")),
        (pd.Period("4Q2005"), pd.Period("4Q2005")), (np.array([1.0, 2.0]), np.array([1.0, 2.0])),
        (np.array([True]), np.array([False])), (np.array(["a"]), np.array(["a"])),
    ]  # fmt: skip
    for i, j in pairs:
        assert xf.KernelExplainer.not_equal(i, j) == shap.KernelExplainer.not_equal(i, j), (i, j)


def test_logit_clips_probabilities_of_exactly_zero_and_one(rng):
    def hard(Z):  # probabilities of exactly 0 and 1 where the first feature is large
        p = _proba(Z)
        p[Z[:, 0] > 1.0] = [0.0, 1.0]
        return p

    B = rng.normal(size=(6, 3))
    B[:, 0] = -2.0
    X = rng.normal(size=(4, 3))
    X[:2, 0] = 3.0
    e = xf.KernelExplainer(hard, B, link="logit", seed=0)
    phi = e.shap_values(X, l1_reg=False)
    eps = np.finfo(np.float64).eps
    p = np.clip(hard(X), eps, 1 - eps)
    np.testing.assert_allclose(phi.sum(1) + e.expected_value, np.log(p / (1 - p)), atol=1e-8)
    assert np.isfinite(phi).all()
    with pytest.raises(ValueError, match="logit"):  # out of [0, 1] is still an error
        xf.KernelExplainer(lambda Z: Z[:, 0] + 5.0, B, link="logit")


def test_sparse_rows_and_background_equal_dense(rng):
    sparse = pytest.importorskip("scipy.sparse")
    f, B = _linear(rng, d=6)
    B[:, 2:] = 0.0
    X = rng.normal(size=(3, 6)) * (rng.random((3, 6)) < 0.5)
    dense = xf.KernelExplainer(f, B, seed=0).shap_values(X)
    sp = xf.KernelExplainer(f, sparse.csr_matrix(B), seed=0)
    np.testing.assert_array_equal(sp.shap_values(sparse.csr_matrix(X)), dense)
    np.testing.assert_array_equal(sp(sparse.csr_matrix(X)).data, X)


def test_seed_none_follows_numpys_global_generator(rng):
    lin, B = _linear(rng, d=14)

    def f(Z):  # not additive, so the sampled design shows in the values
        return np.tanh(lin(Z)) * Z[:, 0]

    X = rng.normal(size=(2, 14))
    e = xf.KernelExplainer(f, B)  # seed=None

    def run(global_seed):
        np.random.seed(global_seed)  # noqa: NPY002  (the behaviour under test)
        return e.shap_values(X, nsamples=100, l1_reg=False)

    a, b, c = run(5), run(5), run(6)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-6  # a sampled design: another global seed differs
    seeded = xf.KernelExplainer(f, B, seed=3)
    state = np.random.get_state()  # noqa: NPY002
    seeded.shap_values(X, nsamples=100, l1_reg=False)
    after = np.random.get_state()  # noqa: NPY002  (an explicit seed leaves it alone)
    assert all(np.array_equal(u, v) for u, v in zip(state, after, strict=True))


# ---------------------------------------------------------------- keep_index
def _indexed(rng, n_bg=6, d=4):
    """A background and rows as DataFrames with shuffled integer labels named ``id``, and a
    model that reads the labels: its values show which label reached which row."""
    import pandas as pd

    cols = [f"c{j}" for j in range(d)]
    labels = rng.permutation(1000)[: n_bg + 3]
    bg = pd.DataFrame(rng.normal(size=(n_bg, d)), columns=cols, index=labels[:n_bg])
    X = pd.DataFrame(rng.normal(size=(3, d)), columns=cols, index=labels[n_bg:])
    bg.index.name = X.index.name = "id"
    frames = []

    def f(df):
        frames.append(df)
        assert isinstance(df, pd.DataFrame), "the model must get a DataFrame"
        t = df.index.to_numpy(dtype=float) / 1000.0
        return df["c0"] * t + np.sin(df["c1"]) * df["c2"] + df.iloc[:, -1] * t**2

    return f, bg, X, frames


@pytest.mark.parametrize("batch_size", [None, 4])  # 4 < 6 rows: a coalition's rows split
def test_keep_index_model_gets_shaps_frames_and_values(rng, batch_size):
    f, bg, X, frames = _indexed(rng)
    ref = shap.KernelExplainer(f, bg, keep_index=True)
    want = ref.shap_values(X, silent=True)
    e = xf.KernelExplainer(f, bg, keep_index=True, seed=0, batch_size=batch_size)
    frames.clear()
    got = e.shap_values(X, silent=True)
    np.testing.assert_allclose(e.expected_value, ref.expected_value, rtol=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)  # all coalitions: no sampling
    for df in frames:
        assert list(df.columns) == list(bg.columns) and df.index.name == "id"
        assert set(df.index) <= set(bg.index) | set(X.index)
    assert list(frames[0].index) == list(X.index)  # f(X) first, with X's labels
    perturbed = np.concatenate([df.index.to_numpy() for df in frames[1:]])
    np.testing.assert_array_equal(perturbed, np.resize(bg.index.to_numpy(), len(perturbed)))
    exp = e(X, silent=True)
    np.testing.assert_array_equal(exp.values, got)
    np.testing.assert_array_equal(exp.data, X.to_numpy())
    np.testing.assert_array_equal(e.explain(X.iloc[[1]]), got[1])
    np.testing.assert_array_equal(e.shap_values(X.iloc[1]), got[1])  # a Series: label = name
    back = _roundtrip(e, xf.KernelExplainer, model_saver=False, model_loader=lambda _: f)
    np.testing.assert_array_equal(back.shap_values(X, silent=True), got)


def test_keep_index_leaves_a_row_wise_models_values_unchanged(rng):
    f, B = _linear(rng, d=5)
    import pandas as pd

    bg = pd.DataFrame(B, index=pd.date_range("2020-01-01", periods=len(B), tz="UTC"))
    X = pd.DataFrame(rng.normal(size=(4, 5)), index=pd.date_range("2021-01-01", periods=4))

    def g(Z):  # not additive, so the sampled design shows in the values
        return np.tanh(f(Z)) * np.asarray(Z)[:, 0]

    plain = xf.KernelExplainer(g, bg, seed=3).shap_values(X, nsamples=40)
    seen = []
    kept = xf.KernelExplainer(
        lambda df: seen.append(df.index) or g(df), bg, keep_index=True, seed=3
    )
    np.testing.assert_array_equal(kept.shap_values(X, nsamples=40), plain)
    rows = [ix for ix in seen if ix.equals(X.index)]
    assert rows and all(ix.tz is None for ix in rows)  # each index kept as given
    assert all(str(ix.tz) == "UTC" for ix in seen if not ix.equals(X.index))


def test_keep_index_ordered_sorts_each_frame_and_keeps_rows_matched(rng):
    f, bg, X, frames = _indexed(rng)

    def needs_sorted(df):
        if not df.index.is_monotonic_increasing:
            raise ValueError("index not sorted")
        return f(df)

    with pytest.raises(ValueError, match="not sorted"):  # (a shuffle may come out sorted)
        xf.KernelExplainer(needs_sorted, bg.sort_index(ascending=False), keep_index=True)
    e = xf.KernelExplainer(needs_sorted, bg, keep_index=True, keep_index_ordered=True, seed=0)
    want = shap.KernelExplainer(f, bg, keep_index=True).shap_values(X, silent=True)
    np.testing.assert_allclose(e.shap_values(X, silent=True), want, rtol=1e-9, atol=1e-12)


def test_keep_index_errors(rng):
    f, bg, X, _ = _indexed(rng)
    with pytest.raises(TypeError, match="data must be a pandas DataFrame"):
        xf.KernelExplainer(f, bg.to_numpy(), keep_index=True)
    e = xf.KernelExplainer(f, bg, keep_index=True)
    with pytest.raises(TypeError, match="X must be a pandas DataFrame"):
        e.shap_values(X.to_numpy())
    with pytest.raises(TypeError, match="keep_index must be True or False"):
        xf.KernelExplainer(f, bg, keep_index="yes")
    lin, B = _linear(rng, d=4)
    with pytest.warns(UserWarning, match="keep_index_ordered=True has no effect"):
        alone = xf.KernelExplainer(lin, B, keep_index_ordered=True, seed=0)
    x = rng.normal(size=(2, 4))
    np.testing.assert_array_equal(
        alone.shap_values(x), xf.KernelExplainer(lin, B, seed=0).shap_values(x)
    )
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="torch module"):
        xf.KernelExplainer(torch.nn.Linear(4, 1), bg, keep_index=True)


# ---------------------------------------------------------------- save / load
def _roundtrip(explainer, cls, **kw):
    f = io.BytesIO()
    explainer.save(f, **{k: v for k, v in kw.items() if k.endswith("saver")})
    f.seek(0)
    return cls.load(f, **{k: v for k, v in kw.items() if k.endswith("loader")})


def test_save_load_roundtrip(rng):
    from sklearn.linear_model import LinearRegression

    B = rng.normal(size=(10, 5))
    model = LinearRegression().fit(B, B @ rng.normal(size=5))
    X = rng.normal(size=(2, 5))
    for cls, kw in ((xf.KernelExplainer, {"seed": 4}), (xf.ExactExplainer, {})):
        e = cls(model.predict, B, **kw)
        back = _roundtrip(e, cls)
        assert type(back) is cls
        np.testing.assert_array_equal(back(X).values, e(X).values)
        again = _roundtrip(
            e, cls, model_saver=False, masker_saver=pickle.dump,
            model_loader=lambda _: model.predict, masker_loader=pickle.load,
        )  # fmt: skip
        np.testing.assert_array_equal(again(X).values, e(X).values)
    f = io.BytesIO()
    xf.KernelExplainer(model.predict, B).save(f, model_saver=False)
    f.seek(0)
    with pytest.raises(ValueError, match="model_loader"):
        xf.KernelExplainer.load(f)
    f.seek(0)
    with pytest.raises(TypeError, match="KernelExplainer, not a ExactExplainer"):
        xf.ExactExplainer.load(f)


# ---------------------------------------------------------------- ExactExplainer and maskers
def test_exact_large_background_is_summarised_like_shaps_masker(rng):
    f, _ = _linear(rng, d=4, k=2)

    def g(Z):
        return np.tanh(f(Z)) * Z[:, :1]

    B = rng.normal(size=(250, 4))
    X = rng.normal(size=(3, 4))
    ours = xf.ExactExplainer(g, B)(X)
    ref = shap.explainers.ExactExplainer(g, B)(X)
    np.testing.assert_allclose(ours.values, ref.values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.base_values, ref.base_values, rtol=1e-12)
    full = xf.ExactExplainer(g, B, max_samples=None)(X)
    brute = xf.ExactExplainer(g, xf.Background(B, np.ones(len(B))))(X)
    # the two weightings round their 250-row means apart: about 1e-15 of the largest values
    scale = float(np.abs(brute.values).max())
    np.testing.assert_allclose(full.values, brute.values, rtol=1e-12, atol=1e-13 * scale)
    assert np.abs(full.values - ours.values).max() > 1e-6  # 100 rows of 250 differ


def test_exact_takes_shaps_independent_and_partition_maskers(rng):
    f, B = _linear(rng, d=4)

    def g(Z):
        return np.sin(f(Z))

    B = rng.normal(size=(120, 4))
    masker = shap.maskers.Independent(B, max_samples=50)
    X = rng.normal(size=(2, 4))
    # shap's masker takes a value within np.isclose of a background value as unchanged, which
    # moves its values by about 1e-8 (2 draws in 1,500 here); such draws are not the test's
    while np.isclose(X[:, None, :], masker.data[None]).any():
        X = rng.normal(size=(2, 4))
    ours = xf.ExactExplainer(g, masker)(X)
    np.testing.assert_allclose(
        ours.values, xf.ExactExplainer(g, masker.data)(X).values, rtol=0, atol=0
    )
    np.testing.assert_allclose(
        ours.values, shap.explainers.ExactExplainer(g, masker)(X).values, rtol=1e-9, atol=1e-12
    )
    partition = shap.maskers.Partition(B[:20])  # Owen values on its hierarchy, as shap's
    np.testing.assert_allclose(
        xf.ExactExplainer(g, partition)(X).values,
        shap.explainers.ExactExplainer(g, partition)(X).values, rtol=0, atol=1e-10,
    )  # fmt: skip


def test_no_warning_without_shaps_keywords(rng):
    f, B = _linear(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xf.KernelExplainer(f, B, seed=0)
