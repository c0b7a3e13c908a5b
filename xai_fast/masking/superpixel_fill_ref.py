"""Perturbed images of image LIME, plain numpy reference.

Sample ``b`` shows pixel ``p`` of the image where its superpixel ``segments[p]`` is kept
(``keep[b, segments[p]]``) and of the "fudged" image elsewhere. The images arrive as unsigned
integers of their item size (:func:`xai_fast.masking.lime_image.perturbed_images` makes the
views), so one kernel copies every dtype bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fill_superpixel_images"]


def fill_superpixel_images(image, fudged, segments, keep, out):
    """Write the images of the samples ``keep`` into ``out``.

    Parameters
    ----------
    image, fudged : ndarray, shape (P, C)
        The image's and the fudged image's pixels, ``P = H * W``.
    segments : ndarray of intp, shape (P,)
        Each pixel's superpixel, ``0 .. M - 1``.
    keep : ndarray of bool, shape (B, M)
        Which superpixels each sample keeps.
    out : ndarray, shape (B, P, C)
        Written in place; also returned.
    """
    shown = keep[:, segments]  # (B, P)
    out[...] = np.where(shown[:, :, None], image[None], fudged[None])
    return out
