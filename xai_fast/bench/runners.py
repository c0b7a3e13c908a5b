"""``xai_fast.bench.runners``: the names of :mod:`xai_fast.evaluation.bench.runners`."""

from ..evaluation.bench.runners import (
    REFERENCE_MODULES,
    ImageWork,
    Method,
    TabularWork,
    methods,
    missing_reference,
    patch_values,
)

__all__ = [
    "REFERENCE_MODULES",
    "ImageWork",
    "Method",
    "TabularWork",
    "methods",
    "missing_reference",
    "patch_values",
]
