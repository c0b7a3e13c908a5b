"""Strings, categories and other objects reach the model unchanged: masking copies values, so
the engine masks codes of them and the model gets the values back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from oracles import brute_force_shapley

import xai_fast as xf
from xai_fast.masking.value_codes import ValueCodes, is_non_numeric

COLOURS = np.array(["red", "green", "blue", "amber"])
SIZES = np.array(["S", "M", "L"])


def _table(rng, n):
    """Rows of (colour, size, count): two string columns and a numeric one, as objects."""
    return np.column_stack(
        [rng.choice(COLOURS, n), rng.choice(SIZES, n), rng.integers(0, 5, n).astype(object)]
    ).astype(object)


def _model(rng):
    """A model that only works on the values: a score per colour and size, times the count,
    plus an interaction; it raises on codes (floats are not keys of its tables)."""
    colour = dict(zip(COLOURS, rng.normal(size=4), strict=True))
    size = dict(zip(SIZES, rng.normal(size=3), strict=True))

    def f(rows):
        assert rows.dtype == object
        out = [colour[c] * (1 + int(k)) + size[s] + (c == "red") * (s == "L") for c, s, k in rows]
        return np.array(out)

    return f


def _shapley(f, x, B):
    """Brute-force Shapley values over the background rows B (object rows work as numbers)."""
    return brute_force_shapley(f, x, B)[:, 0]


def test_kernel_and_exact_give_shapley_values_of_string_columns(rng):
    f = _model(rng)
    B, X = _table(rng, 7), _table(rng, 3)
    kernel = xf.KernelExplainer(f, B).shap_values(X, silent=True)
    exact = xf.ExactExplainer(f, B)(X)
    for i in range(3):
        ref = _shapley(f, X[i], B)
        np.testing.assert_allclose(kernel[i], ref, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(exact.values[i], ref, rtol=1e-9, atol=1e-12)
    assert exact.data.dtype == object and (exact.data == X).all()  # the values, not codes


def test_equals_shap_on_a_one_hot_pipeline(rng):
    shap = pytest.importorskip("shap")
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = np.column_stack([rng.choice(COLOURS, 40), rng.choice(SIZES, 40), rng.choice(["x"], 40)])
    y = rng.normal(size=40)
    pipe = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LinearRegression()).fit(X, y)
    ours = xf.KernelExplainer(pipe.predict, X[:10]).shap_values(X[10:14], silent=True)
    ref = shap.KernelExplainer(pipe.predict, X[:10]).shap_values(X[10:14], silent=True)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-10)
    assert (ours[:, 2] == 0).all()  # a column equal in every row gets nothing


def test_dataframe_with_categorical_and_numeric_columns(rng):
    pd = pytest.importorskip("pandas")
    f = _model(rng)
    rows = _table(rng, 9)
    frame = pd.DataFrame(
        {
            "colour": pd.Categorical(rows[:, 0]),
            "size": rows[:, 1].astype(str),
            "count": rows[:, 2].astype(np.int64),
        }
    )
    exp = xf.KernelExplainer(f, frame.iloc[:6])(frame.iloc[6:], silent=True)
    assert exp.feature_names == ["colour", "size", "count"]
    for i in range(3):
        x = frame.iloc[6 + i].to_numpy(dtype=object)
        ref = _shapley(f, x, frame.iloc[:6].to_numpy(dtype=object))
        np.testing.assert_allclose(exp.values[i], ref, rtol=1e-9, atol=1e-12)


def test_values_seen_only_in_the_explained_rows_and_nan(rng):
    codes = ValueCodes()
    a = codes.encode(np.array([["a", np.nan], ["b", 1.0]], dtype=object))
    b = codes.encode(np.array([[float("nan"), "c"]], dtype=object))  # another NaN object
    assert a[0, 1] == b[0, 0]  # every NaN is one value
    assert len(set(a.ravel()) | set(b.ravel())) == 5  # a, nan, b, 1.0, c
    back = codes.decode(np.vstack([a, b]))
    assert back[0, 0] == "a" and back[2, 1] == "c" and math.isnan(back[0, 1])
    # a string array keeps its dtype for the model (wide enough for longer values seen later)
    s = ValueCodes()
    s.encode(np.array([["x", "y"]]))
    s.encode(np.array([["long value", "y"]]))
    assert s.decode(np.array([[1.0, 2.0]])).dtype.kind == "U"
    assert s.decode(np.array([[2.0]]))[0, 0] == "long value"


def test_detection_and_errors(rng):
    pd = pytest.importorskip("pandas")
    torch = pytest.importorskip("torch")
    assert is_non_numeric(np.array([["a"]])) and is_non_numeric([["a", 1]])
    assert is_non_numeric(pd.DataFrame({"a": pd.Categorical(["u"])}))
    assert not is_non_numeric(np.zeros((2, 2))) and not is_non_numeric(pd.DataFrame({"a": [1]}))
    assert not is_non_numeric(xf.kmeans(rng.normal(size=(20, 3)), 2))
    with pytest.raises(TypeError, match="non-numeric columns.*callable model"):
        xf.KernelExplainer(torch.nn.Linear(2, 1), np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="cannot be compared by hashing"):
        xf.KernelExplainer(lambda r: np.zeros(len(r)), np.array([[[1], "b"]], dtype=object))
    ex = xf.KernelExplainer(_model(rng), _table(rng, 4))
    with pytest.raises(ValueError, match="X has 2 features but the background data has 3"):
        ex.shap_values(_table(rng, 2)[:, :2])
