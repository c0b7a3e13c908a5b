"""``explain``: check the arguments, probe one row on the driver, cut the data into pieces and
map them over an actor pool.

Every check runs before any work is sent to the cluster; importing this module does not import
Ray, :func:`explain` does.
"""

from __future__ import annotations

import os

import numpy as np

from .._validation import check_positive_int, check_real, is_real
from ..explainers import ExactExplainer, KernelExplainer, LimeTabularExplainer
from .files import expand_paths
from .output import Schema, collect
from .sources import cut_units, data_kind, feature_columns, input_columns, n_features
from .worker import Job, call_explainer, map_actor_pool

__all__ = ["explain"]

_INSTALL = 'pip install "xai_fast[distributed]"'


def explain(
    explainer,
    data,
    *,
    batch_size=1024,
    num_actors=None,
    num_gpus_per_actor=0,
    output=None,
    address=None,
    id_column=None,
    **call_kwargs,
):
    """Explain every row of ``data`` on a Ray cluster (or on this machine).

    Each actor of a fixed pool holds the explainer, so the model stays loaded across batches.
    The values of a row do not depend on how the rows are split into batches or actors: for a
    fixed seed they equal those of one call of the explainer on all rows (see Notes).

    Parameters
    ----------
    explainer : KernelExplainer, ExactExplainer or LimeTabularExplainer
        Called as ``explainer(X_batch, **call_kwargs)``; a LIME explainer as
        ``explainer(X_batch, predict_fn, **call_kwargs)``.
    data : ndarray, DataFrame, path, list of paths, glob or ray.data.Dataset, shape (n, d)
        Rows to explain. Paths name Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) files, or
        directories of them; ``s3://`` and other URIs that pyarrow reads are accepted. Columns
        are taken by the explainer's feature names when the data has them all, else in order
        (every column but ``id_column``).
    batch_size : int, default 1024, keyword-only
        Rows per explainer call.
    num_actors : int, optional, keyword-only
        Size of the actor pool; default the number of CPUs Ray sees (of GPUs divided by
        ``num_gpus_per_actor`` when that is set).
    num_gpus_per_actor : float, default 0, keyword-only
        GPUs reserved by each actor. A torch module model (or LIME ``predict_fn``) is moved to
        the actor's GPU.
    output : str or path-like, optional, keyword-only
        A directory (new or empty) to write the results to as Parquet files instead of
        returning them; the files are not sorted by row id.
    address : str, optional, keyword-only
        Cluster to join (``"auto"``, ``"host:6379"`` or ``"ray://host:10001"``) when Ray is not
        initialised yet. Without it, a Ray instance is started on this machine. An existing
        connection is always used as it is.
    id_column : str, optional, keyword-only
        Column whose values identify the rows (not a feature); default ids are ``0..n-1`` in
        input order.
    **call_kwargs
        Passed to every explainer call (``nsamples``, ``l1_reg``, ``error_bars``, ...; for LIME
        ``predict_fn`` is required, and ``labels``, ``num_features``, ``num_samples``, ...).
        ``silent`` defaults to True.

    Returns
    -------
    DataFrame or str
        One row per input row, sorted by ``row_id``: ``row_id``, then ``base_value`` and one
        column per feature (with ``k`` outputs, ``base_value[<o>]`` and ``<feature>[<o>]`` for
        each output ``o`` in turn, as :func:`xai_fast.cli.io.write_values_csv`), then
        ``error_std[<column>]`` per value column when the explainer gives error bars, then
        ``error``: missing, or the message of a row whose explanation failed (its values are
        then NaN). With ``output``, the path of the directory holding the same table as Parquet.

    Raises
    ------
    ImportError
        Ray Data is not installed.
    TypeError, ValueError
        Bad arguments, found before any work is sent to the cluster: one row is explained on
        the driver first, so a wrong option or model output shape fails here with the
        explainer's own message.

    Notes
    -----
    Partition independence: Kernel SHAP's coalitions depend only on the seed, the number of
    varying features and ``nsamples``, and LIME's neighbourhood only on the seed and
    ``num_samples``, so a row gets the same values in any batch. A seed of ``None`` (or a
    generator) is drawn once here, for the whole job. ``tol`` is refused: it grows a batch's
    budget until all of its rows converge, which ties a row's values to its batch.

    Exact and LIME values are bit-for-bit those of one call on all rows. Kernel SHAP solves the
    regression of all rows of a batch that share a design at once with BLAS, whose last bit can
    depend on how many rows are solved together. Measured here: bit-for-bit when
    ``batch_size`` is a multiple of 8 (the default is) and every row has the same number of
    varying features (continuous data); otherwise, and for rows explained in pieces next to a
    failing row, values may differ by about 1e-15. Bit-for-bit equality also needs a model
    that gives a row the same output whatever rows share its call (true of element-wise numpy
    models; BLAS-backed ones such as scikit-learn's linear models or a torch MLP can differ in
    the last bit).

    Failures: a worker process that dies is restarted and its call retried by Ray (up to
    ``MAX_RESTARTS`` times); a call returns its rows once, when it completes. When an
    explainer call raises, the piece is explained again in halves, down to single rows; a row
    that fails alone comes back with NaN values and the message in ``error``, and a
    ``RuntimeWarning`` gives the count.
    """
    ray = _import_ray()
    lime = _check_explainer(explainer)
    batch_size = check_positive_int(batch_size, "batch_size")
    num_actors = check_positive_int(num_actors, "num_actors", or_none=True)
    num_gpus_per_actor = _check_num_gpus(num_gpus_per_actor)
    if id_column is not None and not isinstance(id_column, str):
        raise TypeError(f"id_column must be a column name (str); got {id_column!r}.")
    call_kwargs, predict_fn = _check_call_kwargs(explainer, lime, call_kwargs)
    if output is not None:
        output = _check_output(output)
    kind = data_kind(ray, data)
    files = expand_paths(data) if kind == "files" else None

    # One seed for the whole job; then one row on the driver checks every option.
    worker = explainer.with_seed()
    probe_row = _probe_row(worker, lime)
    probe = call_explainer(worker, probe_row, predict_fn, call_kwargs)

    _connect(ray, address)
    columns, scan = input_columns(ray, kind, data, files)
    features = feature_columns(columns, id_column, worker, lime)
    d = n_features(worker)
    units, lengths, n_rows = cut_units(ray, kind, data, scan, features, id_column, d, batch_size)
    names = probe.feature_names or (features if columns is not None else None)
    schema = Schema.from_probe(probe, names)
    job = Job(
        worker, predict_fn, call_kwargs, units, features, id_column, schema,
        num_gpus=num_gpus_per_actor, probe_row=probe_row,
    )  # fmt: skip
    items = [
        {"unit": u, "lo": lo, "hi": min(lo + batch_size, n)}
        for u, n in enumerate(lengths)
        for lo in range(0, n, batch_size)
    ]
    if num_actors is None:
        num_actors = _default_num_actors(ray, num_gpus_per_actor)
    num_actors = min(num_actors, len(items))

    job_ref = ray.put(job)  # held here while the actors may restart from it
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    ds = map_actor_pool(ray, ds, job_ref, num_actors, num_gpus_per_actor)
    if output is not None:
        ds.write_parquet(output)
        return output
    return collect(ray, ds, n_rows, id_column)


