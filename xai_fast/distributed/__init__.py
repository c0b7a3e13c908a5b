"""Explain data sets larger than one machine: Ray Data ``map_batches`` over an actor pool.

Data flow: rows (array, DataFrame, Parquet or CSV files, or a Ray Dataset) -> pieces of at most
``batch_size`` rows, each with its row ids -> an actor pool in which every actor holds one copy
of the explainer (put in the object store once) -> one explainer call per piece; when it raises,
the piece again in halves down to single rows, so a failing row is reported and never dropped
-> one table of values per piece -> a DataFrame sorted by row id, or Parquet files.

Modules: ``api`` (:func:`explain` and its argument checks), ``files`` (finding and reading
Parquet and CSV files), ``sources`` (the input's kind, columns and units), ``output`` (the
result's columns and tables), ``worker`` (the job and the Ray actor), ``placement`` (GPUs).

Importing this package does not import Ray; :func:`explain` does.
"""

from .api import explain

# The constants stay readable here, as when this package was one module.
from .output import ERROR, ROW_ID  # noqa: F401
from .worker import MAX_ERROR_CHARS, MAX_RESTARTS, MAX_TASK_RETRIES  # noqa: F401

__all__ = ["explain"]
