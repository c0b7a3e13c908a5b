"""Coalition designs: which coalitions to evaluate and with what weight."""

import functools

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
    Z, w, plan = _design(backend.kernel_design, M, nsamples, np.uint64(seed))
    return Z.copy(), w.copy(), plan  # the cached arrays stay as made


@functools.lru_cache(maxsize=32)
def _design(kernel, M: int, nsamples, seed: np.uint64):
    """The design of one (kernel, M, nsamples, seed): a fixed seed makes the same design on
    every call, so repeated calls (a seeded explainer, a service) draw it once."""
    plan = plan_design(M, nsamples)
    cdf = np.zeros(1) if plan.fully_enumerated else random_size_cdf(plan)
    Z, w = kernel(
        M, plan.nsamples, seed, plan.weight_vector, plan.num_full, plan.num_paired, plan.binoms,
        cdf,
    )  # fmt: skip
    return Z, w, plan
