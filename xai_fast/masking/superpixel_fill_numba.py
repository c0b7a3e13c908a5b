"""Perturbed images of image LIME as a Numba kernel; same signature as
:func:`xai_fast.masking.superpixel_fill_ref.fill_superpixel_images`."""

from __future__ import annotations

import numba as nb

__all__ = ["fill_superpixel_images"]


def fill_superpixel_images(image, fudged, segments, keep, out):
    """See :func:`xai_fast.masking.superpixel_fill_ref.fill_superpixel_images`."""
    _fill(image, fudged, segments, keep, out)
    return out


@nb.njit(cache=True, nogil=True)
def _fill(image, fudged, segments, keep, out):
    B, P, C = out.shape
    for b in range(B):
        for p in range(P):
            src = image if keep[b, segments[p]] else fudged
            for c in range(C):
                out[b, p, c] = src[p, c]
