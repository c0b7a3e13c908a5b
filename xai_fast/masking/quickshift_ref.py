"""Quickshift's two passes (Vedaldi and Soatto, 2008), plain numpy reference.

Every pixel ``p`` is a point ``(colour, row, column)``. Its density is the sum over the pixels
``q`` of the window of half-width ``ceil(3 * kernel_size)`` around it of
``exp(-||p - q||**2 / (2 * kernel_size**2))``, the window visited in row-major order. Its
parent is the nearest pixel of the window with a higher density, or the pixel itself when none
is within ``max_dist``. The operations and their order are scikit-image's, so the compiled
kernel gives its segments; this reference evaluates ``exp`` with numpy, whose last bit can
differ from the C library's.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["quickshift_densities", "quickshift_parents"]


def _window(kernel_size):
    return int(math.ceil(3 * kernel_size))


def _offsets(H, W, kw):
    """The window's offsets in row-major order, each with the pixels it stays inside at."""
    rows, cols = np.arange(H)[:, None], np.arange(W)[None, :]
    for dr in range(-kw, kw + 1):
        for dc in range(-kw, kw + 1):
            inside = (rows + dr >= 0) & (rows + dr < H) & (cols + dc >= 0) & (cols + dc < W)
            yield dr, dc, inside


def _squared_distances(image, dr, dc):
    """``||p - q||**2`` from every pixel ``p`` to ``q = p + (dr, dc)`` (clipped at the edges;
    the caller masks those), summed in scikit-image's order: channels, then row, column."""
    H, W, C = image.shape
    r = np.clip(np.arange(H) + dr, 0, H - 1)
    c = np.clip(np.arange(W) + dc, 0, W - 1)
    other = image[r][:, c]
    d = np.zeros((H, W))
    for ch in range(C):
        t = image[:, :, ch] - other[:, :, ch]
        d += t * t
    return d + float(-dr) * float(-dr) + float(-dc) * float(-dc)


def quickshift_densities(image, noise, kernel_size, row_start, row_stop):
    """The kernel density of each pixel of rows ``row_start .. row_stop - 1``.

    Parameters
    ----------
    image : ndarray of float64, shape (H, W, C)
        Colours already scaled by quickshift's ``ratio``.
    noise : ndarray of float64, shape (H, W)
        The tie-breaking noise each sum starts from (scikit-image adds it first).
    kernel_size : float
    row_start, row_stop : int
        The rows computed (bands of rows can run on threads of their own).

    Returns
    -------
    ndarray of float64, shape (row_stop - row_start, W)
    """
    H, W, _ = image.shape
    inv = -0.5 / (kernel_size * kernel_size)
    dens = np.array(noise, dtype=np.float64)
    for dr, dc, inside in _offsets(H, W, _window(kernel_size)):
        dens += np.where(inside, np.exp(_squared_distances(image, dr, dc) * inv), 0.0)
    return dens[row_start:row_stop]


def quickshift_parents(image, densities, kernel_size, max_dist, row_start, row_stop):
    """The parent of each pixel of rows ``row_start .. row_stop - 1``: the nearest pixel of
    its window with a higher density (the first in row-major order among equally near ones),
    itself when that is farther than ``max_dist`` or there is none.

    Parameters
    ----------
    image : ndarray of float64, shape (H, W, C)
    densities : ndarray of float64, shape (H, W)
    kernel_size, max_dist : float
    row_start, row_stop : int

    Returns
    -------
    ndarray of intp, shape ((row_stop - row_start) * W,)
        Flat index ``row * W + column`` (in the whole image) of each pixel's parent.
    """
    H, W, _ = image.shape
    closest = np.full((H, W), np.finfo(np.float64).max)
    parent = np.arange(H * W).reshape(H, W)
    flat = parent.copy()
    for dr, dc, inside in _offsets(H, W, _window(kernel_size)):
        r = np.clip(np.arange(H) + dr, 0, H - 1)
        c = np.clip(np.arange(W) + dc, 0, W - 1)
        d = _squared_distances(image, dr, dc)
        better = inside & (densities[r][:, c] > densities) & (d < closest)
        closest = np.where(better, d, closest)
        parent = np.where(better, flat[r][:, c], parent)
    too_far = np.sqrt(closest) > max_dist
    return np.where(too_far, flat, parent)[row_start:row_stop].ravel()
