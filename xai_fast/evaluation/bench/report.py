"""The results of :func:`~xai_fast.evaluation.bench.suite.run_suite` as a markdown table and as
JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .records import record_key

__all__ = ["to_markdown", "write_json"]


def _fmt_seconds(s) -> str:
    if s is None:
        return "-"
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def _fmt(x, spec, suffix="") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:{spec}}{suffix}"


def to_markdown(result: dict, *, command: str | None = None) -> str:
    """The records of :func:`.suite.run_suite` as a markdown table (one row per record), preceded by
    the date, command and machine."""
    meta = result["meta"]
    vers = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v is not None)
    lines = [
        f"{meta['date']}, `{command or meta.get('command') or 'xai-fast bench'}`: "
        f"{meta['cpus']} CPUs, torch threads {meta['torch_threads']}, backends "
        f"{', '.join(meta['backends'])}; {vers}. Median of {meta['repeats']} runs after a "
        f"warm-up; {meta['seconds']:.0f} s in all; load average {_fmt_load(meta)}.",
        "",
        "| problem | method | time | model alone | model rows | rel. error | rank corr. "
        "| speed-up | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["records"]:
        cells = [
            r["problem"],
            record_key(r),
            _fmt_seconds(r["seconds"]),
            _fmt_seconds(r["model_seconds"]),
            _fmt(r["evaluations"], ","),
            _fmt(r["rel_error"], ".2g"),
            _fmt(r["rank_corr"], ".3f"),
            _fmt(r["speedup"], ".1f", "x"),
            (r["note"] or "").replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt_load(meta) -> str:
    loads = [x for x in meta.get("load_average") or () if x is not None]
    return " -> ".join(f"{x:.1f}" for x in loads) if loads else "unknown"


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def write_json(result: dict, path) -> None:
    """Write ``result`` as JSON (NaN written as null)."""
    Path(path).write_text(json.dumps(_jsonable(result), indent=2) + "\n")
