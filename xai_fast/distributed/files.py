"""Parquet and CSV files: find them (paths, globs, directories, URIs), scan and read them.

Local paths are made absolute, since actors may run elsewhere; URIs are read with pyarrow's file
systems (``s3://``, ``gs://``, ...).
"""

from __future__ import annotations

import glob
import os

PARQUET = (".parquet", ".pq")
CSV = (".csv", ".csv.gz", ".csv.bz2")


def expand_paths(data):
    """The files named by ``data`` and their one format.

    Parameters
    ----------
    data : str, path-like, or list or tuple of them
        Files, globs, directories (searched recursively) or URIs.

    Returns
    -------
    paths : list of str
        Absolute local paths or URIs, sorted within each item of ``data``.
    fmt : {"parquet", "csv"}
    """
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
                if f.lower().endswith(PARQUET + CSV)
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
    if low.endswith(PARQUET):
        return "parquet"
    if low.endswith(CSV):
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
        if f.type == pafs.FileType.File and f.path.lower().endswith(PARQUET + CSV)
    )
    if not found:
        raise FileNotFoundError(f"{uri!r} holds no .parquet, .pq or .csv file.")
    return [f"{scheme}://{f}" for f in found]


def scan_file(path, fmt):
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
    table = read_csv(path)
    return list(table.column_names), [table.num_rows]


def read_csv(path):
    """A whole CSV file (compressed or not) as a pyarrow Table."""
    import pyarrow.csv as pacsv

    fs, p = _filesystem(path)
    with fs.open_input_stream(p, compression="detect") as fh:
        return pacsv.read_csv(fh)


def read_row_group(path, group, columns):
    """Row group ``group`` of a Parquet file, only ``columns``, as a DataFrame."""
    import pyarrow.parquet as pq

    fs, p = _filesystem(path)
    with fs.open_input_file(p) as fh:
        return pq.ParquetFile(fh).read_row_group(group, columns=columns).to_pandas()
