"""Link functions: the space in which attributions add up."""

from __future__ import annotations

import numpy as np

#: logit clips probabilities of exactly 0 or 1 to [_EPS, 1 - _EPS].
_EPS = float(np.finfo(np.float64).eps)
#: Rounding slack: a mean of probabilities of 1 can come out as 1 + 2e-16.
_TOL = 1e-12


def apply_link(link: str, values, *, what: str = "model output"):
    """Apply ``link`` (``"identity"`` or ``"logit"``) elementwise, in float64.

    ``values`` may be a numpy array or a torch tensor (which stays on its device). For
    ``"logit"``, probabilities of exactly 0 or 1 (within 1e-12, rounding) are clipped to
    ``[eps, 1 - eps]`` (``eps`` the float64 machine epsilon) so that a classifier sure of a
    class still has finite log-odds; values outside ``[0, 1]`` are errors.
    """
    if hasattr(values, "is_floating_point"):  # a torch tensor
        import torch

        values = values.double()
        if link == "identity":
            return values
        probability = (values >= -_TOL) & (values <= 1 + _TOL)
        p = values.clamp(_EPS, 1.0 - _EPS).where(probability, values)
        out = torch.log(p / (1.0 - p))
        if bool(torch.isfinite(out).all()):
            return out
        values, out = values.cpu().numpy(), out.cpu().numpy()
    else:
        values = np.asarray(values, dtype=np.float64)
        if link == "identity":
            return values
        probability = (values >= -_TOL) & (values <= 1 + _TOL)
        p = np.where(probability, np.clip(values, _EPS, 1.0 - _EPS), values)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(p / (1.0 - p))
    if not np.isfinite(out).all():
        bad = values[~np.isfinite(out)]
        raise ValueError(
            f"link='logit' needs the {what} strictly between 0 and 1 (probabilities); got "
            f"values such as {bad.ravel()[:3].tolist()}. Use link='identity' for scores."
        )
    return out
