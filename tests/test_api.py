"""Front-door behaviour: shapes, pandas, Explanation, backgrounds and helpful errors."""

import numpy as np
import pandas as pd
import pytest
import torch

import xai_fast as xf


@pytest.fixture
def linear(rng):
    d = 5
    a = rng.normal(size=d)
    B = rng.normal(size=(12, d))
    return a, B


def test_shapes_single_output(linear, rng):
    a, B = linear
    e = xf.KernelExplainer(lambda X: X @ a, B, seed=0)
    X = rng.normal(size=(4, 5))
    assert e.shap_values(X).shape == (4, 5)
    assert e.shap_values(X[0]).shape == (5,)
    assert isinstance(e.expected_value, float)


def test_shapes_multi_output(linear, rng):
    a, B = linear
    e = xf.KernelExplainer(lambda X: np.stack([X @ a, X @ -a, X @ a * 2], 1), B, seed=0)
    X = rng.normal(size=(4, 5))
    assert e.shap_values(X).shape == (4, 5, 3)
    assert e.shap_values(X[1]).shape == (5, 3)
    assert e.expected_value.shape == (3,)


def test_constant_features_get_zero_and_single_varying_feature_gets_everything(rng):
    a = rng.normal(size=4)
    B = np.tile(rng.normal(size=(1, 4)), (6, 1))
    B[:, 3] += rng.normal(size=6)
    x = B[0].copy()
    x[3] = 4.0  # only feature 3 varies
    e = xf.KernelExplainer(lambda X: X @ a, B, seed=0)
    v = e.shap_values(x)
    np.testing.assert_array_equal(v[:3], 0.0)
    np.testing.assert_allclose(v[3], a[3] * (4.0 - B[:, 3].mean()), rtol=1e-12)
    np.testing.assert_array_equal(e.shap_values(B[0] * 0 + B[0])[:3], 0.0)


def test_pandas_input_and_explanation(linear, rng):
    a, B = linear
    cols = [f"f{i}" for i in range(5)]
    dfB = pd.DataFrame(B, columns=cols)
    e = xf.KernelExplainer(lambda X: X @ a, dfB, seed=0)
    X = pd.DataFrame(rng.normal(size=(3, 5)), columns=cols)
    exp = e(X, l1_reg=False)
    assert isinstance(exp, xf.Explanation)
    assert exp.feature_names == cols
    assert exp.values.shape == (3, 5) and exp.base_values.shape == (3,)
    np.testing.assert_allclose(exp.values, a * (X.to_numpy() - B.mean(0)), rtol=1e-9)
    np.testing.assert_allclose(exp.values.sum(1) + exp.base_values, X.to_numpy() @ a, rtol=1e-9)
    row = exp[1]
    assert row.values.shape == (5,) and row.data.shape == (5,)
    col = exp[:, 2]
    assert col.values.shape == (3,) and col.feature_names == "f2"
    with pytest.raises(ValueError, match="columns"):
        e(X[cols[::-1]])


def test_explanation_output_slicing(linear, rng):
    a, B = linear
    e = xf.KernelExplainer(lambda X: np.stack([X @ a, X @ a * 3], 1), B, seed=0)
    exp = e(rng.normal(size=(4, 5)), l1_reg=False)
    assert exp.shape == (4, 5, 2)
    out1 = exp[..., 1]
    assert out1.values.shape == (4, 5) and out1.base_values.shape == (4,)
    np.testing.assert_allclose(out1.values, 3 * exp[..., 0].values, rtol=1e-9)
    assert exp[0, :, 1].values.shape == (5,)


def test_kmeans_and_sample_backgrounds(rng):
    from sklearn.datasets import load_diabetes

    X = load_diabetes().data
    bg = xf.kmeans(X, 8)
    assert bg.data.shape == (8, X.shape[1])
    np.testing.assert_allclose(bg.weights.sum(), 1.0)
    for j in range(X.shape[1]):  # rounded to values present in the data
        assert np.isin(bg.data[:, j], X[:, j]).all()
    a = rng.normal(size=X.shape[1])
    e = xf.KernelExplainer(lambda Z: Z @ a, bg, seed=0)
    np.testing.assert_allclose(e.expected_value, bg.weights @ (bg.data @ a), rtol=1e-12)
    sub = xf.sample(X, 20, seed=1)
    assert sub.shape == (20, X.shape[1]) and len(np.unique(sub, axis=0)) == 20
    assert isinstance(xf.sample(pd.DataFrame(X), 5), pd.DataFrame)


