"""LIME's tabular neighbourhood sampler, plain numpy reference.

Draws the perturbed rows lime's ``LimeTabularExplainer`` draws, from the counter-based stream
of :mod:`xai_fast._rng` instead of a ``RandomState``: draw ``(s, j)`` depends only on the seed,
the sample ``s`` and the column ``j``, so the neighbourhood is shared by every explained row
(it does not depend on the row) and any backend reproduces it.

Column kinds (``kinds[j]``):

* ``GAUSSIAN`` (0): ``z ~ N(0, 1)``; the model sees ``z * scale + center``.
* ``CATEGORICAL`` (1): a value drawn from the training frequencies (``cdf``, ``values``).
* ``BINNED`` (2): a bin drawn from the training frequencies; the model sees a value drawn from
  a normal with the bin's mean and standard deviation, truncated to ``[lo, hi]``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .._rng import LIME_PICK, LIME_WITHIN, stream_keys, uniforms

__all__ = [
    "BINNED",
    "CATEGORICAL",
    "GAUSSIAN",
    "STREAM_PICK",
    "STREAM_WITHIN",
    "sample_neighbourhood",
]

GAUSSIAN, CATEGORICAL, BINNED = 0, 1, 2
#: Stream ids of the two draws per cell (far above the coalition design's pair streams).
STREAM_PICK = LIME_PICK
STREAM_WITHIN = LIME_WITHIN
_HALF_ULP = 2.0**-54  # moves a uniform from [0, 1) into (0, 1)


def sample_neighbourhood(
    seed, n_samples, kinds, cdf, values, lo, hi, mu, sd, center, scale, within_seed=None
):
    """Draw ``n_samples`` perturbed rows.

    Parameters
    ----------
    seed : numpy.uint64
    n_samples : int
        Rows to draw (the explained row itself is not among them).
    kinds : ndarray of int8, shape (d,)
        ``GAUSSIAN``, ``CATEGORICAL`` or ``BINNED`` per column.
    cdf : ndarray of float64, shape (d, V)
        Cumulative training frequencies of each column's values or bins; the last real entry
        is exactly 1 and the padding is 1.
    values : ndarray of float64, shape (d, V)
        The value (``CATEGORICAL``) or bin index (``BINNED``) behind each ``cdf`` entry.
    lo, hi, mu, sd : ndarray of float64, shape (d, V)
        Per-bin bounds, mean and standard deviation (``BINNED`` columns).
    center, scale : ndarray of float64, shape (d,)
        Location and scale of ``GAUSSIAN`` columns.
    within_seed : numpy.uint64, optional
        Seed of the draws within bins (lime's discretizer's own random state); default
        ``seed``.

    Returns
    -------
    codes : ndarray of float64, shape (n_samples, d)
        ``z`` (``GAUSSIAN``), the value (``CATEGORICAL``) or the bin index (``BINNED``).
    inverse : ndarray of float64, shape (n_samples, d)
        The rows in the model's input space.
    """
    d = kinds.shape[0]
    cell = np.arange(n_samples * d, dtype=np.uint64).reshape(n_samples, d)
    u = uniforms(stream_keys(seed, np.array([STREAM_PICK], dtype=np.uint64))[0], cell)  # (S, d)
    v = within_uniforms(seed if within_seed is None else within_seed, cell)
    cols = np.arange(d)
    # the drawn entry: how many cumulative frequencies lie at or below u
    pick = (cdf[None, :, :] <= u[:, :, None]).sum(axis=2)  # (S, d)
    codes = values[cols, pick]
    inverse = codes.copy()

    gauss = kinds == GAUSSIAN
    z = ndtri(u[:, gauss] + _HALF_ULP)
    codes[:, gauss] = z
    inverse[:, gauss] = z * scale[gauss] + center[gauss]

    binned = np.nonzero(kinds == BINNED)[0]
    b = pick[:, binned]
    inverse[:, binned] = truncated_normal(
        v[:, binned], lo[binned, b], hi[binned, b], mu[binned, b], sd[binned, b]
    )
    return codes, inverse


def within_uniforms(seed, cell):
    """Uniforms of the draws within bins for cells ``cell`` (uint64, any shape)."""
    return uniforms(stream_keys(seed, np.array([STREAM_WITHIN], dtype=np.uint64))[0], cell)


def truncated_normal(v, lo, hi, mu, sd):
    """Inverse-CDF draw of ``N(mu, sd)`` truncated to ``[lo, hi]`` for uniforms ``v``.

    Works in the lower tail (mirrored when the interval lies above the mean) so that far-tail
    intervals keep their precision; a zero-width or numerically empty interval gives the
    clipped mean. All arrays broadcast together.
    """
    a, b = (lo - mu) / sd, (hi - mu) / sd
    upper = a > 0  # mirror: draw -x from [-b, -a]
    ma, mb = np.where(upper, -b, a), np.where(upper, -a, b)
    pa, pb = ndtr(ma), ndtr(mb)
    x = ndtri(pa + v * (pb - pa))
    x = np.where(upper, -x, x)
    out = np.clip(mu + sd * x, lo, hi)
    bad = ~(pb > pa) | ~np.isfinite(out)
    return np.where(bad, np.clip(mu, lo, hi), out)
