"""The benchmark suite behind ``xai-fast bench``: xai_fast against shap, lime and captum.

:mod:`~xai_fast.bench.problems` defines the problems, :mod:`~xai_fast.bench.runners` one
function per (library, method), and :mod:`~xai_fast.bench.suite` the loop, the metrics and the
JSON, markdown and plot output. The reference libraries are optional: a missing one is skipped
with a note in its records.
"""

from .suite import FIELDS, main, run_suite, to_markdown, write_json, write_plots

__all__ = ["FIELDS", "main", "run_suite", "to_markdown", "write_json", "write_plots"]
