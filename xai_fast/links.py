"""Link functions: the space in which attributions add up."""

from __future__ import annotations

import numpy as np


def apply_link(link: str, values, *, what: str = "model output"):
    """Apply ``link`` (``"identity"`` or ``"logit"``) elementwise, in float64.

    ``values`` may be a numpy array or a torch tensor (which stays on its device).
    """
    if hasattr(values, "is_floating_point"):  # a torch tensor
        import torch

        values = values.double()
        if link == "identity":
            return values
        out = torch.log(values / (1.0 - values))
        if bool(torch.isfinite(out).all()):
            return out
        values, out = values.cpu().numpy(), out.cpu().numpy()
    else:
        values = np.asarray(values, dtype=np.float64)
        if link == "identity":
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(values / (1.0 - values))
    if not np.isfinite(out).all():
        bad = values[~np.isfinite(out)]
        raise ValueError(
            f"link='logit' needs the {what} strictly between 0 and 1 (probabilities); got "
            f"values such as {bad.ravel()[:3].tolist()}. Use link='identity' for scores."
        )
    return out
