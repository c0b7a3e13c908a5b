"""``xai_fast.maskers.Independent``, shap's ``shap.maskers.Independent`` under our name: shap's
rows and masking, and shap's values from every explainer that takes it."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import xai_fast as xf

shap = pytest.importorskip("shap")


def _table(rng, n=240, d=5):
    """Rows and a model with pairwise interactions (so masking order matters)."""
    X = rng.normal(size=(n, d))
    w, pair = rng.normal(size=d), rng.normal(size=(d, d))

    def f(Z):
        return np.tanh(Z @ w) + np.einsum("ni,ij,nj->n", Z, pair, Z) / d

    return X, f


def test_rows_and_masking_are_shaps(rng):
    X, _ = _table(rng, n=int(rng.integers(101, 300)))
    ours, ref = xf.maskers.Independent(X), shap.maskers.Independent(X)
    np.testing.assert_array_equal(ours.data, ref.data)  # the same 100 rows, in order
    assert ours.shape == ref.data.shape and ours.clustering is None
    for _ in range(3):
        mask = rng.random(X.shape[1]) < 0.5
        np.testing.assert_array_equal(ours(mask, X[0])[0], ref(mask, X[0])[0])
    small = xf.maskers.Independent(X[:30], max_samples=50)
    np.testing.assert_array_equal(small.data, X[:30])  # fewer rows than max_samples: all kept
    np.testing.assert_array_equal(
        xf.maskers.Independent(X, max_samples=17).data,
        shap.maskers.Independent(X, max_samples=17).data,
    )


def test_exact_and_permutation_values_are_shaps(rng):
    X, f = _table(rng)
    rows = X[:4]
    ours, ref = xf.maskers.Independent(X), shap.maskers.Independent(X)
    got = xf.ExactExplainer(f, ours)(rows)
    want = shap.explainers.Exact(f, ref)(rows)
    scale = float(np.abs(want.values).max())
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(got.base_values, want.base_values, rtol=1e-12)
    seed = int(rng.integers(2**31))
    got = xf.PermutationExplainer(f, ours, seed=seed)(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = shap.explainers.Permutation(f, ref, seed=seed)(rows)
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=1e-12 * scale)


def test_kernel_and_the_front_door_take_it_as_its_rows(rng):
    X, f = _table(rng)
    rows = X[:3]
    masker = xf.maskers.Independent(X)
    for given in (masker, shap.maskers.Independent(X)):  # shap's KernelExplainer refuses it
        got = xf.KernelExplainer(f, given, seed=5).shap_values(rows, l1_reg=False, silent=True)
        want = xf.KernelExplainer(f, masker.data, seed=5).shap_values(
            rows, l1_reg=False, silent=True
        )
        np.testing.assert_array_equal(got, want)
    auto = xf.Explainer(f, masker)
    assert isinstance(auto, xf.ExactExplainer)  # 5 features: exact, as shap picks
    exact = xf.ExactExplainer(f, masker.data)(rows).values
    np.testing.assert_allclose(auto(rows).values, exact, rtol=0, atol=1e-14)


def test_a_model_fitted_on_a_dataframe_gets_its_columns(rng):
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    X, f = _table(rng, n=120, d=4)
    frame = pd.DataFrame(X, columns=list("abcd"))
    model = LogisticRegression().fit(frame, f(X) > np.median(f(X)))
    masker = xf.maskers.Independent(frame)
    assert masker.feature_names == list("abcd")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn warns when a frame-fitted model gets arrays
        got = xf.ExactExplainer(model.predict_proba, masker)(frame.iloc[:2])
    want = shap.explainers.Exact(model.predict_proba, shap.maskers.Independent(frame))(
        frame.iloc[:2]
    )
    assert got.feature_names == list("abcd")
    np.testing.assert_allclose(got.values, want.values, rtol=0, atol=1e-12)


def test_save_load_and_misuse(rng):
    X, f = _table(rng, n=20)
    masker = xf.maskers.Independent(X, max_samples=10)
    buf = io.BytesIO()
    masker.save(buf)
    buf.seek(0)
    back = xf.maskers.Independent.load(buf)
    assert type(back) is xf.maskers.Independent
    np.testing.assert_array_equal(back.data, masker.data)
    with pytest.raises(ValueError, match="Independent masker has no hierarchy"):
        xf.PartitionExplainer(f, masker)(X[:1])
    with pytest.raises((TypeError, ValueError), match="max_samples"):
        xf.maskers.Independent(X, max_samples=0)
    with pytest.raises((TypeError, ValueError), match="data"):
        xf.maskers.Independent(np.ones(3))
    assert repr(masker) == "Independent(data of shape (10, 5))"
