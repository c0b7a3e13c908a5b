"""The ``"numba"`` backend's LIME kernels under the references' names and signatures, run from
the module compiled ahead of time when it is there (see :mod:`xai_fast.backends.aot`), from
Numba's JIT otherwise. Importing this module does not import Numba."""

from __future__ import annotations

import numpy as np

from ..sampling.lime_neighbourhood_ref import GAUSSIAN
from .aot import call

__all__ = [
    "interpretable_rows",
    "ridge_fit",
    "sample_neighbourhood",
    "select_features",
    "weighted_moments",
]


def sample_neighbourhood(
    seed, n_samples, kinds, cdf, values, lo, hi, mu, sd, center, scale, within_seed=None
):
    """See :func:`xai_fast.sampling.lime_neighbourhood_ref.sample_neighbourhood`."""
    seeds = np.uint64(seed), np.uint64(seed if within_seed is None else within_seed)
    tables = cdf, values, lo, hi, mu, sd, center, scale
    return call("draw_neighbourhood", *seeds, int(n_samples), kinds.astype(np.int8), *tables)


def interpretable_rows(codes, inst, z0, kinds, around):
    """See :func:`xai_fast.masking.lime_rows_ref.interpretable_rows`."""
    return call("interpretable_rows", codes, inst, z0, kinds == GAUSSIAN, bool(around))


def weighted_moments(X, w, Y):
    """See :func:`xai_fast.solvers.lime_ridge_ref.weighted_moments`."""
    return call("weighted_moments", X, w, Y)


def select_features(G, c, syy, x0, method, num_features):
    """See :func:`xai_fast.solvers.lime_ridge_ref.select_features`."""
    return call("select_features", G, c, syy, x0, method, num_features)


def ridge_fit(G, c, syy, xbar, ybar, x0, used, alpha):
    """See :func:`xai_fast.solvers.lime_ridge_ref.ridge_fit`."""
    return call("ridge_fit", G, c, syy, xbar, ybar, x0, used, alpha)
