"""shap's forms of Explanation, Cohorts and the tabular plots, checked against shap."""

from __future__ import annotations

import numpy as np
import pytest

import xai_fast as xf

shap = pytest.importorskip("shap")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xai_fast import plots  # noqa: E402


@pytest.fixture
def exp(rng, request):
    """60 rows of 5 features a..e; the test's figures are closed afterwards."""
    request.addfinalizer(lambda: plt.close("all"))
    n, M = 60, 5
    return xf.Explanation(
        rng.normal(size=(n, M)),
        np.full(n, 0.25),
        rng.normal(size=(n, M)),
        feature_names=list("abcde"),
    )


# ---------------------------------------------------------------- Explanation
def test_base_values_optional_and_repr_is_shaps(rng):
    v = rng.normal(size=(3, 2))
    assert xf.Explanation(v).base_values is None
    for kw in ({}, {"base_values": 0.5, "data": np.ones((3, 2))}, {"base_values": np.ones(3)}):
        assert repr(xf.Explanation(v, **kw)) == repr(shap.Explanation(v, **kw))


def test_data_shape_mismatch_is_a_dimension_error(rng):
    with pytest.raises(xf.DimensionError, match="Perhaps the extra column"):
        xf.Explanation(rng.normal(size=(4, 5)), data=rng.normal(size=(4, 4)))
    with pytest.raises(ValueError, match=r"values \(4, 5\), data \(3, 5\)"):
        xf.Explanation(rng.normal(size=(4, 5)), data=rng.normal(size=(3, 5)))


def test_one_row_base_value_is_a_scalar(exp):
    b = exp[0].base_values
    assert not isinstance(b, np.ndarray) and np.ndim(b) == 0 and b == 0.25


def test_hstack_matches_shap_and_checks_rows_and_base_values(rng):
    base = np.full(6, 0.3)
    a, b = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    da, db = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    out = xf.Explanation(a, base, da, list("abc")).hstack(xf.Explanation(b, base, db, list("de")))
    ref = shap.Explanation(a, base).hstack(shap.Explanation(b, base))
    np.testing.assert_array_equal(out.values, ref.values)
    np.testing.assert_array_equal(out.data, np.hstack([da, db]))
    assert out.feature_names == list("abcde")
    with pytest.raises(AssertionError, match="different numbers of rows"):
        xf.Explanation(a, base).hstack(xf.Explanation(b[:4], base[:4]))
    with pytest.raises(ValueError, match="different base values"):
        xf.Explanation(a, base).hstack(xf.Explanation(b, base + 1e-3))


def test_cohorts_from_labels_and_from_a_tree(exp, rng):
    labels = rng.choice(["x", "y", "z"], size=exp.shape[0])
    ch = exp.cohorts(labels)
    assert isinstance(ch, xf.Cohorts) and sorted(ch.cohorts) == sorted(set(labels))
    for name, part in ch.cohorts.items():
        np.testing.assert_array_equal(part.values, exp.values[labels == name])
    auto = exp.cohorts(3)
    assert 1 <= len(auto.cohorts) <= 3
    assert sum(e.shape[0] for e in auto.cohorts.values()) == exp.shape[0]
    one = xf.Explanation(exp.values[:, :1], data=exp.data[:, :1], feature_names=["a"])
    ref = shap.Explanation(exp.values[:, :1], data=exp.data[:, :1], feature_names=["a"])
    assert sorted(one.cohorts(3).cohorts) == sorted(ref.cohorts(3).cohorts)
    with pytest.raises(ValueError, match="multiple outputs"):
        xf.Explanation(rng.normal(size=(4, 2, 2))).cohorts(2)
    with pytest.raises(TypeError, match="int or an array"):
        exp.cohorts("two")


def test_cohorts_dispatch_and_errors(exp):
    neg, pos = exp[exp.data[:, 0] < 0], exp[exp.data[:, 0] >= 0]
    ch = xf.Cohorts(neg=neg, pos=pos)
    mean = ch.abs.mean(0)
    assert isinstance(mean, xf.Cohorts)
    np.testing.assert_allclose(mean.cohorts["neg"].values, np.abs(neg.values).mean(0), rtol=1e-15)
    np.testing.assert_array_equal(ch[..., "b"].cohorts["pos"].values, pos.values[:, 1])
    with pytest.raises(ValueError, match="No methods"):
        xf.Cohorts()(axis=0)
    for bad in (None, [1, 2], {"a": 1}):
        with pytest.raises(TypeError):
            xf.Cohorts(g=bad)
        with pytest.raises(TypeError):
            xf.Cohorts().cohorts = bad


