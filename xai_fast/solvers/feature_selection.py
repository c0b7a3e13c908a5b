"""l1 feature selection before the Kernel SHAP regression, with shap's options and meaning."""

from __future__ import annotations

import re
import warnings

import numpy as np

from .._runtime.blas import single_threaded_blas
from .._validation import is_real
from .constrained_wls import solve_constrained_wls
from .kernel_wls_ref import constrained_wls as constrained_wls_ref

_NUM_FEATURES = re.compile(r"^num_features\((\d+)\)$")

#: shap's current default for ``l1_reg``.
DEFAULT_L1_REG = "num_features(10)"


def check_l1_reg(l1_reg):
    """Validate ``l1_reg`` and return it unchanged.

    Accepted: ``False`` or ``0`` (no selection), ``"num_features(k)"``, ``"aic"``, ``"bic"``,
    ``"auto"`` (deprecated: AIC when under 20% of coalitions are evaluated) or a float alpha > 0.
    """
    if l1_reg is False or (is_real(l1_reg) and l1_reg == 0):
        return False
    if isinstance(l1_reg, str):
        if l1_reg in ("auto", "aic", "bic") or _NUM_FEATURES.match(l1_reg):
            if _NUM_FEATURES.match(l1_reg) and int(_NUM_FEATURES.match(l1_reg)[1]) < 1:
                raise ValueError(f"l1_reg={l1_reg!r} must keep at least one feature.")
            return l1_reg
    elif is_real(l1_reg):
        if np.isfinite(l1_reg) and l1_reg > 0:
            return float(l1_reg)
    raise ValueError(
        f"l1_reg must be False/0, 'num_features(k)', 'aic', 'bic', 'auto' or a float alpha > 0; "
        f"got {l1_reg!r}. Use l1_reg=False to keep every feature."
    )


def selection_active(l1_reg, fraction_evaluated: float) -> bool:
    """Whether ``l1_reg`` asks for feature selection at this fraction of coalitions evaluated."""
    if l1_reg is False:
        return False
    if l1_reg == "auto":
        warnings.warn(
            "l1_reg='auto' is deprecated; pass 'aic', 'num_features(k)' or False.",
            DeprecationWarning,
            stacklevel=4,
        )
        return fraction_evaluated < 0.2
    return True


def select_features(Z, w, y, total, l1_reg):
    """Indices of the players kept by l1 selection for one column.

    Parameters
    ----------
    Z : ndarray of float64, shape (S, M)
    w : ndarray of float64, shape (S,)
    y : ndarray of float64, shape (S,)
        ``link(E[f(coalition)]) - link(base value)``.
    total : float
        ``link(f(x)) - link(base value)``.
    l1_reg : str or float
        A value accepted by :func:`check_l1_reg`, other than ``False``.

    Returns
    -------
    ndarray of int64
        Kept players, possibly empty.
    """
    from sklearn.linear_model import Lasso, LassoLarsIC, lars_path
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    M = Z.shape[1]
    match = _NUM_FEATURES.match(l1_reg) if isinstance(l1_reg, str) else None
    # even with k >= M the path runs: scikit-learn's lars stops once the largest correlation
    # falls to float32's eps per sample, which leaves out players with small effects, as shap
    s = Z.sum(axis=1)
    # Augmented problem: every coalition is paired with the "complement" view so that the
    # efficiency constraint is respected without an intercept.
    w_aug = np.concatenate([w * (M - s), w * s])
    sw = np.sqrt(w_aug)
    y_aug = np.concatenate([y, y - total]) * sw
    Z_aug = np.vstack([Z, Z - 1]) * sw[:, None]
    if match:
        return np.asarray(lars_path(Z_aug, y_aug, max_iter=int(match[1]))[1], dtype=np.int64)
    if l1_reg in ("auto", "aic", "bic"):
        criterion = "aic" if l1_reg == "auto" else l1_reg
        pipe = make_pipeline(StandardScaler(with_mean=False), LassoLarsIC(criterion=criterion))
        return np.nonzero(pipe.fit(Z_aug, y_aug)[1].coef_)[0].astype(np.int64)
    return np.nonzero(Lasso(alpha=l1_reg).fit(Z_aug, y_aug).coef_)[0].astype(np.int64)


def solve_selected(Zf, w, Y, tot, l1_reg):
    """Per column: select features with l1, then solve on the kept ones (shap's path).

    Parameters
    ----------
    Zf : ndarray, shape (S, M)
    w : ndarray, shape (S,)
    Y : ndarray, shape (S, R)
    tot : ndarray, shape (R,)
    l1_reg
        As :func:`check_l1_reg` returns it.

    Returns
    -------
    ndarray, shape (M, R)
    """
    M, R = Zf.shape[1], Y.shape[1]
    phi = np.zeros((M, R))
    with single_threaded_blas():  # once for the loop: each switch costs about a small solve
        for r in range(R):  # sklearn's selectors work one column at a time
            keep = np.sort(select_features(Zf, w, Y[:, r], tot[r], l1_reg))
            if len(keep) == 1:
                phi[keep[0], r] = tot[r]
            elif len(keep) > 1:
                Zk = Zf if len(keep) == M else np.ascontiguousarray(Zf[:, keep])
                sol = solve_constrained_wls(
                    constrained_wls_ref, Zk, w, Y[:, r : r + 1], tot[r : r + 1], hint="",
                    warn=False, threads_limited=True,
                )  # fmt: skip
                phi[keep, r] = sol[:, 0]
    return phi
