"""``xai_fast.bench``: the names of :mod:`xai_fast.evaluation.bench`, where the suite lives.

``xai_fast.bench.runners`` and ``xai_fast.bench.suite`` keep the names of the old modules of
those names.
"""

from ..evaluation.bench import FIELDS, main, run_suite, to_markdown, write_json, write_plots

__all__ = ["FIELDS", "main", "run_suite", "to_markdown", "write_json", "write_plots"]
