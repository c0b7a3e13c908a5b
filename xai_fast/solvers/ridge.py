"""Weighted ridge regression of many outputs on one shared design (tensor LIME's surrogate).

Tabular LIME's per-row ridge on weighted moments is :mod:`.lime_ridge_ref` (and its Numba kernel).
"""

from __future__ import annotations

import warnings

import torch

__all__ = ["weighted_ridge"]


def weighted_ridge(Z, y, w, alpha=1.0):
    """Weighted ridge regression with an unpenalised intercept, for many outputs at once.

    Minimises ``sum_s w[s] * (y[s, r] - Z[s] @ coef[:, r] - intercept[r])**2 +
    alpha * ||coef[:, r]||**2`` for every column ``r`` (``sklearn.linear_model.Ridge(alpha)``
    fitted with ``sample_weight=w``). The normal equations of the weighted, centred data are
    solved once for all columns.

    Parameters
    ----------
    Z : torch.Tensor or ndarray, shape (S, M)
        Regressors (LIME's binary perturbations).
    y : torch.Tensor or ndarray, shape (S,) or (S, R)
    w : torch.Tensor or ndarray, shape (S,)
        Non-negative sample weights, not all zero.
    alpha : float, default 1.0
        Penalty on the coefficients, ``>= 0``.

    Returns
    -------
    coef : torch.Tensor of float64, shape (M,) or (M, R)
    intercept : torch.Tensor of float64, shape () or (R,)
        On the device of ``y`` (of ``Z`` when ``y`` is not a tensor).
    """
    ref = y if isinstance(y, torch.Tensor) else Z
    device = ref.device if isinstance(ref, torch.Tensor) else None
    Z, y, w = (torch.as_tensor(a, dtype=torch.float64, device=device) for a in (Z, y, w))
    vector = y.dim() == 1
    y = y[:, None] if vector else y
    sw = w.sum()
    z_mean = (w @ Z) / sw  # (M,)
    y_mean = (w @ y) / sw  # (R,)
    Zc = Z - z_mean
    WZ = Zc * w[:, None]
    A = Zc.T @ WZ + alpha * torch.eye(Z.shape[1], dtype=torch.float64, device=Z.device)
    b = WZ.T @ (y - y_mean)
    try:
        coef = torch.linalg.solve(A, b)  # (M, R)
    except torch.linalg.LinAlgError:
        warnings.warn(
            "The ridge regression is singular (alpha=0 with collinear perturbations); using "
            "the minimum-norm solution. Use alpha > 0 or more samples.",
            RuntimeWarning,
            stacklevel=2,
        )
        coef = torch.linalg.pinv(A, hermitian=True) @ b
    intercept = y_mean - z_mean @ coef
    return (coef[:, 0], intercept[0]) if vector else (coef, intercept)
