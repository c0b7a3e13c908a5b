"""lime's image perturbations, built for a whole chunk of samples at once: superpixels switched
off take the colour of a "fudged" image (each superpixel's mean colour, or ``hide_color``)."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

__all__ = ["as_rgb", "check_segments", "fudged_image", "perturbed_images", "warn_if_channels_first"]


def as_rgb(image) -> np.ndarray:
    """``image`` as ``(H, W, C)``: a grey ``(H, W)`` image gets three equal channels (lime's
    ``gray2rgb``). ValueError for any other shape, TypeError for a non-numeric array."""
    img = np.asarray(image)
    if not (np.issubdtype(img.dtype, np.number) or img.dtype == bool):
        raise TypeError(f"image must be a numeric array; got dtype {img.dtype}.")
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.ndim != 3 or min(img.shape) == 0:
        raise ValueError(
            f"image must have shape (H, W) or (H, W, C) (channels last, as lime takes it); got "
            f"{img.shape}. For a channels-first image use np.moveaxis(image, 0, -1); for a "
            "batch use explain_instances."
        )
    return img


def warn_if_channels_first(img: np.ndarray) -> None:
    """Warn (at the caller's line outside this package) when an ``(H, W, C)`` image looks like
    a channels-first one: 1, 3 or 4 "rows" and an unusual channel count."""
    if img.shape[0] in (1, 3, 4) and img.shape[2] not in (1, 3, 4) and min(img.shape[1:]) > 4:
        warnings.warn(
            f"the image has shape {img.shape}: it looks channels-first ({img.shape[0]} "
            f"channels of {img.shape[1]}x{img.shape[2]}), but is read channels-last (height "
            f"{img.shape[0]}, {img.shape[2]} channels), as lime reads it. Pass "
            "np.moveaxis(image, 0, -1) if it is channels-first.",
            stacklevel=_outside_package(),
        )


def _outside_package() -> int:
    """The ``stacklevel`` of the innermost caller outside this package (for ``warnings.warn``
    called from this module)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def check_segments(segments, shape) -> np.ndarray:
    """Superpixel labels ``(H, W)`` numbered ``0 .. M - 1``: labels of another form (gaps,
    negative values) are renumbered in increasing order."""
    seg = np.asarray(segments)
    if seg.shape != tuple(shape[:2]) or not np.issubdtype(seg.dtype, np.integer):
        raise ValueError(
            f"the segmentation must return integer labels of shape {tuple(shape[:2])} (the "
            f"image's height and width); got {seg.dtype} of shape {seg.shape}."
        )
    uniq = np.unique(seg)
    if uniq[0] != 0 or uniq[-1] != len(uniq) - 1:
        seg = np.searchsorted(uniq, seg).astype(seg.dtype)
    return seg


def fudged_image(image, segments, hide_color) -> np.ndarray:
    """What a switched-off pixel shows: ``(H, W, C)`` in ``image``'s dtype.

    ``hide_color=None``: the mean of each channel over the pixel's superpixel (cast to the
    image's dtype, as lime assigns it); else ``hide_color`` everywhere.
    """
    if hide_color is not None:
        color = np.asarray(hide_color)
        if color.ndim > 1 or (color.ndim == 1 and color.shape[0] not in (1, image.shape[2])):
            raise ValueError(
                f"hide_color must be one number or one value per channel ({image.shape[2]} "
                f"here); got {hide_color!r}."
            )
        out = np.empty_like(image)
        out[:] = color
        return out
    M = int(segments.max()) + 1
    flat = segments.ravel()
    counts = np.bincount(flat, minlength=M).astype(np.float64)  # (M,)
    pix = image.reshape(-1, image.shape[2]).astype(np.float64)  # (H*W, C)
    sums = np.stack([np.bincount(flat, pix[:, c], minlength=M) for c in range(pix.shape[1])], 1)
    means = sums / np.maximum(counts, 1)[:, None]  # (M, C)
    return means[segments].astype(image.dtype)


def _pixel_words(img: np.ndarray) -> np.ndarray:
    """An ``(H, W, C)`` array's pixels as unsigned words of its item size, ``(H * W, C')``,
    so that one compiled copy serves every dtype bit for bit."""
    size = img.dtype.itemsize
    word = f"u{size}" if size in (1, 2, 4, 8) else ("u8" if size % 8 == 0 else "u1")
    return img.reshape(img.shape[0] * img.shape[1], -1).view(word)


def perturbed_images(image, fudged, segments, Z, fill) -> np.ndarray:
    """The images of the samples ``Z`` ``(B, M)`` (1: superpixel kept): ``(B, H, W, C)``
    in ``image``'s dtype, C-contiguous, written by ``fill`` (a backend's
    ``fill_superpixel_images``)."""
    image = np.ascontiguousarray(image)
    fudged = np.ascontiguousarray(fudged, dtype=image.dtype)
    out = np.empty((len(Z), *image.shape), dtype=image.dtype)
    words = _pixel_words(image)
    fill(
        words, _pixel_words(fudged), np.ascontiguousarray(segments.ravel(), dtype=np.intp),
        np.asarray(Z) != 0, out.view(words.dtype).reshape(len(Z), *words.shape),
    )  # fmt: skip
    return out