# ---------------------------------------------------------------- one-name slices
_KEYS = [
    (slice(None), "c"),
    (slice(None), 2),
    (slice(None), [2]),
    (slice(None), slice(2, 3)),
    (0, 2),
    (Ellipsis, 1),
    (0,),
    (0, 2, 1),
    (slice(None), 2, 1),
    (slice(None), slice(None), 1),
]


@pytest.mark.parametrize("key", _KEYS, ids=[repr(k) for k in _KEYS])
def test_slice_names_are_shaps(rng, key):
    args = (rng.normal(size=(4, 5, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 5)))
    names = {"feature_names": list("abcde"), "output_names": ["no", "yes"]}
    ours, ref = xf.Explanation(*args, **names)[key], shap.Explanation(*args, **names)[key]
    for field in ("feature_names", "output_names"):
        got, want = getattr(ours, field), getattr(ref, field)
        assert type(got) is type(want) and got == want, field
    np.testing.assert_array_equal(ours.values, ref.values)
    two_d = xf.Explanation(args[0][..., 0], feature_names=list("abcde"))
    two_d_ref = shap.Explanation(args[0][..., 0], feature_names=list("abcde"))
    k = key[:2] if isinstance(key, tuple) else key
    assert two_d[k].feature_names == two_d_ref[k].feature_names


@pytest.mark.parametrize("N", [4, 5, 6])
def test_square_values_slice_the_feature_axis_first(rng, N):
    names = list("abcde")
    exp = xf.Explanation(rng.normal(size=(N, 5)), feature_names=names, output_names=names)
    ref = shap.Explanation(exp.values, feature_names=names, output_names=names)
    assert exp[0].feature_names == exp[0].output_names == ref[0].feature_names == names
    assert exp[..., "e"].feature_names == ref[..., "e"].feature_names == "e"
    np.testing.assert_array_equal(exp[..., "e"].values, exp.values[:, 4])
    plain, plain_ref = (
        xf.Explanation(exp.values, feature_names=names),
        shap.Explanation(exp.values, feature_names=names),
    )
    assert plain[:, 1].abs.mean(0).feature_names == plain_ref[:, 1].abs.mean(0).feature_names
    assert plain[:, 1].abs.mean(0).feature_names == "b"


def test_one_name_survives_conversions_and_plots(exp):
    col = exp[:, "b"]
    assert col.feature_names == "b"
    df = col.to_pandas()
    assert list(df.columns) == ["b"]
    np.testing.assert_array_equal(df["b"], exp.values[:, 1])
    s = col.to_shap()
    assert s.feature_names == "b"
    back = xf.Explanation.from_shap(s)
    assert back.feature_names == "b" and back.axes == ("row",)
    from_ref = xf.Explanation.from_shap(
        shap.Explanation(exp.values, data=exp.data, feature_names=list("abcde"))[:, "d"]
    )
    assert from_ref.feature_names == "d"
    np.testing.assert_array_equal(from_ref.values, exp.values[:, 3])
    fig, ax = plots.scatter(col, color=exp[:, "c"])
    assert ax.get_xlabel() == "b" and fig.axes[-1].get_ylabel() == "c"
    shap.plots.scatter(s, show=False)
    fig, ax = plots.waterfall(exp[0])
    assert any(t.get_text().startswith("b = ") for t in ax.get_yticklabels())


def test_one_name_for_a_present_axis(rng):
    v = rng.normal(size=(3, 1))
    assert xf.Explanation(v, feature_names="a").feature_names == ["a"]  # one column
    with pytest.raises(ValueError, match="one name .'a'. for the 'feature' axis of length 4"):
        xf.Explanation(rng.normal(size=(3, 4)), feature_names="a")
    assert xf.Explanation(v[:, 0], feature_names="a", axes=("row",)).feature_names == "a"


# ---------------------------------------------------------------- plots
def test_bar_of_cohorts_draws_each_cohorts_importance(exp):
    half = exp.shape[0] // 2
    fig, ax = plots.bar({"t1": exp[:half], "t2": exp[half:]})
    widths = [sorted(p.get_width() for p in c) for c in ax.containers]
    for w, part in zip(widths, (exp[:half], exp[half:]), strict=True):
        np.testing.assert_allclose(w, np.sort(np.abs(part.values).mean(0)), rtol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"t1 [{half}]", f"t2 [{half}]"]
    plt.tight_layout()
    with pytest.raises(xf.DimensionError, match="same number of feature columns"):
        plots.bar({"a": exp, "b": exp[:, :3]})
    for bad in ([1, 2], np.ones(3), {"a": 1}):
        with pytest.raises(TypeError, match="must be an Explanation object, Cohorts object"):
            plots.bar(bad)
    with pytest.raises(ValueError, match="The passed Explanation is empty"):
        plots.bar(exp[0:0])


