"""quickshift on compiled kernels: scikit-image's segments bit for bit, its arguments, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

skimage_segmentation = pytest.importorskip("skimage.segmentation")

from xai_fast.masking import quickshift_numba, quickshift_ref  # noqa: E402
from xai_fast.masking.quickshift import quickshift, replaces_skimage  # noqa: E402

if not replaces_skimage(skimage_segmentation.quickshift):
    pytest.skip("this scikit-image's quickshift seeds its noise otherwise", allow_module_level=True)


def _loop_densities(image, noise, kernel_size):
    """Brute force: every pixel's window, summed term by term with the C library's exp onto
    the pixel's noise."""
    H, W, C = image.shape
    kw = math.ceil(3 * kernel_size)
    out = np.zeros((H, W))
    for r in range(H):
        for c in range(W):
            acc = float(noise[r, c])
            for r_ in range(max(r - kw, 0), min(r + kw + 1, H)):
                for c_ in range(max(c - kw, 0), min(c + kw + 1, W)):
                    d = 0.0
                    for ch in range(C):
                        t = image[r, c, ch] - image[r_, c_, ch]
                        d += t * t
                    d += float(r - r_) ** 2
                    d += float(c - c_) ** 2
                    acc += math.exp(d * (-0.5 / kernel_size**2))
            out[r, c] = acc
    return out


