"""Spare row buffers of finished calls, shared by every tabular masker of the process.

Filling a fresh 1 MiB buffer costs about twice as much as filling a used one: its pages are
faulted in on the first write, a tenth of a small model's time. Explainers are often made anew
for each call (``KernelExplainer(model, data).shap_values(x)``), so buffers kept per explainer
would rarely be reused; these outlive them. Only CPU buffers are kept: on other devices torch's
caching allocator already reuses memory.
"""

from __future__ import annotations

import threading

import torch

__all__ = ["MAX_SPARE", "MAX_SPARE_BYTES", "give_back", "take"]

#: At most this many spare buffers (one per chunk worker) ...
MAX_SPARE = 8
#: ... holding at most this many bytes in all; a larger buffer is freed.
MAX_SPARE_BYTES = 32 * 2**20

_spare: list[torch.Tensor] = []  # newest first
_lock = threading.Lock()


def take(rows: int, d: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A ``(rows', d)`` buffer with ``rows' >= rows``: the newest spare one that fits, else new.

    The caller owns it until it hands it back with :func:`give_back`.
    """
    if device.type == "cpu":
        with _lock:
            for k, buf in enumerate(_spare):
                if buf.shape[0] >= rows and buf.shape[1] == d and buf.dtype == dtype:
                    return _spare.pop(k)
    return torch.empty((rows, d), dtype=dtype, device=device)


def give_back(bufs) -> None:
    """Keep the CPU buffers of ``bufs`` for later calls (newest first, within the limits)."""
    global _spare
    kept = [b for b in bufs if b.device.type == "cpu"]
    with _lock:
        spare, total = [], 0
        for buf in kept + _spare:
            size = buf.numel() * buf.element_size()
            if len(spare) < MAX_SPARE and total + size <= MAX_SPARE_BYTES:
                spare.append(buf)
                total += size
        _spare = spare
