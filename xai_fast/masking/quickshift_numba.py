"""Quickshift's two passes as Numba kernels; same signatures as
:mod:`xai_fast.masking.quickshift_ref`.

Each window row's squared distances go into a buffer first (loops the compiler vectorises),
then are exponentiated and added in row-major order: the same operations in the same order as
scikit-image's loops, so the same densities and segments, bit for bit.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["quickshift_densities", "quickshift_parents"]

#: ``exp(x)`` rounds to +0.0 below about -745.13 (half the smallest subnormal); the C library
#: takes a slow path there, so the kernel skips those terms.
_EXP_ZERO = -746.0


def quickshift_densities(image, noise, kernel_size, row_start, row_stop):
    """See :func:`xai_fast.masking.quickshift_ref.quickshift_densities`."""
    planes = np.ascontiguousarray(np.moveaxis(image, -1, 0), dtype=np.float64)  # (C, H, W)
    start = np.ascontiguousarray(noise, dtype=np.float64)
    return _densities(planes, start, float(kernel_size), int(row_start), int(row_stop))


def quickshift_parents(image, densities, kernel_size, max_dist, row_start, row_stop):
    """See :func:`xai_fast.masking.quickshift_ref.quickshift_parents`."""
    planes = np.ascontiguousarray(np.moveaxis(image, -1, 0), dtype=np.float64)
    dens = np.ascontiguousarray(densities, dtype=np.float64)
    return _parents(
        planes, dens, float(kernel_size), float(max_dist), int(row_start), int(row_stop)
    )


@nb.njit(cache=True, nogil=True, inline="always")
def _window_row_distances(planes, r, c, r_, c0, n, buf):
    """``buf[j]``: squared distance from pixel ``(r, c)`` to ``(r_, c0 + j)``, ``j < n``."""
    for j in range(n):
        buf[j] = 0.0
    for ch in range(planes.shape[0]):
        v = planes[ch, r, c]
        q = planes[ch, r_]
        for j in range(n):
            t = v - q[c0 + j]
            buf[j] += t * t
    tr = float(r - r_)
    tr2 = tr * tr
    for j in range(n):
        tc = float(c - c0 - j)
        buf[j] = (buf[j] + tr2) + tc * tc


@nb.njit(cache=True, nogil=True)
def _densities(planes, noise, kernel_size, row_start, row_stop):
    _, H, W = planes.shape
    inv = -0.5 / (kernel_size * kernel_size)
    kw = int(math.ceil(3 * kernel_size))
    dens = np.zeros((row_stop - row_start, W))
    buf = np.empty(2 * kw + 1)
    for r in range(row_start, row_stop):
        r0, r1 = max(r - kw, 0), min(r + kw + 1, H)
        for c in range(W):
            c0, c1 = max(c - kw, 0), min(c + kw + 1, W)
            acc = noise[r, c]  # scikit-image adds its tie-breaking noise first
            for r_ in range(r0, r1):
                _window_row_distances(planes, r, c, r_, c0, c1 - c0, buf)
                for j in range(c1 - c0):
                    buf[j] *= inv
                for j in range(c1 - c0):
                    # below it exp() is +0.0 and adding it changes nothing (NaN goes on)
                    if not buf[j] <= _EXP_ZERO:
                        acc += math.exp(buf[j])
            dens[r - row_start, c] = acc
    return dens


@nb.njit(cache=True, nogil=True)
def _parents(planes, dens, kernel_size, max_dist, row_start, row_stop):
    # pixel by pixel: the first of equally near pixels in row-major order wins, as in
    # scikit-image
    _, H, W = planes.shape
    kw = int(math.ceil(3 * kernel_size))
    parent = np.arange(row_start * W, row_stop * W)
    buf = np.empty(2 * kw + 1)
    for r in range(row_start, row_stop):
        r0, r1 = max(r - kw, 0), min(r + kw + 1, H)
        for c in range(W):
            c0, c1 = max(c - kw, 0), min(c + kw + 1, W)
            cur, closest, best = dens[r, c], np.finfo(np.float64).max, r * W + c
            for r_ in range(r0, r1):
                _window_row_distances(planes, r, c, r_, c0, c1 - c0, buf)
                up = dens[r_]
                for j in range(c1 - c0):
                    if up[c0 + j] > cur and buf[j] < closest:
                        closest, best = buf[j], r_ * W + c0 + j
            if not math.sqrt(closest) > max_dist:
                parent[(r - row_start) * W + c] = best
    return parent
