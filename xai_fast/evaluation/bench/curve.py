"""Error against budget: Kernel SHAP with both samplers and shap's KernelExplainer, at growing
numbers of coalitions per row, on the mode's curve problem."""

from __future__ import annotations

import statistics
import time

import numpy as np

from .metrics import rank_corr, rel_error
from .prepare import Setup
from .runners import TabularWork, missing_reference, shap_kernel, xai_fast_kernel

__all__ = ["BUDGET_CURVE", "CURVE_METHODS", "error_against_budget"]

#: The error-against-budget curve: problem, budgets and seeds per mode.
BUDGET_CURVE = {
    "full": ("mlp-16f-10bg", (256, 1024, 4096, 16384), 3),
    "quick": ("mlp-16f-10bg", (256, 1024, 4096), 2),
    "smoke": ("mlp-6f-2bg", (8, 16, 32), 1),
}
#: Kernel SHAP variants on the curve: (method key, runner options).
CURVE_METHODS = (
    ("xai_fast KernelExplainer(sampler=shap)", {"sampler": "shap"}),
    ("xai_fast KernelExplainer(sampler=auto)", {"sampler": "auto"}),
    ("shap KernelExplainer", None),
)


def error_against_budget(setup: Setup, budgets, seeds, say) -> list[dict]:
    """Error against budget of Kernel SHAP (both samplers) and shap's KernelExplainer."""
    skip = missing_reference("shap")
    out = []
    for key, options in CURVE_METHODS:
        library, name = key.split(" ", 1)
        if library == "shap" and skip is not None:
            out.append({"problem": setup.problem.name, "method": name, "library": library,
                        "budget": None, "seconds": None, "rel_error": None, "rank_corr": None,
                        "note": skip})  # fmt: skip
            continue
        for budget in budgets:
            errs, rhos, secs = [], [], []
            for seed in range(seeds):
                work = TabularWork(**{**vars(setup.work), "nsamples": budget, "seed": seed})
                t = time.perf_counter()
                if options is None:
                    v = shap_kernel(work)
                else:
                    v = xai_fast_kernel(work, **options)
                secs.append(time.perf_counter() - t)
                errs.append(rel_error(v, setup.exact))
                rhos.append(rank_corr(v, setup.exact))
            out.append({
                "problem": setup.problem.name, "method": name, "library": library,
                "budget": budget, "seconds": statistics.median(secs),
                "rel_error": float(np.mean(errs)),
                "rank_corr": float(np.mean([r for r in rhos if r is not None] or [np.nan])),
                "note": f"mean of {seeds} seed(s)",
            })  # fmt: skip
            say(f"  budget {budget:>6}  {key:<40} rel. error {np.mean(errs):.3g}")
    return out