def _image(rng, kind):
    H, W = int(rng.integers(6, 30)), int(rng.integers(6, 30))
    if kind == "uint8":
        return rng.integers(0, 256, (H, W, 3)).astype(np.uint8)
    if kind == "flat":  # equal colours: ties in density and in distance
        im = rng.random((H, W, 3))
        im[:, : W // 2] = 0.25
        im[H // 2 :, :] = 0.75
        return im
    if kind == "wide":  # 0..255 floats: most kernel terms underflow to zero
        return rng.random((H, W, 3)) * 255
    return rng.random((H, W, 3))


def test_densities_equal_a_term_by_term_loop_bit_for_bit(rng):
    image = rng.normal(size=(9, 11, 3)) * rng.uniform(1, 40)
    image[rng.integers(9), rng.integers(11), 1] = np.nan  # NaN spreads, as in scikit-image
    size, noise = float(rng.uniform(1, 2.5)), rng.normal(scale=1e-5, size=(9, 11))
    want = _loop_densities(image, noise, size)
    got = quickshift_numba.quickshift_densities(image, noise, size, 0, 9)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(want).any()  # the NaN pixel's window at least
    # the reference's numpy exp may differ from the C library's in the last bit
    np.testing.assert_allclose(
        quickshift_ref.quickshift_densities(image, noise, size, 0, 9), want, rtol=1e-13
    )


@pytest.mark.parametrize("kernels", [quickshift_ref, quickshift_numba])
def test_bands_of_rows_give_the_rows_of_the_whole(rng, kernels):
    H, W = int(rng.integers(5, 16)), int(rng.integers(3, 12))
    image, size = rng.normal(size=(H, W, 3)) * 0.3, float(rng.uniform(1, 2))  # near colours
    a, b = sorted(rng.choice(np.arange(1, H), 2, replace=False))
    noise = rng.normal(scale=1e-5, size=(H, W))
    whole = kernels.quickshift_densities(image, noise, size, 0, H)
    bands = [kernels.quickshift_densities(image, noise, size, *e) for e in ((0, a), (a, b), (b, H))]
    np.testing.assert_array_equal(np.concatenate(bands), whole)
    dens = whole
    parents = kernels.quickshift_parents(image, dens, size, 3.0, 0, H)
    assert parents.shape == (H * W,) and (parents != np.arange(H * W)).any()
    bands = [kernels.quickshift_parents(image, dens, size, 3.0, *e) for e in ((0, a), (a, H))]
    np.testing.assert_array_equal(np.concatenate(bands), parents)


@pytest.mark.parametrize("kind", ["uint8", "float", "flat", "wide"])
def test_same_segments_as_scikit_image(rng, kind):
    for _ in range(6):
        image = _image(rng, kind)
        kw = dict(
            kernel_size=float(rng.uniform(1, 5)), max_dist=float(rng.choice([4, 10, 200])),
            ratio=float(rng.uniform(0.1, 1)), sigma=float(rng.choice([0, 0, 1.5])),
            rng=int(rng.integers(1000)),
        )  # fmt: skip
        want = skimage_segmentation.quickshift(image, **kw)
        got = quickshift(image, **kw)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_segments_on_photographs_and_lime_defaults(monkeypatch, threads):
    from skimage import data
    from skimage.util import img_as_float

    monkeypatch.setattr("os.cpu_count", lambda: threads)  # bands of rows on each thread
    for image in (img_as_float(data.chelsea()[::4, ::4]), data.coffee()[::5, ::5]):
        for kw in (dict(kernel_size=3, max_dist=6, ratio=0.5),
                   dict(kernel_size=4, max_dist=200, ratio=0.2)):  # fmt: skip
            want = skimage_segmentation.quickshift(image, **kw)
            np.testing.assert_array_equal(quickshift(image, **kw), want)
            # threads= caps the bands below the cores: still the same segments
            np.testing.assert_array_equal(quickshift(image, **kw, threads=threads + 1), want)
            np.testing.assert_array_equal(quickshift(image, **kw, threads=1), want)


def test_threads_caps_the_bands(monkeypatch, rng):
    import xai_fast.masking.quickshift as qs

    pools = []
    real = qs.ThreadPoolExecutor

    def spy(max_workers):
        pools.append(max_workers)
        return real(max_workers=max_workers)

    monkeypatch.setattr(qs, "ThreadPoolExecutor", spy)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    image = rng.random((96, 96, 3))  # 4.5 bands' worth of pixels
    for threads, want in ((None, [4, 4]), (2, [2, 2]), (1, [])):  # densities, then parents
        pools.clear()
        quickshift(image, threads=threads)
        assert pools == want, threads
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be None or an int >= 1"):
            quickshift(rng.random((8, 8, 3)), threads=bad)


def test_grey_channels_first_generators_and_what_goes_to_scikit_image(rng):
    grey = rng.random((12, 15))
    kw = dict(kernel_size=2, max_dist=5, convert2lab=False)
    np.testing.assert_array_equal(
        quickshift(grey, **kw), skimage_segmentation.quickshift(grey, **kw)
    )
    rgb = rng.random((3, 10, 13))
    np.testing.assert_array_equal(
        quickshift(rgb, channel_axis=0), skimage_segmentation.quickshift(rgb, channel_axis=0)
    )
    for other in (np.random.default_rng(int(rng.integers(1000))), None):  # scikit-image's call
        image = rgb[0][..., None].repeat(3, -1)
        try:
            want = skimage_segmentation.quickshift(image, rng=other)
        except TypeError:
            with pytest.raises(TypeError):
                quickshift(image, rng=other)
        else:
            if other is not None:  # None: unseeded noise, segments may differ run to run
                np.testing.assert_array_equal(quickshift(image, rng=other), want)
    single = rng.random((10, 12, 3)).astype(np.float32)  # segmented by scikit-image itself
    np.testing.assert_array_equal(quickshift(single), skimage_segmentation.quickshift(single))
    tree = quickshift(rng.random((8, 9, 3)), return_tree=True)
    assert len(tree) == 3 and tree[0].shape == (8, 9)


class _Noise(np.random.Generator):
    """A generator whose ``normal`` returns given noise (to make near-ties on purpose)."""

    def __init__(self, noise):
        super().__init__(np.random.PCG64(0))
        self.noise = noise

    def normal(self, *args, **kwargs):
        return self.noise.copy()


def test_noise_comes_first_where_densities_nearly_tie(monkeypatch):
    """On a flat image every density is the same sum; with one pixel's noise a few 1e-16 from
    its neighbour's, only adding the noise first, as scikit-image does, gives its parents
    (noise added last changes the segments in about one case in eight here)."""
    H = W = 12
    image = np.full((H, W, 3), 0.3)
    kw = dict(kernel_size=1, max_dist=1, convert2lab=False, rng=0)
    draw = np.random.default_rng
    for seed in range(40):
        base = draw(seed).normal(scale=1e-5, size=(H, W))
        for k in range(-6, 7):
            noise = base.copy()
            noise[6, 6] = noise[5, 6] + k * 1e-16
            monkeypatch.setattr(np.random, "default_rng", lambda *a, n=noise: _Noise(n))
            want = skimage_segmentation.quickshift(image, **kw)
            got = quickshift(image, **kw)
            monkeypatch.setattr(np.random, "default_rng", draw)
            np.testing.assert_array_equal(got, want, err_msg=f"seed {seed}, k {k}")


def test_bad_arguments_raise_clear_errors(rng):
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        quickshift(rng.random((6, 6, 3)), kernel_size=0.5)
    with pytest.raises(ValueError, match="3 channels"):
        quickshift(rng.random((6, 6, 4)))
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        quickshift(rng.random((2, 6, 6, 3)))


def test_segmentation_algorithm_runs_ours_with_lime_parameters(rng):
    from xai_fast import SegmentationAlgorithm

    seg = SegmentationAlgorithm("quickshift", kernel_size=3, max_dist=6, ratio=0.5, random_seed=1)
    assert seg.target_fn is quickshift and "random_seed" not in seg.target_params
    image = rng.random((14, 16, 3))
    np.testing.assert_array_equal(
        seg(image), skimage_segmentation.quickshift(image, kernel_size=3, max_dist=6, ratio=0.5)
    )
