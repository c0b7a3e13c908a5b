"""Models get rows in the form they were fitted on (no feature-name warnings), and explanations
carry the model's output names."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xai_fast as xf
from xai_fast.cli.explain import column_mismatch

pd = pytest.importorskip("pandas")
sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6]
    on_frame = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    on_array = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X.values, y)
    return X, on_frame, on_array


def test_frame_fitted_models_get_frames_and_print_no_warnings(cancer):
    X, on_frame, on_array = cancer
    rows = X.iloc[10:13]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        kernel = xf.KernelExplainer(on_frame.predict_proba, X.iloc[:15], seed=0)(rows, silent=True)
        summary = xf.KernelExplainer(on_frame.predict_proba, xf.kmeans(X, 4), seed=0)
        summary(rows, silent=True)
        exact = xf.ExactExplainer(on_frame.predict_proba, X.iloc[:15])(rows)
        lime = xf.LimeTabularExplainer(X, random_state=0)
        one = lime.explain_instance(X.iloc[3], on_frame.predict_proba, num_samples=300)
        many = lime.explain_instances(rows, on_frame.predict_proba, num_samples=300)
    # the same numbers as the same model fitted on arrays, which gets arrays
    ref = xf.KernelExplainer(on_array.predict_proba, X.iloc[:15].values, seed=0)(rows.values)
    np.testing.assert_allclose(kernel.values, ref.values, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(exact.values, kernel.values, rtol=1e-9, atol=1e-12)
    lime_ref = xf.LimeTabularExplainer(X.values, random_state=0, feature_names=list(X.columns))
    ref_one = lime_ref.explain_instance(X.values[3], on_array.predict_proba, num_samples=300)
    for (name, w), (ref_name, ref_w) in zip(one.as_list(), ref_one.as_list(), strict=True):
        assert name == ref_name and w == pytest.approx(ref_w, rel=1e-12, abs=1e-14)
    assert len(many) == 3


def test_categorical_dtypes_reach_the_model(rng):
    colour = pd.Categorical(rng.choice(["red", "green", "blue"], 60))
    frame = pd.DataFrame({"colour": colour, "size": rng.normal(size=60)})
    y = (frame["size"] + (frame["colour"] == "red")).to_numpy() > 0.5
    from sklearn.compose import make_column_transformer

    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, y)
    seen = []

    def proba(df):
        seen.append(df.dtypes.to_dict())
        return pipe.predict_proba(df)

    proba.__self__ = pipe  # a bound method's owner is how a fitted estimator is found
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exp = xf.KernelExplainer(pipe.predict_proba, frame.iloc[:8])(frame.iloc[8:11], silent=True)
    assert exp.output_names == ["False", "True"]
    assert isinstance(exp.data[0, 0], str)
    xf.KernelExplainer(proba, frame.iloc[:8])(frame.iloc[8:9], silent=True)
    assert all(d["colour"] == "category" and d["size"] == np.float64 for d in seen)


def test_output_names_given_inferred_and_checked(cancer, rng):
    X, on_frame, _ = cancer
    y = np.where(on_frame.predict(X) == 1, "yes", "no")
    clf = LogisticRegression(max_iter=500).fit(X.values, y)
    exp = xf.KernelExplainer(clf.predict_proba, X.values[:10])(X.values[:2], silent=True)
    assert exp.output_names == ["no", "yes"]
    np.testing.assert_array_equal(exp[..., "yes"].values, exp[..., 1].values)
    named = xf.ExactExplainer(clf.predict_proba, X.values[:5], output_names=["a", "b"])
    assert named(X.values[:1]).output_names == ["a", "b"]

    def frame_out(Z):  # a multi-output model returning a DataFrame names its outputs
        z = np.asarray(Z)
        return pd.DataFrame({"low": z[:, 0], "high": z[:, 1] * 2})

    e = xf.KernelExplainer(frame_out, X.values[:5])(X.values[:1], silent=True)
    assert e.output_names == ["low", "high"]
    one = xf.KernelExplainer(clf.decision_function, X.values[:5])  # one output: no names
    assert one.output_names is None
    with pytest.raises(ValueError, match="output_names has 3 names but the model returns 2"):
        xf.KernelExplainer(clf.predict_proba, X.values[:5], output_names=["a", "b", "c"])


def test_cli_column_mismatch_names_the_columns():
    msg = column_mismatch(["age", "bmi", "bp"], ["age", "bmi", "s1", "s2"])
    assert "--data has 3 columns and --background 4" in msg
    assert "missing from --background: 'bp'" in msg and "only in --background: 's1', 's2'" in msg
    swapped = column_mismatch(["a", "b"], ["b", "a"])
    assert "another order (column 1: 'a' in --data, 'b' in --background)" in swapped
