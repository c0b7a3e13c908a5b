"""Coalition designs: which coalitions to evaluate and with what weight."""

import numpy as np

from .plan import DesignPlan, plan_design, random_size_cdf

__all__ = ["DesignPlan", "plan_design", "shap_design"]


def shap_design(backend, M: int, nsamples, seed):
    """shap's Kernel SHAP design for ``M`` players with ``backend``'s kernel.

    Returns
    -------
    Z : ndarray of bool, shape (S, M)
    w : ndarray of float64, shape (S,)
    plan : DesignPlan
    """
    plan = plan_design(M, nsamples)
    cdf = np.zeros(1) if plan.fully_enumerated else random_size_cdf(plan)
    Z, w = backend.kernel_design(
        M, plan.nsamples, seed, plan.weight_vector, plan.num_full, plan.num_paired, plan.binoms,
        cdf,
    )  # fmt: skip
    return Z, w, plan
