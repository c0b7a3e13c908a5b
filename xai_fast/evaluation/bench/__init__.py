"""The benchmark suite behind ``xai-fast bench``: xai_fast against shap, lime and captum.

:mod:`~xai_fast.evaluation.bench.problems` defines the problems,
:mod:`~xai_fast.evaluation.bench.runners` one function per (library, method), and
:mod:`~xai_fast.evaluation.bench.suite` the loop (with :mod:`.prepare`, :mod:`.timing`,
:mod:`.metrics`, :mod:`.curve` and :mod:`.machine`); :mod:`.report` and :mod:`.figures` write the
markdown, JSON and plots, and :mod:`.command` is the command line. The reference libraries are
optional: a missing one is skipped with a note in its records.
"""

from .command import main
from .figures import write_plots
from .records import FIELDS
from .report import to_markdown, write_json
from .suite import run_suite

__all__ = ["FIELDS", "main", "run_suite", "to_markdown", "write_json", "write_plots"]
