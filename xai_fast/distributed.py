"""Explain data sets larger than one machine: Ray Data ``map_batches`` over an actor pool.

Data flow: rows (array, DataFrame, Parquet or CSV files, or a Ray Dataset) -> pieces of at most
``batch_size`` rows, each with its row ids -> an actor pool in which every actor holds one copy
of the explainer (put in the object store once) -> one explainer call per piece; when it raises,
the piece again in halves down to single rows, so a failing row is reported and never dropped
-> one table of values per piece -> a DataFrame sorted by row id, or Parquet files.

Importing this module does not import Ray; :func:`explain` does.
"""

from __future__ import annotations

import copy
import glob
import os
import sys
import warnings

import numpy as np

from ._validation import check_data
from .explainers import ExactExplainer, KernelExplainer, LimeTabularExplainer
from .explainers._base import CoalitionExplainer

__all__ = ["explain"]

#: Times Ray restarts an actor whose process died, and retries the call it was running.
MAX_RESTARTS = 3
MAX_TASK_RETRIES = 3
#: Longest ``error`` message kept per failed row.
MAX_ERROR_CHARS = 2000

ROW_ID = "row_id"
ERROR = "error"
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".csv.bz2")
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
        each output ``o`` in turn, as :func:`xai_fast.io.write_values_csv`), then
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
    batch_size = _positive_int(batch_size, "batch_size")
    if num_actors is not None:
        num_actors = _positive_int(num_actors, "num_actors")
    if isinstance(num_gpus_per_actor, bool) or not isinstance(
        num_gpus_per_actor, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"num_gpus_per_actor must be a number; got {num_gpus_per_actor!r}.")
    if not num_gpus_per_actor >= 0:
        raise ValueError(f"num_gpus_per_actor must be >= 0; got {num_gpus_per_actor!r}.")
    if id_column is not None and not isinstance(id_column, str):
        raise TypeError(f"id_column must be a column name (str); got {id_column!r}.")
    call_kwargs, predict_fn = _check_call_kwargs(explainer, lime, call_kwargs)
    if output is not None:
        output = _check_output(output)
    kind = _data_kind(ray, data)
    files = _expand_paths(data) if kind == "files" else None

    # One seed for the whole job; then one row on the driver checks every option.
    worker = _fixed_seed(explainer, lime)
    probe_row = _probe_row(worker, lime)
    probe = _call(worker, probe_row, predict_fn, call_kwargs)

    _connect(ray, address)
    columns, scan = _columns(ray, kind, data, files)
    features = _feature_columns(columns, id_column, worker, lime)
    d = _n_features(worker)
    units, lengths, n_rows = _units(ray, kind, data, scan, features, id_column, d, batch_size)
    names = probe.feature_names or (features if columns is not None else None)
    schema = _Schema.from_probe(probe, names)

    job = _Job(worker, predict_fn, call_kwargs, units, features, id_column, schema)
    job.num_gpus = float(num_gpus_per_actor)
    job.probe_row = probe_row
    items = [
        {"unit": u, "lo": lo, "hi": min(lo + batch_size, n)}
        for u, n in enumerate(lengths)
        for lo in range(0, n, batch_size)
    ]
    if num_actors is None:
        res = ray.cluster_resources()
        if num_gpus_per_actor > 0:
            num_actors = max(1, int(res.get("GPU", 0) // num_gpus_per_actor))
        else:
            num_actors = max(1, int(res.get("CPU", 1)))
    num_actors = min(num_actors, len(items))

    job_ref = ray.put(job)  # held here while the actors may restart from it
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    ds = _map(ray, ds, job_ref, num_actors, num_gpus_per_actor)
    if output is not None:
        ds.write_parquet(output)
        return output
    import pyarrow as pa

    table = pa.concat_tables(ray.get(ds.to_arrow_refs()), promote_options="default")
    df = table.to_pandas().sort_values(ROW_ID, kind="stable").reset_index(drop=True)
    if len(df) != n_rows or (id_column is None and not df[ROW_ID].is_unique):
        raise RuntimeError(  # pragma: no cover - guards the guarantee above
            f"the cluster returned {len(df)} rows ({df[ROW_ID].nunique()} distinct ids) for "
            f"{n_rows} input rows; please report this with the Ray version."
        )
    failed = int(df[ERROR].notna().sum())
    if failed:
        first = df.loc[df[ERROR].notna(), ROW_ID].head(5).tolist()
        warnings.warn(
            f"{failed} of {n_rows} rows could not be explained (row ids {first}...); their "
            "values are NaN and the 'error' column holds each message.",
            RuntimeWarning,
            stacklevel=2,
        )
    return df


def _map(ray, items, job_ref, num_actors, num_gpus):
    """``items.map_batches`` over a fixed pool of :class:`_Worker` actors."""
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
            return items.map_batches(_Worker, **kwargs, **retries)
        except TypeError:  # pragma: no cover - a Ray Data without ray_remote_args
            return items.map_batches(_Worker, **kwargs)


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


def _positive_int(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise ValueError(f"{name} must be a positive int; got {value!r}.")


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


def _data_kind(ray, data) -> str:
    """``"array"``, ``"frame"``, ``"files"`` or ``"dataset"``; raise for anything else."""
    if isinstance(data, ray.data.Dataset):
        return "dataset"
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        return "frame"
    if isinstance(data, np.ndarray):
        return "array"
    if isinstance(data, (str, os.PathLike)) or (
        isinstance(data, (list, tuple))
        and data
        and all(isinstance(p, (str, os.PathLike)) for p in data)
    ):
        return "files"
    raise TypeError(
        "data must be a numpy array, a pandas DataFrame, a path (or list of paths, or a glob) "
        f"to Parquet or CSV files, or a ray.data.Dataset; got {type(data).__name__}. Convert "
        "other array-likes with numpy.asarray."
    )


def _fixed_seed(explainer, lime):
    """A shallow copy whose seed is one fixed integer (drawn now when it was None or a
    generator), so every batch uses the design one call on all rows would use."""
    from ._rng import normalize_seed

    worker = copy.copy(explainer)
    if lime:
        from .explainers.lime_tabular import _seed

        worker.random_state = int(_seed(explainer.random_state))
    elif isinstance(explainer, KernelExplainer):
        worker.seed = int(normalize_seed(explainer.seed))
    return worker


def _probe_row(explainer, lime):
    """A row the model already has to handle: a background row (Kernel SHAP, exact) or a draw
    from the LIME neighbourhood."""
    if not lime:
        return np.ascontiguousarray(explainer.background.data[:1])
    from .sampling.lime_neighbourhood_ref import GAUSSIAN

    nb = explainer.neighbourhood
    _, inverse = explainer._sampler.sample_neighbourhood(
        np.uint64(0), 1, nb.kinds, nb.cdf, nb.values, nb.lo, nb.hi, nb.mu, nb.sd,
        nb.center, nb.scale,
    )  # fmt: skip
    row = np.asarray(inverse, dtype=np.float64).reshape(1, -1)
    if nb.around_instance:  # draws are offsets from the row: centre them on the mean
        row = row + np.where(nb.kinds == GAUSSIAN, nb.mean, 0.0)
    return row


def _call(explainer, X, predict_fn, call_kwargs):
    if predict_fn is not None:
        return explainer(X, predict_fn, **call_kwargs)
    return explainer(X, **call_kwargs)


def _n_features(explainer) -> int:
    if isinstance(explainer, CoalitionExplainer):
        return explainer.background.data.shape[1]
    return explainer.neighbourhood.kinds.shape[0]


def _feature_columns(columns, id_column, explainer, lime):
    """Columns of the data to explain, in the explainer's order; ``None`` for arrays."""
    if columns is None:
        if id_column is not None:
            raise ValueError(
                f"id_column={id_column!r} needs data with named columns (a DataFrame, files or "
                "a Dataset); a numpy array has none. Pass the ids as a DataFrame column."
            )
        return None
    if id_column is not None and id_column not in columns:
        raise ValueError(
            f"id_column {id_column!r} is not a column of data; its columns are "
            f"{columns[:8]}{'...' if len(columns) > 8 else ''}."
        )
    names = explainer.feature_names
    if names and all(n in columns for n in names):
        return list(names)
    d = _n_features(explainer)
    rest = [c for c in columns if c != id_column]
    strict = not lime and explainer.background.feature_names is not None
    if strict:
        missing = [n for n in names if n not in columns]
        raise ValueError(
            f"data lacks the background's feature columns {missing[:5]}"
            f"{'...' if len(missing) > 5 else ''}; its columns are {rest[:5]}... Rename or "
            "select the data's columns to match the background's."
        )
    if len(rest) != d:
        raise ValueError(
            f"data has {len(rest)} feature columns {rest[:5]}{'...' if len(rest) > 5 else ''} "
            f"(id_column excluded) but the explainer expects {d}; select the feature columns "
            "(and pass id_column for an id column)."
        )
    return rest


# ---------------------------------------------------------------------- sources


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


def _columns(ray, kind, data, files):
    """Column names of the data (``None`` for an array) and, for ``files`` ``(paths, format)``,
    their scan: ``(paths, format, [(columns, rows per unit)])``."""
    if kind == "array":
        return None, None
    if kind == "frame":
        columns = [str(c) for c in data.columns]
        if len(set(columns)) != len(columns):
            raise ValueError("data has duplicate column names (as strings); make them unique.")
        return columns, None
    if kind == "dataset":
        return list(data.schema().names), None
    paths, fmt = files
    scans = ray.get([ray.remote(_scan_file).remote(p, fmt) for p in paths])
    columns = scans[0][0]
    for path, (cols, _) in zip(paths, scans, strict=True):
        if cols != columns:
            raise ValueError(
                f"file {path!r} has columns {cols[:5]}... but {paths[0]!r} has "
                f"{columns[:5]}...; every file must have the same columns."
            )
    return columns, (paths, fmt, scans)


def _units(ray, kind, data, scan, features, id_column, d, batch_size):
    """Cut the data into units an actor loads whole (an object-store chunk of ``batch_size``
    rows, a Dataset block, a Parquet row group, a CSV file).

    Returns
    -------
    units : list of tuple
        ``("ref", ObjectRef, base)``, ``("parquet", path, row group, base)`` or
        ``("csv", path, base)``; ``base`` is the id of the unit's first row.
    lengths : list of int
        Rows per unit.
    n_rows : int
    """
    if kind in ("array", "frame"):
        ids = None
        if kind == "frame":
            frame = data.set_axis([str(c) for c in data.columns], axis=1)
            if id_column is not None:
                if not frame[id_column].is_unique:
                    raise ValueError(
                        f"id_column {id_column!r} has duplicate values; ids must be unique."
                    )
                ids = frame[id_column].to_numpy()
            data = frame[features]
        X, _, _ = check_data(data, name="data")
        if X.shape[1] != d:
            raise ValueError(
                f"data has {X.shape[1]} features but the explainer expects {d}; pass rows with "
                "the explainer's columns."
            )
        n = len(X)
        units, lengths = [], []
        for s in range(0, n, batch_size):
            e = min(s + batch_size, n)
            piece_ids = np.arange(s, e, dtype=np.int64) if ids is None else ids[s:e]
            units.append(("ref", ray.put((piece_ids, X[s:e])), s))
            lengths.append(e - s)
        return units, lengths, n
    if kind == "dataset":
        refs = data.to_pandas_refs()
        lengths = ray.get([ray.remote(_num_rows).remote(r) for r in refs])
        units, base = [], 0
        for r, n in zip(refs, lengths, strict=True):
            units.append(("ref", r, base))
            base += n
        if base == 0:
            raise ValueError("data (a ray.data.Dataset) has no rows.")
        return units, lengths, base
    paths, fmt, scans = scan
    units, lengths, base = [], [], 0
    for path, (_, sizes) in zip(paths, scans, strict=True):
        for g, n in enumerate(sizes):
            if n:
                unit = ("parquet", path, g, base) if fmt == "parquet" else ("csv", path, base)
                units.append(unit)
                lengths.append(n)
                base += n
    if base == 0:
        raise ValueError(f"the {fmt} files {paths[:3]}... hold no rows.")
    return units, lengths, base


def _num_rows(frame) -> int:
    return len(frame)


def _expand_paths(data):
    """Files named by ``data`` (paths, globs, directories) and their format; local paths made
    absolute, since actors may run elsewhere."""
    items = [os.fspath(p) for p in (data if isinstance(data, (list, tuple)) else [data])]
    paths = []
    for p in items:
        if "://" in p:
            paths += _remote_files(p)
        elif glob.has_magic(p):
            found = sorted(f for f in glob.glob(p, recursive=True) if os.path.isfile(f))
            if not found:
                raise FileNotFoundError(f"no file matches {p!r}.")
            paths += [os.path.abspath(f) for f in found]
        elif os.path.isdir(p):
            found = sorted(
                os.path.join(root, f)
                for root, _, files in os.walk(p)
                for f in files
                if f.lower().endswith(_PARQUET + _CSV)
            )
            if not found:
                raise FileNotFoundError(f"directory {p!r} holds no .parquet, .pq or .csv file.")
            paths += [os.path.abspath(f) for f in found]
        elif os.path.isfile(p):
            paths.append(os.path.abspath(p))
        else:
            raise FileNotFoundError(f"data file {p!r} does not exist.")
    fmts = {_format(p) for p in paths}
    if len(fmts) != 1:
        raise ValueError(
            f"data mixes Parquet and CSV files ({paths[:4]}...); explain each format separately."
        )
    return paths, fmts.pop()


def _format(path) -> str:
    low = path.lower()
    if low.endswith(_PARQUET):
        return "parquet"
    if low.endswith(_CSV):
        return "csv"
    raise ValueError(
        f"cannot tell the format of {path!r}; name Parquet files .parquet or .pq and CSV files "
        ".csv, or load the rows into a DataFrame first."
    )


def _filesystem(path):
    """``(pyarrow filesystem, path in it)`` for a local path or a URI."""
    import pyarrow.fs as pafs

    if "://" in path:
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)


def _remote_files(uri):
    import pyarrow.fs as pafs

    fs, root = pafs.FileSystem.from_uri(uri)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.File:
        return [uri]
    if info.type != pafs.FileType.Directory:
        raise FileNotFoundError(f"data {uri!r} does not exist.")
    scheme = uri.split("://", 1)[0]
    found = sorted(
        f.path
        for f in fs.get_file_info(pafs.FileSelector(root, recursive=True))
        if f.type == pafs.FileType.File and f.path.lower().endswith(_PARQUET + _CSV)
    )
    if not found:
        raise FileNotFoundError(f"{uri!r} holds no .parquet, .pq or .csv file.")
    return [f"{scheme}://{f}" for f in found]


def _scan_file(path, fmt):
    """``(column names, rows per unit)`` of one file: Parquet row groups from the footer, a CSV
    file whole."""
    fs, p = _filesystem(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with fs.open_input_file(p) as fh:
            meta = pq.ParquetFile(fh).metadata
            return list(meta.schema.to_arrow_schema().names), [
                meta.row_group(g).num_rows for g in range(meta.num_row_groups)
            ]
    table = _read_csv(path)
    return list(table.column_names), [table.num_rows]


def _read_csv(path):
    import pyarrow.csv as pacsv

    fs, p = _filesystem(path)
    with fs.open_input_stream(p, compression="detect") as fh:
        return pacsv.read_csv(fh)


# ---------------------------------------------------------------------- workers


class _Schema:
    """Names of the value columns, in :func:`xai_fast.io.write_values_csv`'s order."""

    def __init__(self, value_columns, std_columns, k):
        self.value_columns = value_columns
        self.std_columns = std_columns
        self.k = k  # 0 for a single output without an output axis

    @classmethod
    def from_probe(cls, exp, names):
        values = np.asarray(exp.values)
        d = values.shape[1]
        names = list(names) if names else [f"x{j}" for j in range(d)]
        if values.ndim == 2:
            cols, k = ["base_value", *names], 0
            value_names = list(names)
        else:
            k = values.shape[2]
            outs = exp.output_names or [str(o) for o in range(k)]
            cols, value_names = [], []
            for o in range(k):
                cols += [f"base_value[{outs[o]}]"] + [f"{f}[{outs[o]}]" for f in names]
                value_names += [f"{f}[{outs[o]}]" for f in names]
        std = None if exp.error_std is None else [f"error_std[{c}]" for c in value_names]
        every = [ROW_ID, *cols, *(std or []), ERROR]
        if len(set(every)) != len(every):
            clash = sorted({c for c in every if every.count(c) > 1})
            raise ValueError(
                f"feature names {clash} clash with the result's own columns; rename those "
                "features (feature_names=...)."
            )
        return cls(cols, std, k)

    def tables(self, exp):
        """``(values (n, c), error_std (n, c_std) or None)`` of an Explanation of n rows."""
        values = np.asarray(exp.values, dtype=np.float64)
        base = np.asarray(exp.base_values, dtype=np.float64)
        std = None if exp.error_std is None else np.asarray(exp.error_std, dtype=np.float64)
        n = values.shape[0]
        if values.ndim == 2:
            return np.column_stack([base.reshape(n), values]), std
        k = values.shape[2]
        base = base.reshape(n, k)
        table = np.hstack([np.column_stack([base[:, o], values[:, :, o]]) for o in range(k)])
        if std is not None:
            std = np.hstack([std[:, :, o] for o in range(k)])
        return table, std


class _Job:
    """Everything an actor needs, put in the object store once."""

    def __init__(self, explainer, predict_fn, call_kwargs, units, features, id_column, schema):
        self.explainer = explainer
        self.predict_fn = predict_fn
        self.call_kwargs = call_kwargs
        self.units = units
        self.features = features
        self.id_column = id_column
        self.schema = schema
        self.num_gpus = 0.0
        self.probe_row = None

    # Compiled kernels travel by name: pickled by value, a Numba function loses its on-disk
    # cache and every actor compiles the whole call graph again (measured: 15 s per actor).
    def __getstate__(self):
        state = self.__dict__.copy()
        explainer = copy.copy(self.explainer)
        if isinstance(explainer, CoalitionExplainer):
            explainer.backend = _kernels_by_name(explainer.backend)
        else:
            explainer._rows = _by_name(explainer._rows)
        state["explainer"] = explainer
        return state

    def __setstate__(self, state):
        explainer = state["explainer"]
        if isinstance(explainer, CoalitionExplainer):
            if explainer.backend.name == "torch":  # also loads the C++ extension's operators
                from .backends import get_backend

                explainer.backend = get_backend("torch")
            else:
                explainer.backend = _kernels_by_name(explainer.backend, restore=True)
        else:
            explainer._rows = _from_name(explainer._rows)
        self.__dict__.update(state)


def _by_name(fn):
    """A module-level function as ``(module, name)``; anything else as it is."""
    module, name = getattr(fn, "__module__", None), getattr(fn, "__name__", None)
    if module and name and getattr(sys.modules.get(module), name, None) is fn:
        return ("__by_name__", module, name)
    return fn


def _from_name(ref):
    if isinstance(ref, tuple) and ref and ref[0] == "__by_name__":
        import importlib

        return getattr(importlib.import_module(ref[1]), ref[2])
    return ref


def _kernels_by_name(backend, restore=False):
    """A :class:`~xai_fast.backends.Backend` whose kernels are (module, name) references, or
    back (without :func:`~xai_fast.backends.get_backend`, which imports torch)."""
    import dataclasses

    convert = _from_name if restore else _by_name
    return dataclasses.replace(
        backend,
        **{f.name: convert(getattr(backend, f.name)) for f in dataclasses.fields(backend)},
    )


class _Worker:
    """One actor of the pool: holds the explainer and explains pieces of rows."""

    def __init__(self, job_box):
        import ray

        job = ray.get(job_box[0])
        if job.num_gpus > 0:
            _to_gpu(job)
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
            self._cached = (u, *self._load(self.job.units[u]))
        _, ids, X = self._cached
        return ids[lo:hi], X[lo:hi]

    def _load(self, unit):
        import ray

        job = self.job
        if unit[0] == "ref":
            obj = ray.get(unit[1])
            if isinstance(obj, tuple):  # a chunk of an array or DataFrame: (ids, rows)
                return obj
            frame = obj.set_axis([str(c) for c in obj.columns], axis=1)  # a Dataset block
        elif unit[0] == "parquet":
            import pyarrow.parquet as pq

            fs, p = _filesystem(unit[1])
            cols = list(job.features) + ([job.id_column] if job.id_column else [])
            with fs.open_input_file(p) as fh:
                frame = pq.ParquetFile(fh).read_row_group(unit[2], columns=cols).to_pandas()
        else:
            frame = _read_csv(unit[1]).to_pandas()
        base = unit[-1]
        if job.id_column is None:
            ids = np.arange(base, base + len(frame), dtype=np.int64)
        else:
            ids = frame[job.id_column].to_numpy()
        X, _, _ = check_data(frame[job.features], name="data")
        return ids, X

    def _explain(self, ids, X):
        """Values of rows ``X`` as a pyarrow table; rows whose call fails get NaN and the
        message."""
        schema = self.job.schema
        n = len(X)
        values = np.full((n, len(schema.value_columns)), np.nan)
        std = None if schema.std_columns is None else np.full((n, len(schema.std_columns)), np.nan)
        errors = [None] * n
        self._fill(X, 0, n, values, std, errors)
        return _to_arrow(ids, values, std, errors, schema)

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
        exp = _call(job.explainer, X, job.predict_fn, job.call_kwargs)
        return job.schema.tables(exp)


def _to_arrow(ids, values, std, errors, schema):
    import pyarrow as pa

    arrays = [pa.array(ids)] + [
        pa.array(values[:, j], pa.float64()) for j in range(values.shape[1])
    ]
    names = [ROW_ID, *schema.value_columns]
    if std is not None:
        arrays += [pa.array(std[:, j], pa.float64()) for j in range(std.shape[1])]
        names += schema.std_columns
    arrays.append(pa.array(errors, pa.string()))
    names.append(ERROR)
    return pa.Table.from_arrays(arrays, names=names)


def _to_gpu(job):
    """Move a torch module model (or LIME ``predict_fn``) to this actor's GPU."""
    from .models import ModelAdapter, is_torch_module

    explainer = job.explainer
    targets = []
    if isinstance(explainer, CoalitionExplainer) and explainer.model.is_module:
        targets.append(explainer.model.model)
    if is_torch_module(job.predict_fn):
        targets.append(job.predict_fn)
    if not targets:
        return
    import torch

    if not torch.cuda.is_available():
        return  # Ray gave this actor no visible GPU: stay on the model's device
    for module in targets:
        module.to("cuda")
    if isinstance(explainer, CoalitionExplainer) and explainer.model.is_module:
        explainer.model = ModelAdapter(explainer.model, device="cuda")
