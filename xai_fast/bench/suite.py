"""``xai_fast.bench.suite``: the suite's loop, metrics, output and options under one name; the
code is in :mod:`xai_fast.evaluation.bench` (``suite``, ``metrics``, ``report``, ``figures``,
``command``)."""

from ..evaluation.bench.command import add_arguments, main, run_from_args
from ..evaluation.bench.figures import write_plots
from ..evaluation.bench.metrics import rank_corr, rel_error
from ..evaluation.bench.records import FIELDS
from ..evaluation.bench.report import to_markdown, write_json
from ..evaluation.bench.suite import run_suite

__all__ = [
    "FIELDS",
    "add_arguments",
    "main",
    "rank_corr",
    "rel_error",
    "run_from_args",
    "run_suite",
    "to_markdown",
    "write_json",
    "write_plots",
]
