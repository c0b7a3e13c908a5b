"""The one freed block that lets glibc serve a call's large temporaries from its heap
(xai_fast/_runtime/heap_warmup.py): once per process, only under glibc, skipped on request."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from xai_fast._runtime import heap_warmup

_CHILD = """
import os, resource, sys
import numpy as np
from xai_fast._runtime import heap_warmup
block = int(sys.argv[1])
def faults_of_a_few_blocks():  # eight blocks held at once, as a chunk's temporaries
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    held = [np.empty(block, dtype=np.uint8) for _ in range(8)]
    for a in held:
        a[::4096] = 1  # touch every page
    del held, a  # 24 MiB freed at once: above the trim threshold, back to the system
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_a_few_blocks()  # the threshold now sits at this block's size
cold = faults_of_a_few_blocks()
heap_warmup.warm_heap()
faults_of_a_few_blocks()
print(cold, faults_of_a_few_blocks())
"""


@pytest.mark.skipif(
    not heap_warmup._is_glibc() or sys.platform != "linux", reason="glibc's malloc only"
)
def test_blocks_of_a_few_mib_stop_faulting_after_the_warm_up():
    """In a new process, a call's temporaries of a few MiB go back to the system when freed
    (every page faults again next time); after the warm-up the heap keeps them. Faults are
    counted, not timed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("XAI_FAST_KEEP_MALLOC", None)
    pages = 3 * 2**20 // 4096
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(3 * 2**20)], capture_output=True, text=True,
        env=env, check=True,
    ).stdout.split()  # fmt: skip
    cold, warm = (int(v) for v in out)
    assert cold >= 4 * pages  # of eight blocks of 768 pages, most fault again
    assert warm < pages // 4  # kept by the heap: their pages stay mapped


def test_runs_once_and_can_be_skipped(monkeypatch):
    calls = []
    monkeypatch.setattr(heap_warmup, "np", _Recorder(calls))
    monkeypatch.setattr(heap_warmup, "_done", False)
    monkeypatch.setattr(heap_warmup, "_is_glibc", lambda: True)
    monkeypatch.delenv("XAI_FAST_KEEP_MALLOC", raising=False)
    heap_warmup.warm_heap()
    heap_warmup.warm_heap()
    assert calls == [heap_warmup.BLOCK_BYTES]
    calls.clear()
    monkeypatch.setattr(heap_warmup, "_done", False)
    monkeypatch.setenv("XAI_FAST_KEEP_MALLOC", "1")
    heap_warmup.warm_heap()
    assert calls == []
    monkeypatch.setattr(heap_warmup, "_done", False)
    monkeypatch.delenv("XAI_FAST_KEEP_MALLOC")
    monkeypatch.setattr(heap_warmup, "_is_glibc", lambda: False)  # another C library
    heap_warmup.warm_heap()
    assert calls == []


def test_the_block_fits_under_glibcs_ceiling():
    """glibc raises its threshold only for freed blocks of at most 32 MiB (64-bit)."""
    assert 16 * 2**20 < heap_warmup.BLOCK_BYTES <= 32 * 2**20 - 4096


class _Recorder:
    """numpy's ``empty``, noting the sizes asked for."""

    uint8 = np.uint8

    def __init__(self, calls):
        self.calls = calls

    def empty(self, n, dtype):
        self.calls.append(n)
        return np.empty(0, dtype=dtype)
