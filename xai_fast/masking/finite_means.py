"""The check that a call's background means are finite (one check instead of one per model
call: a non-finite output makes its pair's mean non-finite)."""

from __future__ import annotations

import numpy as np

from ..models import ModelAdapter

__all__ = ["check_means"]


def check_means(model: ModelAdapter, ey, S: int) -> None:
    """Raise if any background mean is not finite (the model returned NaN or inf somewhere).

    One check on the means replaces a check (and a device sync) per model call: a non-finite
    output makes its pair's weighted mean non-finite.
    """
    if not model.check_finite:
        return
    if hasattr(ey, "is_floating_point"):  # torch tensor: one sync
        import torch

        if bool(torch.isfinite(ey).all()):
            return
        bad_pairs = torch.nonzero(~torch.isfinite(ey).all(dim=1))[:, 0].cpu().numpy()
    else:
        if np.isfinite(ey).all():
            return
        bad_pairs = np.nonzero(~np.isfinite(ey).all(axis=1))[0]
    rows = np.unique(bad_pairs // S)
    raise ValueError(
        f"the model returned non-finite values (NaN or inf) on perturbed versions of {len(rows)} "
        f"explained row(s) (first, counted within this call's group: {rows[:5].tolist()}). "
        "Fix the model or its inputs, or wrap it as "
        "xai_fast.ModelAdapter(model, check_finite=False) to accept them."
    )
