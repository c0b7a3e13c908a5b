"""Explanation: slicing by name, index, mask and ellipsis; reductions; pandas and shap."""

import sys

import numpy as np
import pytest

import xai_fast as xf

FEATURES = ["age", "bmi", "bp", "s1"]
OUTPUTS = ["no", "yes"]


@pytest.fixture
def exp(rng):
    """Five rows, four named features, two named outputs, with error_std."""
    n, M, k = 5, len(FEATURES), len(OUTPUTS)
    values = rng.normal(size=(n, M, k))
    return xf.Explanation(
        values,
        rng.normal(size=(n, k)),
        rng.normal(size=(n, M)),
        FEATURES,
        OUTPUTS,
        error_std=rng.random(size=(n, M, k)),
    )


def assert_same(a, b):
    """Two explanations hold the same arrays, names and axes."""
    assert a.axes == b.axes
    np.testing.assert_array_equal(a.values, b.values)
    for field in ("base_values", "data", "error_std"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=field)
    assert a.feature_names == b.feature_names
    assert a.output_names == b.output_names


# ---------------------------------------------------------------- slicing
def test_feature_name_slices_like_its_index(exp):
    col = exp[:, "bmi"]
    assert_same(col, exp[:, 1])
    assert col.axes == ("row", "output") and col.feature_names == "bmi"
    np.testing.assert_array_equal(col.values, exp.values[:, 1])
    np.testing.assert_array_equal(col.data, exp.data[:, 1])
    np.testing.assert_array_equal(col.error_std, exp.error_std[:, 1])
    np.testing.assert_array_equal(col.base_values, exp.base_values)


def test_lists_of_names_index_each_axis_on_its_own(exp):
    block = exp[[0, 2], ["age", "bp"]]
    rows, cols = [0, 2], [0, 2]
    assert block.shape == (2, 2, 2) and block.feature_names == ["age", "bp"]
    np.testing.assert_array_equal(block.values, exp.values[np.ix_(rows, cols)])
    np.testing.assert_array_equal(block.error_std, exp.error_std[np.ix_(rows, cols)])
    np.testing.assert_array_equal(block.data, exp.data[np.ix_(rows, cols)])
    np.testing.assert_array_equal(block.base_values, exp.base_values[rows])
    one = exp[0, ["age", "bmi"]]
    assert one.axes == ("feature", "output") and one.shape == (2, 2)
    np.testing.assert_array_equal(one.data, exp.data[0, :2])
    np.testing.assert_array_equal(one.base_values, exp.base_values[0])
    assert_same(exp[:, np.array(["s1", "age"])], exp[:, [3, 0]])


def test_output_name_after_ellipsis(exp):
    yes = exp[..., "yes"]
    assert_same(yes, exp[..., 1])
    assert yes.axes == ("row", "feature") and yes.output_names == "yes"
    np.testing.assert_array_equal(yes.base_values, exp.base_values[:, 1])
    np.testing.assert_array_equal(yes.data, exp.data)
    np.testing.assert_array_equal(yes.error_std, exp.error_std[..., 1])
    cell = exp[3, "bp", "no"]
    assert cell.axes == () and cell.values == exp.values[3, 2, 0]
    assert cell.base_values == exp.base_values[3, 0] and cell.data == exp.data[3, 2]
    assert_same(exp[1][..., "yes"], exp[1, :, 1])
    assert_same(exp[..., "bmi", :], exp[:, 1])


def test_boolean_masks_and_integer_arrays(exp, rng):
    rows = rng.random(5) < 0.5
    rows[0] = True
    feats = np.array([True, False, True, True])
    sub = exp[rows, feats]
    np.testing.assert_array_equal(sub.values, exp.values[rows][:, feats])
    np.testing.assert_array_equal(sub.error_std, exp.error_std[rows][:, feats])
    np.testing.assert_array_equal(sub.data, exp.data[rows][:, feats])
    np.testing.assert_array_equal(sub.base_values, exp.base_values[rows])
    assert sub.feature_names == ["age", "bp", "s1"]
    assert_same(exp[np.array([4, 1]), -1], exp[[4, 1], 3])
    assert_same(exp[..., np.array([True, False])], exp[..., [0]])
    assert exp[..., [0]].output_names == ["no"] and exp[..., [0]].axes == exp.axes
    empty = exp[[]]
    assert empty.shape == (0, 4, 2) and empty.base_values.shape == (0, 2)


