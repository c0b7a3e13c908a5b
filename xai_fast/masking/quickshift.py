"""``quickshift``: scikit-image's quickshift segmentation on compiled kernels.

The same arguments and the same segments as ``skimage.segmentation.quickshift`` (scikit-image
0.20 and later, which break density ties with ``numpy.random.default_rng(rng)``): the image is
prepared by scikit-image's own functions (float conversion, Lab, Gaussian smoothing) and the two
passes over every pixel's window run as the Numba kernels of
:mod:`xai_fast.masking.quickshift_numba`, about twice as fast as scikit-image's loops. Lime's
default segmentation, and :class:`~xai_fast.SegmentationAlgorithm` ``("quickshift")``, use it.
"""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["quickshift", "replaces_skimage"]


def replaces_skimage(skimage_quickshift) -> bool:
    """Whether this module reproduces ``skimage_quickshift``: scikit-image's versions that
    seed their tie-breaking noise from ``rng`` (older ones took ``random_seed``)."""
    try:
        return "rng" in inspect.signature(skimage_quickshift).parameters
    except (TypeError, ValueError):
        return False


def quickshift(
    image, ratio=1.0, kernel_size=5, max_dist=10, return_tree=False, sigma=0,
    convert2lab=True, rng=42, *, channel_axis=-1,
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
    rng : int or numpy Generator
        Seed of the tiny noise that breaks ties between equal densities.
    channel_axis : int

    Returns
    -------
    segments : ndarray of intp, shape (H, W)
        Labels ``0 .. n_segments - 1``. With ``return_tree``, and for single-precision
        images (which scikit-image segments in single precision), scikit-image's own result.
    """
    from skimage.color import rgb2lab
    from skimage.filters import gaussian
    from skimage.util import img_as_float

    from ..backends import get_backend

    img = img_as_float(np.atleast_3d(image))
    if return_tree or img.dtype != np.float64:  # its tree; its single-precision arithmetic
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
    kernels = get_backend()
    dens = kernels.quickshift_densities(img, float(kernel_size))
    dens += np.random.default_rng(rng).normal(scale=0.00001, size=(H, W))
    parent = kernels.quickshift_parents(img, dens, float(kernel_size), float(max_dist))
    while True:  # each pixel to the root of its tree
        up = parent[parent]
        if np.array_equal(up, parent):
            break
        parent = up
    return np.unique(parent, return_inverse=True)[1].reshape(H, W)
