"""The Ray side: the job every actor holds, the actor that explains pieces of rows, the pool.

An actor fetches the job (explainer, options, units, schema) from the object store once, moves
a torch model to its GPU when it has one, explains the driver's probe row, then explains
``(unit, lo, hi)`` ranges. When an explainer call raises, the range is explained again in
halves down to single rows, so a failing row is reported and never dropped.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._runtime.model_errors import ModelCallError
from .output import Schema, to_arrow
from .placement import to_gpu
from .sources import load_unit

#: Times Ray restarts an actor whose process died, and retries the call it was running.
MAX_RESTARTS = 3
MAX_TASK_RETRIES = 3
#: Longest ``error`` message kept per failed row.
MAX_ERROR_CHARS = 2000


def call_explainer(explainer, X, predict_fn, call_kwargs):
    """``explainer(X, **call_kwargs)``; a LIME explainer also gets ``predict_fn``."""
    if predict_fn is not None:
        return explainer(X, predict_fn, **call_kwargs)
    return explainer(X, **call_kwargs)


class Job:
    """Everything an actor needs, put in the object store once.

    The explainer pickles its compiled kernels by name (see :class:`xai_fast.backends.Backend`),
    so an actor loads them from Numba's on-disk cache instead of compiling them again.
    """

    def __init__(
        self,
        explainer,
        predict_fn,
        call_kwargs: dict,
        units: list,
        features,
        id_column,
        schema: Schema,
        *,
        num_gpus: float,
        probe_row: np.ndarray,
    ):
        self.explainer = explainer
        self.predict_fn = predict_fn
        self.call_kwargs = call_kwargs
        self.units = units
        self.features = features
        self.id_column = id_column
        self.schema = schema
        self.num_gpus = num_gpus
        self.probe_row = probe_row  # (1, d): explained on the driver already


def map_actor_pool(ray, items, job_ref, num_actors, num_gpus):
    """``items.map_batches`` over a fixed pool of :class:`Worker` actors."""
    kwargs = dict(
        fn_constructor_args=([job_ref],),  # in a list: each actor fetches the job itself
        batch_size=1,  # one piece of rows per call
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=num_actors, max_tasks_in_flight_per_actor=1),
        num_gpus=float(num_gpus) if num_gpus > 0 else None,
    )
    # Ray Data >= 2.60 flags these as deprecated (no named parameter replaces them yet); a
    # release without them falls back to its own defaults (unlimited restarts and retries).
    retries = {"max_restarts": MAX_RESTARTS, "max_task_retries": MAX_TASK_RETRIES}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        try:
            return items.map_batches(Worker, **kwargs, **retries)
        except TypeError:  # pragma: no cover - a Ray Data without ray_remote_args
            return items.map_batches(Worker, **kwargs)


class Worker:
    """One actor of the pool: holds the explainer and explains pieces of rows."""

    def __init__(self, job_box):
        import ray

        job = ray.get(job_box[0])
        if job.num_gpus > 0:
            to_gpu(job.explainer, job.predict_fn)
        self.job = job
        self._cached = (None, None, None)  # (unit index, ids, rows) of the last unit loaded
        try:  # the driver's probe row: a failure here is this worker's, not a row's
            self._values(job.probe_row)
        except Exception as err:
            raise RuntimeError(
                f"the explainer fails in a Ray worker on a row it explained on the driver "
                f"({type(err).__name__}: {err}); check that every node has the same packages, "
                "model code and devices as the driver."
            ) from err

    def __call__(self, items):
        """Explain the rows named by ``items`` (columns ``unit``, ``lo``, ``hi``) as a pyarrow
        table."""
        import pyarrow as pa

        tables = [
            self._explain(*self._rows(int(u), int(lo), int(hi)))
            for u, lo, hi in zip(items["unit"], items["lo"], items["hi"], strict=True)
        ]
        return pa.concat_tables(tables)

    def _rows(self, u, lo, hi):
        """Ids and rows ``lo:hi`` of unit ``u``: ``((m,), (m, d))``."""
        if self._cached[0] != u:
            job = self.job
            self._cached = (u, *load_unit(job.units[u], job.features, job.id_column))
        _, ids, X = self._cached
        return ids[lo:hi], X[lo:hi]

    def _explain(self, ids, X):
        """Values of rows ``X`` as a pyarrow table; rows whose call fails get NaN and the
        message."""
        schema = self.job.schema
        n = len(X)
        values = np.full((n, len(schema.value_columns)), np.nan)
        std = None if schema.std_columns is None else np.full((n, len(schema.std_columns)), np.nan)
        errors = [None] * n
        self._fill(X, 0, n, values, std, errors)
        return to_arrow(ids, values, std, errors, schema)

    def _fill(self, X, lo, hi, values, std, errors):
        """Explain rows ``lo:hi``; when the call raises, each half again, down to single rows.

        A row is reported as failed only when it fails alone. Halving finds ``f`` failing rows
        of ``n`` in about ``2 f log2(n)`` calls instead of ``n`` (a row's values do not depend
        on the rows it is explained with).
        """
        try:
            v, s = self._values(X[lo:hi])
        except Exception as err:  # the model or explainer failed on some row of lo:hi
            if hi - lo == 1:
                if isinstance(err, ModelCallError) and err.__cause__ is not None:
                    err = err.__cause__  # the row's own error, as the model raised it
                errors[lo] = f"{type(err).__name__}: {err}"[:MAX_ERROR_CHARS]
                return
            mid = (lo + hi) // 2
            self._fill(X, lo, mid, values, std, errors)
            self._fill(X, mid, hi, values, std, errors)
            return
        values[lo:hi] = v
        if std is not None and s is not None:
            std[lo:hi] = s

    def _values(self, X):
        job = self.job
        exp = call_explainer(job.explainer, X, job.predict_fn, job.call_kwargs)
        return job.schema.tables(exp)
