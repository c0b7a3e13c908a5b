"""One benchmark record per (problem, method): its fields, how to start one and its key."""

from __future__ import annotations

__all__ = ["FIELDS", "record", "record_key"]

#: Keys of every record, in order.
FIELDS = (
    "problem",
    "method",
    "library",
    "seconds",
    "model_seconds",
    "evaluations",
    "rel_error",
    "rank_corr",
    "speedup",
    "note",
)


def record(problem, method, **fields) -> dict:
    """A record of ``method`` on ``problem``: every key of :data:`FIELDS`, ``None`` unless given
    in ``fields`` (``note`` empty)."""
    rec = dict.fromkeys(FIELDS)
    rec.update(problem=problem.name, method=method.name, library=method.library, note="")
    rec.update(fields)
    return rec


def record_key(rec) -> str:
    """``"<library> <method>"``: the label of a record in tables and plots."""
    return f"{rec['library']} {rec['method']}"