def test_bad_keys_say_what_is_valid(exp):
    with pytest.raises(KeyError, match="'weight' is not a feature name.*'age', 'bmi'"):
        exp[:, "weight"]
    with pytest.raises(KeyError, match="not an output name.*'no', 'yes'"):
        exp[..., "maybe"]
    with pytest.raises(KeyError, match="rows have no names"):
        exp["age"]
    with pytest.raises(KeyError, match="no feature names"):
        xf.Explanation(exp.values, exp.base_values, exp.data)[:, "age"]
    many = xf.Explanation(
        np.zeros((2, 30)), np.zeros(2), feature_names=[f"x{j}" for j in range(30)]
    )
    with pytest.raises(KeyError, match=r"'x7', \.\.\. \(30 in all\)"):
        many[:, "y"]
    with pytest.raises(IndexError, match="mask of length 3"):
        exp[:, np.array([True, False, True])]
    with pytest.raises(IndexError, match="too many indices"):
        exp[0, 0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        exp[..., 0, ...]


def test_interaction_names_follow_the_remaining_feature_axis(rng):
    inter = xf.Explanation(
        rng.normal(size=(3, 4, 4)), np.zeros(3), rng.normal(size=(3, 4)), FEATURES,
        axes=("row", "feature", "feature2"),
    )  # fmt: skip
    with_bmi = inter[:, "bmi"]
    assert with_bmi.axes == ("row", "feature2") and with_bmi.feature_names == FEATURES
    np.testing.assert_array_equal(with_bmi.values, inter.values[:, 1])
    np.testing.assert_array_equal(with_bmi[:, "s1"].values, inter.values[:, 1, 3])
    np.testing.assert_array_equal(inter[:, :, "bp"].values, inter.values[:, :, 2])


def test_constructor_checks_error_std_and_names(exp):
    with pytest.raises(ValueError, match="error_std has shape"):
        xf.Explanation(exp.values, exp.base_values, error_std=np.ones(3))
    with pytest.raises(ValueError, match="3 names for the 'feature' axis of length 4"):
        xf.Explanation(exp.values, exp.base_values, feature_names=FEATURES[:3])
    with pytest.raises(ValueError, match="axes must be distinct names"):
        xf.Explanation(exp.values, exp.base_values, axes=("row", "row", "output"))
    assert xf.Explanation(exp.values, exp.base_values).error_std is None


def test_shape_len_and_iteration(exp):
    assert exp.shape == (5, 4, 2) and len(exp) == 5
    rows = list(exp)
    assert len(rows) == 5
    for i, row in enumerate(rows):
        assert_same(row, exp[i])
    with pytest.raises(TypeError, match="row axis"):
        iter(exp[0])


# ---------------------------------------------------------------- reductions
def test_abs_and_row_reductions_keep_feature_names(exp):
    a = exp.abs
    np.testing.assert_array_equal(a.values, np.abs(exp.values))
    np.testing.assert_array_equal(a.data, exp.data)
    np.testing.assert_array_equal(a.error_std, exp.error_std)
    assert a.feature_names == FEATURES and a.axes == exp.axes
    imp = exp[..., "yes"].abs.mean(0)
    assert imp.axes == ("feature",) and imp.feature_names == FEATURES
    np.testing.assert_allclose(imp.values, np.abs(exp.values[..., 1]).mean(0))
    np.testing.assert_allclose(imp.base_values, exp.base_values[:, 1].mean())
    np.testing.assert_allclose(imp.data, exp.data.mean(0))
    assert imp.error_std is None
    top = exp.max("row")
    np.testing.assert_array_equal(top.values, exp.values.max(0))
    np.testing.assert_array_equal(top.base_values, exp.base_values.max(0))
    assert top.output_names == OUTPUTS
    assert_same(exp.sum(0), exp.sum("row"))
    assert_same(exp.sum(-1), exp.sum("output"))


def test_feature_and_output_reductions(exp):
    total = exp.sum(1)
    assert total.axes == ("row", "output") and total.feature_names is None and total.data is None
    np.testing.assert_allclose(total.values, exp.values.sum(1))
    np.testing.assert_array_equal(total.base_values, exp.base_values)  # values + base = output
    both = exp.sum("output")
    assert both.axes == ("row", "feature") and both.output_names is None
    np.testing.assert_allclose(both.base_values, exp.base_values.sum(1))
    np.testing.assert_array_equal(both.data, exp.data)
    with pytest.raises(ValueError, match="no 'feature2' axis"):
        exp.mean("feature2")
    with pytest.raises(ValueError, match="out of range"):
        exp.mean(3)


# ---------------------------------------------------------------- pandas
def test_to_pandas_single_output_and_row(exp):
    pd = pytest.importorskip("pandas")
    df = exp[..., "no"].to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == FEATURES
    np.testing.assert_array_equal(df.to_numpy(), exp.values[..., 0])
    row = exp[2, :, 1].to_pandas()
    assert row.shape == (1, 4) and list(row.columns) == FEATURES
    col = exp[:, "bp", 0].to_pandas()
    assert list(col.columns) == ["bp"]
    np.testing.assert_array_equal(col["bp"], exp.values[:, 2, 0])
    unnamed = xf.Explanation(exp.values[..., 0], exp.base_values[:, 0]).to_pandas()
    assert list(unnamed.columns) == [0, 1, 2, 3]


def test_to_pandas_output_axis_is_a_multiindex(exp):
    pytest.importorskip("pandas")
    df = exp.to_pandas()
    assert df.shape == (5, 8) and df.columns.names == ["output", "feature"]
    np.testing.assert_array_equal(df["yes"].to_numpy(), exp.values[..., 1])
    np.testing.assert_array_equal(df[("no", "s1")].to_numpy(), exp.values[:, 3, 0])
    inter = xf.Explanation(np.zeros((2, 3, 3)), np.zeros(2), axes=("row", "feature", "feature2"))
    with pytest.raises(ValueError, match="interaction values"):
        inter.to_pandas()


# ---------------------------------------------------------------- shap
@pytest.mark.parametrize(
    "key",
    [(), (Ellipsis, "yes"), (0, slice(None), "no"), (slice(None), "bp", 1), (1,)],
    ids=["all", "output", "row", "column", "row-outputs"],
)
def test_shap_round_trip(exp, key):
    pytest.importorskip("shap")
    e = exp[key] if key else exp
    s = e.to_shap()
    np.testing.assert_array_equal(s.values, e.values)
    np.testing.assert_array_equal(s.base_values, e.base_values)
    np.testing.assert_array_equal(s.data, e.data)
    back = xf.Explanation.from_shap(s)
    assert_same(back, e)


def test_from_shap_reads_shaps_own_slices_and_interactions(exp, rng):
    shap = pytest.importorskip("shap")
    s = exp[..., 1].to_shap()
    assert_same(xf.Explanation.from_shap(s[:, "bmi"]), exp[:, "bmi", 1])
    assert_same(xf.Explanation.from_shap(s[2]), exp[2, :, 1])
    values = rng.normal(size=(3, 4, 4))
    inter = shap.Explanation(values, np.zeros(3), rng.normal(size=(3, 4)), feature_names=FEATURES)
    back = xf.Explanation.from_shap(inter)
    assert back.axes == ("row", "feature", "feature2") and back.feature_names == FEATURES
    outputs = shap.Explanation(rng.normal(size=(3, 4, 2)), 0.0, rng.normal(size=(3, 4)))
    assert xf.Explanation.from_shap(outputs).axes == ("row", "feature", "output")  # not square
    shared = shap.Explanation(values[:, :, 0], base_values=0.5, data=rng.normal(size=(3, 4)))
    np.testing.assert_array_equal(xf.Explanation.from_shap(shared).base_values, [0.5] * 3)


def test_shap_plots_accept_to_shap(exp):
    shap = pytest.importorskip("shap")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        shap.plots.bar(exp[..., "yes"].to_shap(), show=False)
        shap.plots.waterfall(exp[0, :, "yes"].to_shap(), show=False)
        assert plt.get_fignums()
    finally:
        plt.close("all")


def test_to_shap_without_shap_says_how_to_install(exp, monkeypatch):
    monkeypatch.setitem(sys.modules, "shap", None)
    with pytest.raises(ImportError, match="pip install shap"):
        exp.to_shap()
