"""Each explained row's LIME surrogate inputs and distances, plain numpy reference.

From the shared draws of the neighbourhood sampler (``codes``), row ``x`` gets lime's
``scaled_data``: for a categorical or binned column, 1 where the draw equals the row's own
value or bin and 0 elsewhere; for a Gaussian column, the standard-normal draw ``z`` (shifted by
``(x - mean) / scale`` when sampling around the row). Sample 0 is the row itself.
"""

from __future__ import annotations

import numpy as np

from ..sampling.lime_neighbourhood_ref import GAUSSIAN

__all__ = ["interpretable_rows"]


def interpretable_rows(codes, inst, z0, kinds, around):
    """Surrogate inputs of every row and their Euclidean distances to the row.

    Parameters
    ----------
    codes : ndarray, shape (S - 1, d)
        Shared draws (``z``, category value or bin index per column).
    inst : ndarray, shape (n, d)
        Each row's own code per column (its bin index, category value; ignored for Gaussian
        columns).
    z0 : ndarray, shape (n, d)
        ``(x - mean) / scale`` of each row.
    kinds : ndarray of int8, shape (d,)
    around : bool
        Gaussian draws are centred on the row (``z + z0``) instead of the mean (``z``).

    Returns
    -------
    Xs : ndarray, shape (n, S, d)
    dist : ndarray, shape (n, S)
        ``||Xs[i, s] - Xs[i, 0]||``.
    """
    n, d = inst.shape
    gauss = kinds == GAUSSIAN
    Xs = np.empty((n, codes.shape[0] + 1, d))
    Xs[:, 0, :] = np.where(gauss, z0, 1.0)
    same = codes[None, :, :] == inst[:, None, :]
    shift = z0 if around else np.zeros_like(z0)
    Xs[:, 1:, :] = np.where(gauss, codes[None, :, :] + shift[:, None, :], same)
    dist = np.sqrt(((Xs - Xs[:, :1, :]) ** 2).sum(axis=2))
    return Xs, dist
