"""Tabular LIME on sparse rows, with lime's meaning.

lime perturbs a sparse row only where it is non-zero: a Gaussian column that is zero in the row
stays zero in every sample (categorical columns are drawn as usual). The model receives the
samples as a CSR matrix, and the surrogate sees the samples multiplied by the training scale
(lime's sparse ``scaled_data``; the mean is not removed so that the data stays sparse).
Explained rows are few, so they are held dense here; every step is vectorised over rows and
samples.
"""

from __future__ import annotations

import numpy as np

from ..models import is_torch_module
from ..sampling.lime_neighbourhood_ref import GAUSSIAN

__all__ = ["csr_model", "is_sparse", "sparse_interpretable", "sparse_model_rows"]


def is_sparse(data) -> bool:
    """Whether ``data`` is a scipy sparse matrix or array."""
    return hasattr(data, "toarray") and hasattr(data, "nnz")


def csr_model(predict_fn):
    """``predict_fn`` called on CSR matrices (lime's sparse samples) instead of arrays; a
    torch module is returned unchanged (it takes tensors)."""
    from scipy.sparse import csr_matrix

    if is_torch_module(predict_fn):
        return predict_fn

    def call(X):
        return predict_fn(csr_matrix(X))

    return call


def _gauss_zero(nb, X):
    """Gaussian columns where each row is zero: ``(n, d)`` bool."""
    return (nb.kinds == GAUSSIAN)[None, :] & (X == 0)


def sparse_model_rows(nb, X, inverse):
    """Model inputs of sparse rows ``X`` ``(n, d)`` (held dense): ``(n, S - 1, d)``.

    The neighbourhood's rows for ``X`` (``nb.model_rows``) with each row's zero Gaussian
    columns set to zero.
    """
    rows = np.broadcast_to(nb.model_rows(X, inverse), (X.shape[0],) + inverse.shape[-2:])
    return np.where(_gauss_zero(nb, X)[:, None, :], 0.0, rows)


def sparse_interpretable(nb, X, Xs):
    """lime's sparse surrogate inputs and distances from the dense ones.

    Parameters
    ----------
    nb : TabularNeighbourhood
    X : ndarray, shape (n, d)
        The explained rows.
    Xs : ndarray, shape (n, S, d)
        Dense surrogate inputs (``(value - mean) / scale`` in Gaussian columns).

    Returns
    -------
    Xs : ndarray, shape (n, S, d)
        Gaussian columns hold ``value * scale`` (0 where the row is zero).
    dist : ndarray, shape (n, S)
    """
    gauss = nb.kinds == GAUSSIAN
    if nb.around_instance:  # Xs = z + (x - mean) / scale; the model saw z * scale + x
        z = Xs - ((X - nb.mean) / nb.scale)[:, None, :]
        value = z * nb.scale + X[:, None, :]
    else:  # Xs = z; the model saw z * scale + mean
        value = Xs * nb.scale + nb.mean
    out = np.where(gauss, value * nb.scale, Xs)
    out = np.where(_gauss_zero(nb, X)[:, None, :], 0.0, out)
    out[:, 0, :] = np.where(gauss, X * nb.scale, Xs[:, 0, :])
    dist = np.sqrt(((out - out[:, :1, :]) ** 2).sum(axis=2))
    return out, dist
