"""``xai_fast.bench.runners``: the methods of the suite and the work they are given; the code is
in :mod:`xai_fast.evaluation.bench.runners`."""

from ..evaluation.bench.runners import ImageWork, Method, TabularWork, methods

__all__ = ["ImageWork", "Method", "TabularWork", "methods"]
