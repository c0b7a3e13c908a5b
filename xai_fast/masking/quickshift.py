"""``quickshift``: scikit-image's quickshift segmentation on compiled kernels.

The same arguments and the same segments as ``skimage.segmentation.quickshift`` (the versions
whose quickshift takes ``rng``; each density starts from ``numpy.random.default_rng(rng)``
noise that breaks ties): the image is prepared by scikit-image's own functions (float
conversion, Lab, Gaussian smoothing) and the two passes over every pixel's window run as the
Numba kernels of :mod:`xai_fast.masking.quickshift_numba`, in bands of rows on every core.
Lime's default segmentation, and :class:`~xai_fast.SegmentationAlgorithm` ``("quickshift")``,
use it.
"""

from __future__ import annotations

import inspect
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["quickshift", "replaces_skimage"]


def replaces_skimage(skimage_quickshift) -> bool:
    """Whether this module reproduces ``skimage_quickshift``: scikit-image's versions that
    seed their tie-breaking noise from ``rng`` (older ones took ``random_seed``)."""
    try:
        return "rng" in inspect.signature(skimage_quickshift).parameters
    except (TypeError, ValueError):
        return False


#: Images of at least this many pixels are split into bands of rows, one thread each.
MIN_PIXELS_PER_THREAD = 2048


def _by_bands(H, W, rows, threads=None):
    """``rows(a, b)`` over bands of rows ``[a, b)`` covering ``0 .. H - 1``, on ``threads``
    threads (``None``: one per core; every pixel's result depends on the image alone, so the
    bands give what one call gives), joined along the first axis."""
    cap = threads or os.cpu_count() or 1
    n = max(1, min(cap, H, H * W // MIN_PIXELS_PER_THREAD))
    if n == 1:
        return rows(0, H)
    edges = np.linspace(0, H, n + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n) as pool:  # the kernels release the GIL
        parts = list(pool.map(rows, edges[:-1], edges[1:]))
    return np.concatenate(parts)


def quickshift(
    image, ratio=1.0, kernel_size=5, max_dist=10, return_tree=False, sigma=0,
    convert2lab=True, rng=42, *, channel_axis=-1, threads=None,
):  # fmt: skip
    """Segment ``image`` by quickshift mode seeking in colour-(row, column) space.

    Parameters
    ----------
    image : ndarray, shape (H, W, C)
        Channels on ``channel_axis``; RGB when ``convert2lab``.
    ratio : float
        Weight of colour against position.
    kernel_size : float
        Width of the Gaussian kernel of the density (at least 1).
    max_dist : float
        Links longer than this are cut.
    return_tree : bool
        Also return the parent of every pixel and the length of its link.
    sigma : float
        Gaussian smoothing of the image first (0: none).
    convert2lab : bool
        Convert RGB to Lab first.
    rng : int
        Seed of the tiny noise that breaks ties between equal densities (anything else goes
        to scikit-image, which decides what to do with it).
    channel_axis : int
    threads : int or None
        Threads to segment on (ours; scikit-image has no such argument). ``None``: one per
        core; 1 when other work already keeps the cores busy.

    Returns
    -------
    segments : ndarray of intp, shape (H, W)
        Labels ``0 .. n_segments - 1``. With ``return_tree``, a non-integer ``rng``, and for
        single-precision images (which scikit-image segments in single precision),
        scikit-image's own result.
    """
    from skimage.color import rgb2lab
    from skimage.filters import gaussian
    from skimage.util import img_as_float

    from ..backends import get_backend

    ok = isinstance(threads, numbers.Integral) and not isinstance(threads, bool) and threads >= 1
    if threads is not None and not ok:
        raise ValueError(f"threads must be None or an int >= 1; got {threads!r}.")
    img = img_as_float(np.atleast_3d(image))
    seeded = isinstance(rng, numbers.Integral) and not isinstance(rng, bool)
    if return_tree or img.dtype != np.float64 or not seeded:
        # its tree; its single-precision arithmetic; what it does with another rng
        from skimage.segmentation import quickshift as skimage_quickshift

        return skimage_quickshift(
            image, ratio, kernel_size, max_dist, return_tree, sigma, convert2lab, rng,
            channel_axis=channel_axis,
        )  # fmt: skip
    if img.ndim > 3:
        raise ValueError(f"quickshift segments 2D colour images (H, W, C); got {img.shape}.")
    img = np.moveaxis(img, channel_axis, -1)
    if convert2lab:
        if img.shape[-1] != 3:
            raise ValueError(
                f"convert2lab=True needs RGB images (3 channels); got {img.shape[-1]}. Pass "
                "convert2lab=False for other images."
            )
        img = rgb2lab(img)
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be at least 1; got {kernel_size}.")
    img = gaussian(img, sigma=[sigma, sigma, 0], mode="reflect", channel_axis=-1)
    img = np.ascontiguousarray(img * ratio, dtype=np.float64)
    H, W, _ = img.shape
    kernels, size = get_backend(), float(kernel_size)
    noise = np.random.default_rng(rng).normal(scale=0.00001, size=(H, W))  # breaks ties
    dens = _by_bands(
        H, W, lambda a, b: kernels.quickshift_densities(img, noise, size, a, b), threads
    )
    parent = _by_bands(
        H,
        W,
        lambda a, b: kernels.quickshift_parents(img, dens, size, float(max_dist), a, b),
        threads,
    )
    while True:  # each pixel to the root of its tree
        up = parent[parent]
        if np.array_equal(up, parent):
            break
        parent = up
    return np.unique(parent, return_inverse=True)[1].reshape(H, W)
