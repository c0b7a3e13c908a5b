"""Every coalition of ``M`` players, in binary-code order."""

from __future__ import annotations

import numpy as np


def all_coalitions(M: int) -> np.ndarray:
    """All ``2**M`` coalitions; row ``c`` holds the bits of ``c`` (player ``j`` is bit ``j``).

    Returns
    -------
    ndarray of bool, shape (2**M, M)
    """
    codes = np.arange(2**M, dtype=np.int64)
    return ((codes[:, None] >> np.arange(M)) & 1).astype(bool)
