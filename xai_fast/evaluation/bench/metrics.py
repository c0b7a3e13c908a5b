"""The two scores of a benchmark record: relative L2 error and rank correlation of ``|values|``."""

from __future__ import annotations

import numpy as np

__all__ = ["rank_corr", "rel_error"]


def rel_error(values, exact) -> float:
    """``||values - exact|| / ||exact||`` over all rows (Frobenius norms)."""
    return float(np.linalg.norm(values - exact) / np.linalg.norm(exact))


def rank_corr(values, exact) -> float | None:
    """Mean over rows of the Spearman correlation of ``|values|`` with ``|exact|``."""
    from scipy.stats import spearmanr

    rhos = []
    for v, e in zip(np.abs(values), np.abs(exact), strict=True):
        if np.ptp(v) > 0 and np.ptp(e) > 0:  # undefined for a constant row
            rhos.append(spearmanr(v, e).statistic)
    return float(np.mean(rhos)) if rhos else None
