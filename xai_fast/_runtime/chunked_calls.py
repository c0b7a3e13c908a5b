"""Run a model over a batch in chunks of rows, retrying a chunk that runs out of device memory
in halves, and check each chunk's output shape."""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["array_rows", "chunked_with_oom_retry", "tensor_rows"]


def _is_oom(err: BaseException) -> bool:
    torch = sys.modules.get("torch")
    oom = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    return oom is not None and isinstance(err, oom)


def tensor_rows(out, n: int):
    """A module's output for ``n`` rows as ``(n, k)``; raises on anything else."""
    import torch

    if isinstance(out, torch.Tensor) and out.dim() == 2 and out.shape[0] == n:
        return out  # already (n, k): no view to make (this runs once per model call)
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"the model returned {type(out).__name__}; expected a tensor of shape (n,) "
            "or (n, k). Wrap the module so that forward returns a single tensor."
        )
    if out.dim() == 0 or out.dim() > 2 or out.shape[0] != n:
        raise ValueError(
            f"the model returned an output of shape {tuple(out.shape)} for {n} input rows; "
            f"expected ({n},) or ({n}, k)."
        )
    return out.reshape(n, -1)


def array_rows(out, n: int):
    """:meth:`ModelAdapter.raw_call`'s checked ``(n,)`` or ``(n, k)`` output as ``(n, k)``."""
    if n == 0:  # no rows: k from the output's shape, as reshape cannot infer it
        return out.reshape(0, out.shape[1] if out.ndim == 2 else 1)
    return out.reshape(n, -1)


def chunked_with_oom_retry(fn, X, step: int, rows):
    """``fn`` on consecutive chunks of ``step`` rows of ``X``, the outputs copied into one
    ``(n, k)`` result as they come; a chunk that raises an out-of-memory error is retried in
    halves, down to one row.

    ``rows(out, m)`` checks a chunk's output for its ``m`` rows and returns it as ``(m, k)``.
    Each output is freed before the next call: holding them all for one final concatenation
    left small blocks between the model's activations on the heap, and a 10-64-1 MLP ran 2x
    slower in chunks of 2048 rows (the allocator returned and re-faulted its pages each call).
    """
    n = X.shape[0]
    if n == 0:
        return rows(fn(X), 0)
    result, i = None, 0
    while i < n:
        m = min(step, n - i)
        try:
            out = rows(fn(X[i : i + m]), m)
        except Exception as err:
            if not _is_oom(err) or step == 1:
                if _is_oom(err):
                    raise MemoryError(
                        "the model ran out of device memory on a single row; free memory on "
                        "the device or run the model on the CPU."
                    ) from err
                raise
            import gc

            step = max(1, step // 2)
            gc.collect()
            torch = sys.modules["torch"]
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            continue
        if m == n:
            return out
        if result is None:
            result = empty_rows(out, n)
        elif out.shape[1] != result.shape[1]:
            raise ValueError(
                f"the model returned {out.shape[1]} outputs per row for rows {i}..{i + m - 1} "
                f"but {result.shape[1]} for the rows before; expected the same number for "
                "every row."
            )
        result[i : i + m] = out
        i += m
    return result


def empty_rows(out, n: int):
    """An uninitialised ``(n, k)`` array or tensor like ``out``."""
    if isinstance(out, np.ndarray):
        return np.empty((n,) + out.shape[1:], dtype=out.dtype)
    import torch

    return torch.empty((n,) + tuple(out.shape[1:]), dtype=out.dtype, device=out.device)
