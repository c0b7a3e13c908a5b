"""Agreement of attributions with exact Shapley values, vectorised over rows: relative L2 error,
Spearman rank correlation of ``|values|`` and top-k overlap."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["agreement"]


def agreement(a: np.ndarray, exact: np.ndarray, k: int) -> dict:
    """Mean over rows of the relative L2 error, the Spearman correlation of ``|values|`` and
    the top-``k`` overlap of ``a`` ``(n, d)`` with ``exact`` ``(n, d)``.

    Rows where a number is undefined (exact values all 0, or all ``|values|`` tied) are left
    out of its mean.
    """
    from scipy.stats import rankdata

    norm = np.linalg.norm(exact, axis=1)
    err = np.linalg.norm(a - exact, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(norm > 0, err / np.where(norm > 0, norm, 1.0), np.nan)
        # Spearman = Pearson correlation of the (average) ranks, per row
        ra = rankdata(np.abs(a), axis=1)
        re = rankdata(np.abs(exact), axis=1)
        ra -= ra.mean(1, keepdims=True)
        re -= re.mean(1, keepdims=True)
        denom = np.sqrt((ra * ra).sum(1) * (re * re).sum(1))
        rho = np.where(denom > 0, (ra * re).sum(1) / np.where(denom > 0, denom, 1.0), np.nan)
    overlap = (_top_mask(a, k) & _top_mask(exact, k)).sum(1) / k
    return {
        "rel_error": _nanmean(rel),
        "rank_corr": _nanmean(rho),
        "topk_overlap": float(overlap.mean()),
    }


def _top_mask(v: np.ndarray, k: int) -> np.ndarray:
    """``(n, d)`` mask of each row's ``k`` largest ``|values|`` (earlier features win ties)."""
    top = np.argsort(-np.abs(v), axis=1, kind="stable")[:, :k]
    mask = np.zeros(v.shape, dtype=bool)
    np.put_along_axis(mask, top, True, axis=1)
    return mask


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan
