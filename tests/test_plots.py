"""Plots: each draws what it says, returns its figure and axes (or HTML), and nothing is clipped."""

import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import xai_fast as xf  # noqa: E402
from xai_fast import plots  # noqa: E402

LONG = "serum_low_density_lipoprotein_cholesterol_after_fasting"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def exp(rng):
    """40 rows of 12 features, one with a long name."""
    n, M = 40, 12
    names = [f"x{j}" for j in range(M)]
    names[4] = LONG
    data = rng.normal(size=(n, M))
    values = rng.normal(size=M) * (data - data.mean(0))
    return xf.Explanation(values, np.full(n, rng.normal()), data, names)


def assert_fits(fig):
    """Every axes, with its labels, and every figure legend lies inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    parts = [ax.get_tightbbox(renderer) for ax in fig.axes]
    parts += [leg.get_window_extent(renderer) for leg in fig.legends]
    for bb in parts:
        assert bb.x0 >= box.x0 - 1 and bb.y0 >= box.y0 - 1, (bb, box)
        assert bb.x1 <= box.x1 + 1 and bb.y1 <= box.y1 + 1, (bb, box)


def tick_labels(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def order_by(importance, names, max_display):
    order = np.argsort(-importance, kind="stable")
    return [names[j] for j in order[: max_display - 1]], order[max_display - 1 :]


# ---------------------------------------------------------------- bar
def test_bar_draws_mean_abs_value_per_feature(exp):
    fig, ax = plots.bar(exp, max_display=6)
    importance = np.abs(exp.values).mean(0)
    top, rest = order_by(importance, exp.feature_names, 6)
    assert tick_labels(ax) == top + ["Sum of 7 other features"]
    bars = ax.patches
    assert len(bars) == 6
    widths = [b.get_width() for b in bars]
    np.testing.assert_allclose(widths[:-1], np.sort(importance)[::-1][:5])
    np.testing.assert_allclose(widths[-1], importance[rest].sum())
    assert len(ax.texts) == 6 and ax.get_xlabel() == "mean(|value|)"
    assert_fits(fig)


def test_bar_of_one_row_is_signed_and_shows_all_when_few(exp):
    row = exp[0, :5]
    fig, ax = plots.bar(row)
    assert len(ax.patches) == 5 and "other features" not in " ".join(tick_labels(ax))
    widths = np.array([b.get_width() for b in ax.patches])
    np.testing.assert_allclose(np.sort(np.abs(widths))[::-1], np.abs(widths))
    np.testing.assert_allclose(np.sort(widths), np.sort(row.values))
    red = [b.get_facecolor()[0] > 0.9 for b in ax.patches]
    assert red == [w >= 0 for w in widths]
    assert_fits(fig)


# ---------------------------------------------------------------- waterfall
def test_waterfall_runs_from_base_value_to_output(exp):
    row = exp[3]
    fig, ax = plots.waterfall(row, max_display=5)
    base, fx = float(row.base_values), float(row.base_values + row.values.sum())
    bars = ax.patches
    assert len(bars) == 5
    top, _ = order_by(np.abs(row.values), exp.feature_names, 5)
    labels = tick_labels(ax)
    assert labels[-1] == "8 other features"
    for label, name, j in zip(labels, top, np.argsort(-np.abs(row.values)), strict=False):
        assert label == f"{name} = {row.data[j]:.4g}"
    # bottom bar starts at the base value, each bar starts where the one below ends
    starts = [b.get_x() for b in bars]
    ends = [b.get_x() + b.get_width() for b in bars]
    np.testing.assert_allclose(starts[-1], base)
    np.testing.assert_allclose(starts[:-1], ends[1:])
    np.testing.assert_allclose(ends[0], fx)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [f"f(x) = {fx:.3g}", f"E[f(X)] = {base:.3g}"]
    assert_fits(fig)


def test_waterfall_needs_one_row(exp):
    with pytest.raises(ValueError, match=r"one row \(pass exp\[i\]\)"):
        plots.waterfall(exp)


# ---------------------------------------------------------------- beeswarm
def test_beeswarm_draws_every_row_coloured_by_data(exp):
    n = len(exp)
    fig, ax = plots.beeswarm(exp, max_display=8)
    importance = np.abs(exp.values).mean(0)
    top, rest = order_by(importance, exp.feature_names, 8)
    assert tick_labels(ax) == top + ["Sum of 5 other features"]
    dots = ax.collections
    assert len(dots) == 8 and all(len(d.get_offsets()) == n for d in dots)
    order = np.argsort(-importance, kind="stable")
    np.testing.assert_allclose(dots[0].get_offsets()[:, 0], exp.values[:, order[0]])
    np.testing.assert_allclose(dots[-1].get_offsets()[:, 0], exp.values[:, rest].sum(1))
    # the row with the highest data value of the top feature is the reddest
    reds = dots[0].get_facecolors()[:, 0]
    assert reds[np.argmax(exp.data[:, order[0]])] == reds.max()
    colorbar = fig.axes[1]
    assert [t.get_text() for t in colorbar.get_yticklabels()] == ["Low", "High"]
    assert colorbar.get_ylabel() == "Feature value"
    assert_fits(fig)


def test_beeswarm_without_data_is_grey_without_colour_bar(exp):
    bare = xf.Explanation(exp.values, exp.base_values, feature_names=exp.feature_names)
    fig, ax = plots.beeswarm(bare, max_display=20)
    assert len(ax.collections) == 12 and len(fig.axes) == 1
    np.testing.assert_allclose(ax.collections[0].get_facecolors()[:, :3], 0.6)
    assert_fits(fig)


# ---------------------------------------------------------------- scatter
def test_scatter_plots_data_against_value(exp):
    fig, ax = plots.scatter(exp, "x2")
    np.testing.assert_allclose(
        ax.collections[0].get_offsets(), np.c_[exp.data[:, 2], exp.values[:, 2]]
    )
    assert ax.get_xlabel() == "x2" and ax.get_ylabel() == "value for x2" and len(fig.axes) == 1
    assert_fits(fig)


def test_scatter_coloured_by_another_feature(exp, rng):
    fig, ax = plots.scatter(exp, 1, color=LONG)
    np.testing.assert_allclose(ax.collections[0].get_array(), exp.data[:, 4])
    assert fig.axes[1].get_ylabel().replace("\n", "") == LONG
    assert_fits(fig)
    fig, ax = plots.scatter(exp, LONG, color=rng.normal(size=len(exp)))
    assert len(fig.axes) == 2
    assert_fits(fig)
    with pytest.raises(ValueError, match="color has 3 values for 40 rows"):
        plots.scatter(exp, 0, color=[1, 2, 3])
    with pytest.raises(ValueError, match="needs the explained rows' data"):
        plots.scatter(xf.Explanation(exp.values, exp.base_values), 0)


# ---------------------------------------------------------------- tabular errors
@pytest.mark.parametrize("plot", ["bar", "waterfall", "beeswarm", "scatter"])
def test_output_axis_asks_to_pick_an_output(exp, plot):
    two = xf.Explanation(
        np.stack([exp.values, -exp.values], -1), np.zeros((len(exp), 2)), exp.data,
        exp.feature_names, ["no", "yes"],
    )  # fmt: skip
    args = {"bar": (two,), "waterfall": (two[0],), "beeswarm": (two,), "scatter": (two, 0)}
    with pytest.raises(ValueError, match=r"2 outputs \(no, yes\); pick one with exp\[\.\.\., k\]"):
        getattr(plots, plot)(*args[plot])


def test_show_calls_pyplot_show(exp, monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(True))
    fig, ax = plots.bar(exp, show=True)
    assert shown == [True] and ax.figure is fig


def test_shap_explanations_are_accepted(exp):
    pytest.importorskip("shap")
    fig, ax = plots.bar(exp.to_shap(), max_display=4)
    assert len(ax.patches) == 4


# ---------------------------------------------------------------- image
def test_image_sums_channels_on_a_symmetric_scale(rng):
    attr = rng.normal(size=(3, 12, 16))
    img = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    fig, ax = plots.image(attr, img)
    heat = ax.images[-1]
    np.testing.assert_allclose(heat.get_array(), attr.sum(0))
    lo, hi = heat.get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(attr.sum(0)).max())
    assert len(ax.images) == 2 and len(fig.axes) == 2
    assert fig.axes[1].get_ylabel() == "attribution (sum over 3 channels)"
    assert_fits(fig)


def test_image_shows_a_features_value_once_and_keeps_the_image_visible(rng):
    plt = pytest.importorskip("matplotlib.pyplot")
    value = rng.normal(size=(12, 16))
    attr = np.repeat(value[None], 3, axis=0)  # KernelShap's form: every channel the value
    img = rng.random((3, 12, 16))
    fig, ax = plots.image(attr, img)
    np.testing.assert_allclose(ax.images[-1].get_array(), value)  # not 3 x the value
    assert fig.axes[-1].get_ylabel() == "attribution (each channel's)"
    cmap = ax.images[-1].get_cmap()
    assert cmap(0.5)[3] < 0.05 and cmap(0.0)[3] == 1.0  # transparent at zero, opaque at ends
    plt.tight_layout()  # no layout engine of our own: the user's call works
    _, own = plt.subplots()
    fig2, ax2 = plots.image(value, ax=own)
    assert ax2 is own and len(own.images) == 1
    mean = plots.image(rng.normal(size=(3, 12, 16)), channels="mean")[0]
    assert mean.axes[-1].get_ylabel() == "attribution (mean over 3 channels)"
    with pytest.raises(ValueError, match="channels must be"):
        plots.image(attr, channels="median")


def test_image_grid_rows_of_images_and_columns_of_outputs(rng):
    imgs = rng.integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    per_output = [rng.normal(size=(3, 8, 8, 3)) for _ in range(2)]
    fig, axes = plots.image(per_output, imgs, labels=["cat", "dog"])
    assert axes.shape == (3, 3) and axes[0, 1].get_title() == "cat"
    assert len(axes[2, 2].images) == 2  # grey image under the map
    lims = {im.get_clim() for row in axes[:, 1:] for a in row for im in a.images[-1:]}
    assert len(lims) == 1  # one scale for the whole grid
    fig, axes = plots.image(rng.normal(size=(2, 1, 8, 8)))  # a batch, no image: one column
    assert axes.shape == (2, 1)
    with pytest.raises(ValueError, match="labels has 1 names for 2 outputs"):
        plots.image(per_output, imgs, labels=["cat"])


@pytest.mark.parametrize("layout", ["hw", "chw", "hwc", "torch"])
def test_image_layouts(rng, layout):
    a = rng.normal(size=(10, 14))
    arr = {"hw": a, "chw": a[None], "hwc": a[..., None], "torch": a[None]}[layout]
    if layout == "torch":
        torch = pytest.importorskip("torch")
        arr = torch.from_numpy(arr)
    fig, ax = plots.image(arr)
    assert len(ax.images) == 1
    np.testing.assert_allclose(ax.images[0].get_array(), a)
    assert_fits(fig)


def test_image_checks_sizes(rng):
    with pytest.raises(ValueError, match="10 x 14 pixels but the image is 8 x 8"):
        plots.image(rng.normal(size=(10, 14)), rng.random((8, 8)))
    with pytest.raises(ValueError, match=r"\(H, W\), \(C, H, W\) or \(H, W, C\)"):
        plots.image(rng.normal(size=(10,)))


# ---------------------------------------------------------------- text
def test_text_highlights_each_token(rng):
    tokens = ["The", "film", "was", "<not>", "good"]
    values = rng.normal(size=5)
    values[3] = -2 * np.abs(values).max()  # the strongest, negative
    out = plots.text(tokens, values)
    assert isinstance(out, str) and out._repr_html_() == str(out)
    assert out.count("<span") == 5 and "&lt;not&gt;" in out and "<not>" not in out
    for v in values:
        assert f'title="{v:+.3g}"' in out
    assert "rgba(0, 139, 251, 0.750)" in out  # full-strength blue on the strongest
    assert "</span> <span" in out  # tokens without their own spaces are joined by one


def test_text_keeps_token_whitespace_and_checks_lengths():
    out = plots.text(["Hello", " world", "!"], [0.5, -0.5, 0.0])
    assert "</span><span" in out
    with pytest.raises(ValueError, match="3 tokens but values of shape"):
        plots.text(["a", "b", "c"], [1.0, 2.0])


# ---------------------------------------------------------------- import
def test_importing_plots_does_not_import_matplotlib():
    code = (
        "import sys, xai_fast, xai_fast.plots\n"
        "heavy = [m for m in ('matplotlib', 'pandas', 'shap') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