def test_bar_clustering_orders_by_leaves(exp):
    from scipy.cluster.hierarchy import leaves_list, linkage

    Z = linkage(exp.data.T, "average")
    fig, ax = plots.bar(exp, clustering=Z)
    drawn = [t.get_text() for t in ax.get_yticklabels()]  # ticks set top first
    leaf = [list("abcde")[j] for j in leaves_list(Z)]
    assert drawn == [s for s in leaf if s in drawn]
    with pytest.raises(TypeError, match="does not seem to be a partition tree"):
        plots.bar(exp, clustering=np.array([1, 2, 3]))


def test_beeswarm_colours_and_grouping(exp):
    fig, ax = plots.beeswarm(exp, color="#00ff00", max_display=3)
    assert len(fig.axes) == 1  # one colour: no colour bar
    np.testing.assert_allclose(ax.collections[0].get_facecolors()[:, :3], [[0, 1, 0]] * 60)
    fig, ax = plots.beeswarm(exp, color=plt.get_cmap("cool"), color_bar=False)
    assert len(fig.axes) == 1
    fig, ax = plots.beeswarm(exp, max_display=3, group_remaining_features=False)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 3 and not any("other" in s for s in labels)
    fig, ax = plots.beeswarm(exp, max_display=3)
    assert len(fig.axes) == 2 and "Sum of 3 other features" in ax.get_yticklabels()[-1].get_text()
    plt.tight_layout()
    strings = xf.Explanation(exp.values, data=np.full(exp.shape, "cat"))
    fig, ax = plots.beeswarm(strings)  # no numbers to colour by: grey, no colour bar
    assert len(fig.axes) == 1


def test_scatter_of_columns_in_shaps_form(exp):
    fig, ax = plots.scatter(exp[:, "b"], color=exp[:, "c"])
    xy = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(xy[:, 0], exp.data[:, 1])
    np.testing.assert_array_equal(xy[:, 1], exp.values[:, 1])
    np.testing.assert_array_equal(ax.collections[0].get_array(), exp.data[:, 2])
    assert fig.axes[-1].get_ylabel() == "c"
    plt.tight_layout()
    fig, ax = plots.scatter(exp[:, "b"], xmin="percentile(10)", ymax=1.5, alpha=0.3, cmap="cool")
    assert ax.get_xlim()[0] == pytest.approx(np.percentile(exp.data[:, 1], 10), rel=1e-12)
    assert ax.get_ylim()[1] == 1.5 and ax.collections[0].get_alpha() == 0.3
    overlay = {"foo": [([0, 1], [0, 1]), ([1, 2], [2, 1])]}
    fig, axes = plots.scatter(exp[:, ["a", "b"]], overlay=overlay)
    assert len(axes) == 2
    for a, (xs, ys) in zip(axes, overlay["foo"], strict=True):
        (line,) = [ln for ln in a.lines if ln.get_label() == "foo"]
        np.testing.assert_array_equal(line.get_xydata(), np.column_stack([xs, ys]))
    _, given = plt.subplots()
    fig, ax = plots.scatter(exp[:, "a"], ax=given)
    assert ax is given
    one = xf.Explanation(np.array([[1.0], [1.0]]), data=np.array([[1.0], [1.0]]))
    plots.scatter(one)  # a constant single column
    plt.tight_layout()


def test_scatter_of_categories_and_a_shap_explanation(rng):
    data = rng.choice(["lo", "mid", "hi"], size=(30, 1))
    e = shap.Explanation(rng.normal(size=(30, 1)), data=data, feature_names=["level"])
    fig, ax = plots.scatter(e[:, "level"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["hi", "lo", "mid"]
    codes = np.unique(data[:, 0], return_inverse=True)[1]
    np.testing.assert_array_equal(ax.collections[0].get_offsets()[:, 0], codes)


def test_waterfall_messages_and_ax(exp):
    with pytest.raises(TypeError, match="waterfall plot requires an `Explanation` object"):
        plots.waterfall(np.ones((2, 3)))
    with pytest.raises(ValueError, match="can currently only plot a single explanation"):
        plots.waterfall(exp)
    _, given = plt.subplots()
    fig, ax = plots.waterfall(exp[0], ax=given)
    assert ax is given
    plt.tight_layout()