# ---------------------------------------------------------------------- checks


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"xai_fast.distributed needs Ray Data, which is not installed ({err}). Install it "
            f"with: {_INSTALL}"
        ) from None
    return ray


def _check_explainer(explainer) -> bool:
    """True for LIME; raise for anything but the three supported explainers."""
    if isinstance(explainer, LimeTabularExplainer):
        return True
    if isinstance(explainer, (KernelExplainer, ExactExplainer)):
        return False
    raise TypeError(
        "explainer must be an xai_fast KernelExplainer, ExactExplainer or "
        f"LimeTabularExplainer; got {type(explainer).__name__}. Create one first, e.g. "
        "xf.KernelExplainer(model, background, seed=0)."
    )


def _check_num_gpus(value) -> float:
    """GPUs per actor as a float ``>= 0``; TypeError for a non-number."""
    if not is_real(value):
        raise TypeError(f"num_gpus_per_actor must be a number; got {value!r}.")
    return check_real(value, "num_gpus_per_actor", minimum=0.0)


def _check_call_kwargs(explainer, lime, call_kwargs):
    """``(call_kwargs, predict_fn)``: options refused here, ``silent`` on by default."""
    call_kwargs = dict(call_kwargs)
    predict_fn = None
    if lime:
        if "predict_fn" not in call_kwargs:
            raise TypeError(
                "explaining with a LimeTabularExplainer needs the model: pass "
                "predict_fn=model.predict_proba (classification) or predict_fn=model.predict "
                "(regression) to explain()."
            )
        predict_fn = call_kwargs.pop("predict_fn")
        if not callable(predict_fn):
            raise TypeError(f"predict_fn must be callable; got {type(predict_fn).__name__}.")
    elif "predict_fn" in call_kwargs:
        raise TypeError(
            f"predict_fn is for LimeTabularExplainer; a {type(explainer).__name__} already holds "
            "its model."
        )
    if call_kwargs.get("tol") is not None:
        raise ValueError(
            "tol is not supported by distributed.explain: it grows each batch's budget until "
            "every row of the batch converges, so a row's values would depend on its batch. "
            "Pass a fixed nsamples instead."
        )
    if call_kwargs.get("interactions"):
        raise ValueError(
            "interactions=True is not supported by distributed.explain (one column per feature "
            "and output); call explainer(X, interactions=True) on rows that fit in memory."
        )
    call_kwargs.setdefault("silent", True)
    return call_kwargs, predict_fn


def _check_output(output):
    try:
        output = os.fspath(output)
    except TypeError:
        raise TypeError(f"output must be a directory path; got {type(output).__name__}.") from None
    if "://" not in output and os.path.exists(output):
        if not os.path.isdir(output):
            raise ValueError(f"output {output!r} is a file; pass a directory for Parquet files.")
        if os.listdir(output):
            raise ValueError(
                f"output directory {output!r} is not empty; results written next to old files "
                "would be read together with them. Pass a new or empty directory."
            )
    return output


def _probe_row(explainer, lime):
    """A row the model already has to handle, ``(1, d)``: a background row (Kernel SHAP, exact)
    or a draw from the LIME neighbourhood."""
    if lime:
        return explainer.sample_rows(1)
    return np.ascontiguousarray(explainer.background.data[:1])


def _connect(ray, address):
    if ray.is_initialized():
        return
    if address is None:
        ray.init(
            num_cpus=os.cpu_count(),
            include_dashboard=False,
            ignore_reinit_error=True,
            log_to_driver=False,
        )
    else:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)


def _default_num_actors(ray, num_gpus_per_actor) -> int:
    """The CPUs Ray sees, or its GPUs divided by ``num_gpus_per_actor`` when that is set."""
    res = ray.cluster_resources()
    if num_gpus_per_actor > 0:
        return max(1, int(res.get("GPU", 0) // num_gpus_per_actor))
    return max(1, int(res.get("CPU", 1)))