def test_kmeans_matches_shap_kmeans():
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_breast_cancer

    X = load_breast_cancer().data[:, :6]
    ours = xf.kmeans(X, 5)
    theirs = shap.kmeans(X, 5)
    order_o = np.lexsort(ours.data.T)
    order_t = np.lexsort(theirs.data.T)
    np.testing.assert_allclose(ours.data[order_o], theirs.data[order_t])
    np.testing.assert_allclose(ours.weights[order_o], theirs.weights[order_t])


def test_shap_densedata_background_is_accepted(linear, rng):
    shap = pytest.importorskip("shap")
    a, B = linear
    dense = shap.kmeans(B, 3)
    X = rng.normal(size=(2, 5))
    ours = xf.KernelExplainer(lambda Z: Z @ a, dense, seed=0).shap_values(X, l1_reg=False)
    ref = shap.KernelExplainer(lambda Z: Z @ a, dense).shap_values(X, l1_reg=False, silent=True)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- helpful errors
def test_unknown_keyword_arguments_are_errors(linear):
    a, B = linear
    with pytest.raises(TypeError, match="unexpected keyword.*not_an_option"):
        xf.KernelExplainer(lambda X: X @ a, B, not_an_option=True)
    e = xf.KernelExplainer(lambda X: X @ a, B)
    with pytest.raises(TypeError, match="unexpected keyword.*nsample"):
        e.shap_values(B[:1], nsample=10)


def test_feature_count_mismatch_names_both_counts(linear):
    a, B = linear
    e = xf.KernelExplainer(lambda X: X @ a, B)
    with pytest.raises(ValueError, match="X has 4 features but the background data has 5"):
        e.shap_values(B[:2, :4])


@pytest.mark.parametrize(
    "bad,err,match",
    [
        (np.zeros((0, 5)), ValueError, "empty"),
        (np.array([["a"] * 5]), TypeError, "numeric"),
        (np.zeros((2, 2, 5)), ValueError, "shape"),
    ],
)
def test_bad_data(linear, bad, err, match):
    a, B = linear
    with pytest.raises(err, match=match):
        xf.KernelExplainer(lambda X: X[:, 0], bad)
    e = xf.KernelExplainer(lambda X: X @ a, B)
    with pytest.raises(err, match=match):
        e.shap_values(bad)


def test_bad_options(linear):
    a, B = linear
    with pytest.raises(ValueError, match="link must be"):
        xf.KernelExplainer(lambda X: X @ a, B, link="probit")
    with pytest.raises(ValueError, match="backend must be"):
        xf.KernelExplainer(lambda X: X @ a, B, backend="cuda")
    e = xf.KernelExplainer(lambda X: X @ a, B)
    with pytest.raises(ValueError, match="nsamples must be"):
        e.shap_values(B[:1] + 1, nsamples=0)
    with pytest.raises(ValueError, match="l1_reg must be"):
        e.shap_values(B[:1] + 1, l1_reg="lasso")
    with pytest.raises(TypeError, match="model must be"):
        xf.KernelExplainer("not a model", B)


def test_model_errors_are_reported(linear):
    a, B = linear

    def nan_model(X):
        out = X @ a
        out[X[:, 0] > 0.5] = np.nan
        return out

    B2 = B.copy()
    B2[:, 0] = 0.0
    e = xf.KernelExplainer(nan_model, B2)
    with pytest.raises(ValueError, match="model returned non-finite"):
        e.shap_values(np.ones((1, 5)))
    with pytest.raises(ValueError, match="model returned an output of shape"):
        xf.KernelExplainer(lambda X: (X @ a)[:-1], B)
    with pytest.raises(ValueError, match="logit"):
        xf.KernelExplainer(lambda X: X @ a + 10.0, B, link="logit")


def test_module_training_mode_is_restored(rng):
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    net.train()
    B = rng.normal(size=(5, 4))
    e = xf.KernelExplainer(net, B, seed=0)
    v1 = e.shap_values(B[:2] + 1, l1_reg=False)
    v2 = e.shap_values(B[:2] + 1, l1_reg=False)
    np.testing.assert_array_equal(v1, v2)  # dropout off while explaining
    assert net.training


def test_grouped_shap_background_is_refused(linear):
    pytest.importorskip("shap")
    from shap.utils._legacy import DenseData

    a, B = linear
    grouped = DenseData(B, ["g0", "g1"], [np.array([0, 1]), np.array([2, 3, 4])])
    with pytest.raises(ValueError, match="feature groups"):
        xf.KernelExplainer(lambda X: X @ a, grouped)


