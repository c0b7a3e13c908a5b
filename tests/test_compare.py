"""compare(): every method on the same rows, exact agreement, skips with notes, and reports."""

import math

import numpy as np
import pytest
import torch

from xai_fast.compare import METHODS, Comparison, compare

ALL = ("kernel", "kernel_auto", "exact", "permutation", "lime", "ig", "gradient_shap")


def mlp(d, k=1, seed=0):
    """A float64 tanh MLP with fresh weights from a seeded torch Generator."""
    g = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, k)
    ).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) / math.sqrt(p.shape[-1]))
    return model


@pytest.fixture
def data(rng):
    """20 background rows and 4 rows to explain, 6 features."""
    return rng.normal(size=(4, 6)), rng.normal(size=(20, 6))


@pytest.fixture
def result(data):
    X, B = data
    return compare(mlp(6), X, B, methods=ALL, nsamples=2**6, feature_names=list("abcdef"))


def record(comparison: Comparison, method: str) -> dict:
    return next(r for r in comparison.records if r["method"] == method)


def test_agreement_with_exact(result):
    assert [r["method"] for r in result.records] == list(ALL)
    assert result.exact is not None and result.exact.shape == (4, 6)
    exact = record(result, "exact")
    assert exact["rel_error"] == 0 and exact["rank_corr"] == pytest.approx(1)
    assert exact["topk_overlap"] == 1
    for m in ("kernel", "kernel_auto"):  # 2**6 coalitions: every one of them
        assert record(result, m)["rel_error"] < 1e-8
        assert record(result, m)["rank_corr"] == pytest.approx(1)
    for m in ("kernel", "kernel_auto", "exact", "permutation"):  # efficient by construction
        assert record(result, m)["efficiency_gap"] < 1e-8
    for m in ("ig", "gradient_shap", "lime"):
        r = record(result, m)
        assert r["seconds"] > 0 and result.attributions[m].shape == (4, 6)
        assert all(math.isfinite(r[key]) for key in ("rel_error", "rank_corr", "topk_overlap"))
        assert -1 <= r["rank_corr"] <= 1 and 0 <= r["topk_overlap"] <= 1
    assert math.isfinite(record(result, "ig")["efficiency_gap"])
    assert math.isfinite(record(result, "gradient_shap")["efficiency_gap"])
    assert math.isnan(record(result, "lime")["efficiency_gap"])
    assert "not Shapley" in record(result, "lime")["note"]


def test_values_are_the_explainers(data):
    """The table's values are those of the explainers called directly."""
    import xai_fast as xf

    X, B = data
    model = mlp(6)
    c = compare(model, X, B, methods=("exact", "kernel"), nsamples=40, seed=3)
    exact = xf.ExactExplainer(model, B).shap_values(X, silent=True)  # (n, d, 1)
    np.testing.assert_allclose(c.exact, exact[..., 0], rtol=1e-10, atol=1e-12)
    kernel = xf.KernelExplainer(model, B, seed=3).shap_values(X, 40, l1_reg=False, silent=True)
    np.testing.assert_allclose(c.attributions["kernel"], kernel[..., 0], rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        assert c.expected_value == pytest.approx(float(model(torch.as_tensor(B)).mean()))


def test_linear_model_ig_is_exact(data):
    """For a linear model, IG from the background mean is the Shapley value."""
    X, B = data
    lin = torch.nn.Linear(6, 1).double()
    c = compare(lin, X, B, methods=("exact", "ig"))
    assert record(c, "ig")["rel_error"] < 1e-10
    assert record(c, "ig")["efficiency_gap"] < 1e-10


def test_multi_output_needs_target(data):
    X, B = data
    model = mlp(6, k=3)
    with pytest.raises(ValueError, match="target"):
        compare(model, X, B, methods=("exact",))
    with pytest.raises(ValueError, match="out of range"):
        compare(model, X, B, methods=("exact",), target=3)
    c = compare(model, X, B, methods=("exact", "kernel", "ig"), target=1, nsamples=2**6)
    col = torch.nn.Sequential(model, Select(1))
    c1 = compare(col, X, B, methods=("exact",))
    np.testing.assert_allclose(c.exact, c1.exact, atol=1e-12)
    assert record(c, "kernel")["rel_error"] < 1e-8
    assert model.training  # the caller's mode is restored


class Select(torch.nn.Module):
    def __init__(self, t):
        super().__init__()
        self.t = t

    def forward(self, y):
        return y[:, self.t]


def test_callable_skips_gradient_methods(data, rng):
    X, B = data
    w = rng.normal(size=(6, 2))

    def f(Z):
        return np.tanh(Z @ w)  # (n, 2)

    c = compare(f, X, B, methods=("kernel", "exact", "ig", "gradient_shap"), target=0)
    for m in ("ig", "gradient_shap"):
        r = record(c, m)
        assert "skipped" in r["note"] and "torch.nn.Module" in r["note"]
        assert math.isnan(r["seconds"]) and math.isnan(r["rel_error"])
        assert m not in c.attributions
    assert record(c, "exact")["efficiency_gap"] < 1e-8


def test_many_features_skip_exact(rng):
    d = 17
    w = rng.normal(size=d)
    X, B = rng.normal(size=(3, d)), rng.normal(size=(10, d))
    c = compare(lambda Z: Z @ w, X, B, methods=("kernel", "exact", "lime"))
    assert c.exact is None and "exact" not in c.attributions
    assert (
        "skipped" in record(c, "exact")["note"]
        and "max_exact_features=16" in (record(c, "exact")["note"])
    )
    for r in c.records:
        assert all(math.isnan(r[key]) for key in ("rel_error", "rank_corr", "topk_overlap"))
    assert record(c, "kernel")["efficiency_gap"] < 1e-8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(methods=("kernel", "shapley")), "unknown method.*valid methods"),
        (dict(methods=("kernel", "kernel")), "more than once"),
        (dict(methods=()), "empty"),
        (dict(top_k=0), "top_k"),
    ],
)
def test_bad_options(data, kwargs, match):
    X, B = data
    with pytest.raises(ValueError, match=match):
        compare(mlp(6), X, B, **kwargs)


def test_bad_data(data):
    X, B = data
    with pytest.raises(ValueError, match="6 features but the background has 5"):
        compare(mlp(6), X, B[:, :5], methods=("kernel",))
    with pytest.raises(ValueError, match="empty"):
        compare(mlp(6), X[:0], B, methods=("kernel",))
    with_nan = X.copy()
    with_nan[int(len(X) // 2), 1] = np.nan  # one NaN always (X > 1 can select nothing)
    with pytest.raises(ValueError, match="NaN"):
        compare(mlp(6), with_nan, B, methods=("kernel",))


def test_reports(result):
    table = result.to_markdown()
    assert table.count("\n") == len(ALL) + 1
    for m in ALL:
        assert f"`{m}`" in table
    assert "n/a" in table  # LIME's efficiency gap
    df = result.to_pandas()
    assert list(df["method"]) == list(ALL)
    assert list(df.columns) == [
        "method", "seconds", "efficiency_gap", "rel_error", "rank_corr", "topk_overlap", "note",
    ]  # fmt: skip
    assert set(METHODS) == set(ALL)


def test_plot(result):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        fig, axes = result.plot()
        assert len(fig.axes) == 2 and len(axes) == 2
        assert axes[0].get_xscale() == "log"
        fig.canvas.draw()
    finally:
        plt.close("all")
