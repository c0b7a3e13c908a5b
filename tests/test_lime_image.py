"""LimeImageExplainer against lime's and on its own: segments, samples, weights, masks, errors."""

from __future__ import annotations

import numpy as np
import pytest

from xai_fast import ImageExplanation, LimeImageExplainer, SegmentationAlgorithm
from xai_fast.sampling.lime_draws import image_masks


def _grid(image, side=6):
    """Superpixels: ``side`` x ``side`` pixel blocks."""
    H, W = image.shape[:2]
    r, c = np.meshgrid(np.arange(H) // side, np.arange(W) // side, indexing="ij")
    return r * ((W + side - 1) // side) + c


def _smooth_image(rng, H=24, W=24):
    """A random RGB image in 0..255 (floats): coarse blocks of 5 pixels plus noise."""
    coarse = rng.uniform(0, 215, size=(H // 5 + 1, W // 5 + 1, 3))
    return np.kron(coarse, np.ones((5, 5, 1)))[:H, :W] + rng.uniform(0, 40, size=(H, W, 3))


def _linear_classifier(rng, M, seg):
    """Class probabilities from a softmax of each superpixel's mean squared brightness."""
    a = rng.normal(size=(M, 3))

    def fn(imgs):
        lum = (imgs.mean(-1).reshape(len(imgs), -1) / 255.0) ** 2 * 4  # changes under means
        counts = np.bincount(seg.ravel(), minlength=M)
        means = np.stack([np.bincount(seg.ravel(), x, minlength=M) for x in lum]) / counts
        z = means @ a
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    return fn


def _weights(exp, label):
    return dict(exp.local_exp[label])


def test_same_as_lime_with_grid_segments(rng):
    lime_image = pytest.importorskip("lime.lime_image")
    img = _smooth_image(rng)
    seg = _grid(img)
    fn = _linear_classifier(rng, int(seg.max()) + 1, seg)
    seed = int(rng.integers(0, 2**31))
    kw = dict(num_samples=300, segmentation_fn=lambda im: seg, top_labels=3)
    ref = lime_image.LimeImageExplainer(random_state=seed).explain_instance(img, fn, **kw)
    ours = LimeImageExplainer(random_state=seed).explain_instance(img, fn, **kw)
    assert list(ref.top_labels) == ours.top_labels
    for label in ours.top_labels:
        a, b = _weights(ref, label), _weights(ours, label)
        assert a.keys() == b.keys()
        np.testing.assert_allclose([b[k] for k in a], list(a.values()), rtol=1e-7, atol=1e-10)
        assert abs(ref.intercept[label] - ours.intercept[label]) < 1e-8
    assert abs(ref.score - ours.score) < 1e-8
    np.testing.assert_allclose(ours.local_pred, ref.local_pred, atol=1e-8)
    for opts in (
        {}, {"positive_only": False}, {"hide_rest": True, "num_features": 3},
        {"positive_only": False, "negative_only": True, "min_weight": 1e-4},
        {"positive_only": False, "min_weight": 1e-3, "num_features": 8},
    ):  # fmt: skip
        ours.local_exp = {k: list(v) for k, v in ref.local_exp.items()}  # the same values
        ia, ma = ref.get_image_and_mask(ref.top_labels[0], **opts)
        ib, mb = ours.get_image_and_mask(ours.top_labels[0], **opts)
        assert ia.dtype == ib.dtype and ma.dtype == mb.dtype
        np.testing.assert_array_equal(ib, ia)
        np.testing.assert_array_equal(mb, ma)


def test_default_quickshift_segments_and_hide_color_like_lime(rng):
    pytest.importorskip("skimage")
    lime_image = pytest.importorskip("lime.lime_image")
    img = _smooth_image(rng, 30, 30).astype(np.uint8)
    ours_seg = (
        LimeImageExplainer(random_state=0)
        .explain_instance(
            img, lambda x: np.tile([[0.3, 0.7]], (len(x), 1)), num_samples=20, top_labels=None
        )
        .segments
    )
    seg = SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200, ratio=0.2)(img)
    np.testing.assert_array_equal(ours_seg, seg)
    fn = _linear_classifier(rng, int(seg.max()) + 1, seg)
    kw = dict(num_samples=200, hide_color=0, top_labels=2)
    ref = lime_image.LimeImageExplainer(random_state=5).explain_instance(img, fn, **kw)
    ours = LimeImageExplainer(random_state=5).explain_instance(img, fn, **kw)
    np.testing.assert_array_equal(ours.segments, ref.segments)
    for label in ours.top_labels:
        a, b = _weights(ref, label), _weights(ours, label)
        np.testing.assert_allclose([b[k] for k in a], list(a.values()), rtol=1e-7, atol=1e-10)


def test_many_images_segment_the_first_on_every_core_the_rest_on_one_thread(rng, monkeypatch):
    """The default quickshift in explain_instances: the first image's bands on every core,
    later images one thread each beside the classifier; the segments are scikit-image's."""
    skimage_segmentation = pytest.importorskip("skimage.segmentation")
    import xai_fast.masking.quickshift as qs

    caps, real = [], qs._by_bands

    def spy(H, W, rows, threads=None):
        caps.append(threads)
        return real(H, W, rows, threads)

    monkeypatch.setattr(qs, "_by_bands", spy)
    imgs = [_smooth_image(rng, 40, 40).astype(np.uint8) for _ in range(4)]
    out = LimeImageExplainer(random_state=0).explain_instances(
        imgs, lambda x: np.tile([[0.3, 0.7]], (len(x), 1)), num_samples=20, top_labels=None
    )
    assert sorted(caps, key=str) == [1] * 6 + [None] * 2  # densities and parents per image
    for img, exp in zip(imgs, out, strict=True):
        want = skimage_segmentation.quickshift(img, kernel_size=4, max_dist=200, ratio=0.2)
        np.testing.assert_array_equal(exp.segments, want)


def test_one_superpixel_classifier_puts_it_on_top(rng):
    img = _smooth_image(rng)
    seg = _grid(img)
    target = int(rng.integers(0, seg.max() + 1))
    ref = img[seg == target].mean()

    def fn(imgs):  # class 1 is likely while superpixel `target` keeps its pixels
        kept = np.abs(imgs[:, seg == target].mean(axis=(1, 2)) - ref) < 1e-9
        p = np.where(kept, 0.9, 0.2)
        return np.stack([1 - p, p], 1)

    exp = LimeImageExplainer(random_state=1).explain_instance(
        img, fn, labels=(1,), top_labels=None, hide_color=-1.0, num_samples=400,
        segmentation_fn=lambda im: seg,
    )  # fmt: skip
    f, w = exp.local_exp[1][0]
    assert f == target and w > 0.5
    _, mask = exp.get_image_and_mask(1, num_features=1)
    np.testing.assert_array_equal(mask, (seg == target).astype(mask.dtype))


def test_seeds_batches_and_sample_draws(rng):
    imgs = [_smooth_image(rng) for _ in range(3)]
    seg = _grid(imgs[0])
    fn = _linear_classifier(rng, int(seg.max()) + 1, seg)
    kw = dict(num_samples=120, segmentation_fn=lambda im: seg, top_labels=2, batch_size=7)
    seed = int(rng.integers(0, 2**31))
    many = LimeImageExplainer(random_state=seed).explain_instances(imgs, fn, **kw)
    one = LimeImageExplainer(random_state=seed)
    singles = [one.explain_instance(im, fn, **kw) for im in imgs]
    again = LimeImageExplainer(random_state=seed).explain_instances(np.stack(imgs), fn, **kw)
    for a, b, c in zip(many, singles, again, strict=True):
        assert isinstance(a, ImageExplanation)
        assert a.local_exp.keys() == b.local_exp.keys() == c.local_exp.keys()
        for label in a.local_exp:  # same samples; BLAS may round the model's outputs apart
            wa = [_weights(e, label) for e in (a, b, c)]
            for other in wa[1:]:
                np.testing.assert_allclose([other[k] for k in wa[0]], list(wa[0].values()),
                                           rtol=1e-9, atol=1e-12)  # fmt: skip
    rs = np.random.RandomState(seed)
    rs.randint(0, 1000)
    Z = np.random.RandomState(seed)
    Z.randint(0, 1000)
    np.testing.assert_array_equal(
        image_masks(rs, 50, 9)[1:], Z.randint(0, 2, 450).reshape(50, 9)[1:]
    )


def test_classifier_is_called_in_batches_of_batch_size(rng):
    img = _smooth_image(rng)
    seg = _grid(img)
    sizes = []

    def fn(x):
        sizes.append(len(x))
        return np.tile([[0.5, 0.5]], (len(x), 1))

    LimeImageExplainer(random_state=0).explain_instances(
        [img, img], fn, num_samples=25, batch_size=10, segmentation_fn=lambda im: seg,
        top_labels=None, labels=(0,),
    )  # fmt: skip
    assert sizes == [10, 10, 10, 10, 10]


def test_bad_inputs_raise_helpful_errors(rng):
    img = _smooth_image(rng)
    seg = _grid(img)
    ex = LimeImageExplainer(random_state=0)
    ok = lambda x: np.tile([[0.5, 0.5]], (len(x), 1))  # noqa: E731
    kw = dict(segmentation_fn=lambda im: seg, num_samples=20)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        ex.explain_instance(np.zeros((2, 3, 4, 5)), ok, **kw)
    with pytest.raises(ValueError, match="shape"):
        ex.explain_instance(img, lambda x: np.zeros(len(x)), **kw)
    with pytest.raises(ValueError, match="NaN"):
        ex.explain_instance(img, lambda x: np.full((len(x), 2), np.nan), **kw)
    with pytest.raises(ValueError, match="distance_metric"):
        ex.explain_instance(img, ok, distance_metric="no-such-metric", **kw)
    with pytest.raises(ValueError, match="integer labels of shape"):
        ex.explain_instance(img, ok, segmentation_fn=lambda im: seg[:5], num_samples=20)
    with pytest.raises(TypeError, match="callable"):
        ex.explain_instance(img, "model", **kw)
    exp = ex.explain_instance(img, ok, top_labels=1, **kw)
    with pytest.raises(ValueError, match="cannot both"):
        exp.get_image_and_mask(exp.top_labels[0], positive_only=True, negative_only=True)
    with pytest.raises(KeyError, match="not in the explanation"):
        ex.explain_instance(img, ok, top_labels=None, labels=(1,), **kw).get_image_and_mask(0)
    with pytest.raises(TypeError, match="random_state"):
        LimeImageExplainer(random_state="seed")


def test_segmentation_algorithm_checks_parameters():
    pytest.importorskip("skimage")
    with pytest.raises(ValueError, match="algo_type"):
        SegmentationAlgorithm("watershed")
    with pytest.raises(ValueError, match="not parameters"):
        SegmentationAlgorithm("slic", no_such_option=3)
    seg = SegmentationAlgorithm("slic", n_segments=10, random_seed=3)  # lime's extra: dropped
    assert "random_seed" not in seg.target_params


def test_base_wrapper_checks_and_filters_parameters():
    from xai_fast.compat.lime_segmentation import BaseWrapper

    def fn(a, b, c=True):
        return a + b if c else a

    class Greeter:
        def __call__(self, message):
            return message

    w = BaseWrapper(fn, a=1, b=2, d=3)
    assert w.filter_params(fn) == {"a": 1, "b": 2}
    assert w.filter_params(fn, override={"c": False}) == {"a": 1, "b": 2, "c": False}
    w._check_params(["a", "c"])
    with pytest.raises(ValueError, match="'d' is not a parameter"):
        w._check_params(["d"])
    with pytest.raises(TypeError, match="list or dict"):
        w._check_params("a")
    g = BaseWrapper(Greeter())
    g.set_params(message="hi")
    assert g.target_fn(**g.target_params) == "hi"
    with pytest.raises(ValueError):
        g.set_params(other=1)
    with pytest.raises(AttributeError):
        BaseWrapper([1, 2])._check_params(["x"])
    assert isinstance(SegmentationAlgorithm("slic", n_segments=4), BaseWrapper)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int16, np.float16, np.float32, np.float64, np.complex128, np.bool_]
)
def test_perturbed_images_copy_every_dtype_bit_for_bit(rng, backend, dtype):
    """Each sample shows the image's pixels where its superpixel is kept and the fudged image's
    elsewhere, in the image's dtype (oracle: a loop over samples and pixels)."""
    from xai_fast.backends import get_backend
    from xai_fast.masking.lime_image import perturbed_images

    H, W, C, M = int(rng.integers(3, 9)), int(rng.integers(3, 9)), int(rng.integers(1, 5)), 5
    image, fudged = (
        (rng.normal(size=(H, W, C)) * 100 + 1j * rng.normal(size=(H, W, C))).astype(dtype)
        if dtype == np.complex128 else (rng.normal(size=(H, W, C)) * 100).astype(dtype)
        for _ in range(2)
    )  # fmt: skip
    segments = rng.integers(0, M, (H, W))
    Z = rng.integers(0, 2, (11, M))
    fill = get_backend(backend).fill_superpixel_images
    got = perturbed_images(image, fudged, segments, Z, fill)
    assert got.dtype == image.dtype and got.shape == (11, H, W, C) and got.flags.c_contiguous
    for s in range(11):
        for h in range(H):
            for w in range(W):
                want = image[h, w] if Z[s, segments[h, w]] else fudged[h, w]
                assert got[s, h, w].tobytes() == want.tobytes()
    assert perturbed_images(image, fudged, segments, Z[:0], fill).shape == (0, H, W, C)


def test_explain_instance_takes_silent(rng, capsys):
    img = _smooth_image(rng)
    seg = _grid(img)
    fn = _linear_classifier(rng, int(seg.max()) + 1, seg)
    seed = int(rng.integers(0, 2**31))
    kw = dict(num_samples=60, segmentation_fn=lambda im: seg, top_labels=None, labels=(0,))
    a = LimeImageExplainer(random_state=seed).explain_instance(img, fn, silent=True, **kw)
    b = LimeImageExplainer(random_state=seed).explain_instances([img], fn, silent=True, **kw)
    assert a.local_exp == b[0].local_exp
    assert capsys.readouterr().err == ""
    assert LimeImageExplainer().explain_instances([], fn) == []  # nothing to explain
    with pytest.raises(TypeError, match="unexpected keyword"):
        LimeImageExplainer().explain_instance(img, fn, num_sample=10)