@pytest.mark.parametrize("backend", xf.backends.available())
def test_non_finite_module_output_is_reported_on_every_backend(rng, backend):
    class NanAbove(torch.nn.Module):
        def forward(self, x):
            out = x.sum(dim=1, keepdim=True)
            bad = (x[:, :1] > 2.0) & (x[:, 1:2] < 0.0)
            return torch.where(bad, torch.full_like(out, float("nan")), out)

    B = rng.normal(size=(6, 4)).clip(-1.5, 1.5)
    B[:, 1] = -1.0
    e = xf.KernelExplainer(NanAbove().double(), B, seed=0, backend=backend)
    x = B[:1].copy()
    x[0, 0], x[0, 1] = 3.0, 1.0  # finite at x, NaN once feature 1 comes from the background
    with pytest.raises(ValueError, match="non-finite values .NaN or inf. on perturbed"):
        e.shap_values(x, l1_reg=False)


def test_helpers_reject_bad_input():
    from xai_fast.testing import pairwise_game

    with pytest.raises(ValueError, match="nsamples must be"):
        xf.sample(np.ones((3, 2)), 0)
    with pytest.raises(TypeError, match="numeric"):
        xf.sample([["a", "b"]], 1)
    with pytest.raises(ValueError, match="k must be"):
        xf.kmeans(np.ones((3, 2)), 5)
    with pytest.raises(ValueError, match="d must be a positive int"):
        pairwise_game(0)


def test_row_of_a_multi_output_explanation(linear, rng):
    a, B = linear
    e = xf.KernelExplainer(lambda X: np.stack([X @ a, -(X @ a)], 1), B, seed=0)
    exp = e(rng.normal(size=(3, 5)), l1_reg=False)
    row = exp[1]
    assert row.values.shape == (5, 2) and row.base_values.shape == (2,)
    np.testing.assert_allclose(
        row.values.sum(0) + row.base_values, exp.values[1].sum(0) + exp.base_values[1], rtol=1e-12
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_modules(rng, dtype):
    net = torch.nn.Linear(4, 1).to(dtype)
    B = rng.normal(size=(5, 4))
    X = rng.normal(size=(2, 4))
    for backend in xf.backends.available():
        e = xf.KernelExplainer(net, B, seed=0, backend=backend)
        v = e.shap_values(X, l1_reg=False)
        w = net.weight.detach().double().numpy()[0]
        # a linear model: values are w * (x - mean), up to the module's precision
        Xr = torch.tensor(X).to(dtype).double().numpy()
        Br = torch.tensor(B).to(dtype).double().numpy()
        np.testing.assert_allclose(v[..., 0], w * (Xr - Br.mean(0)), rtol=0.05, atol=0.05)


def test_batch_size_bounds_every_model_call_on_the_torch_path(rng):
    sizes = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            sizes.append(x.shape[0])
            return x.sum(dim=1)

    B = rng.normal(size=(30, 3))
    for backend in xf.backends.available():
        sizes.clear()
        e = xf.KernelExplainer(Recorder(), B, seed=0, batch_size=8, backend=backend)
        e.shap_values(rng.normal(size=(2, 3)), l1_reg=False)
        assert max(sizes) <= 8, (backend, max(sizes))


def test_explanation_of_a_single_row_slices_features(linear, rng):
    a, B = linear
    e = xf.KernelExplainer(lambda X: np.stack([X @ a, 2 * (X @ a)], 1), B, seed=0)
    x = rng.normal(size=5)
    exp = e(x, l1_reg=False)
    assert exp.axes == ("feature", "output") and exp.values.shape == (5, 2)
    f2 = exp[2]
    assert f2.values.shape == (2,) and f2.data.shape == () and f2.base_values.shape == (2,)
    out1 = exp[:, 1]
    np.testing.assert_allclose(out1.values.sum() + out1.base_values, 2 * (x @ a), rtol=1e-9)
    col = e(rng.normal(size=(3, 5)), l1_reg=False)[:, 4, 0]
    assert col.axes == ("row",) and col.values.shape == (3,) and col.base_values.shape == (3,)


def test_import_is_light_and_exports_resolve():
    import subprocess
    import sys

    code = (
        "import sys, xai_fast\n"
        "heavy = [m for m in ('torch', 'hypothesis', 'matplotlib', 'lime', 'shap') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "missing = [n for n in xai_fast.__all__ if getattr(xai_fast, n, None) is None]\n"
        "assert not missing, missing\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
