"""Load the compiled extension ``xai_fast._C`` if it is there; otherwise keep working without it.

Set ``XAI_FAST_DISABLE_EXTENSION=1`` to force the fallback (Numba) even when it is built.
"""

from __future__ import annotations

import functools
import logging
import os

log = logging.getLogger("xai_fast")

DISABLE_ENV = "XAI_FAST_DISABLE_EXTENSION"


@functools.lru_cache(maxsize=1)
def extension_status() -> tuple[bool, str]:
    """``(loaded, reason)``: whether ``torch.ops.xai_fast`` is usable, and why not."""
    if os.environ.get(DISABLE_ENV, "0") not in ("", "0"):
        reason = f"disabled by {DISABLE_ENV}"
        log.info("xai_fast: C++ extension %s; using Numba", reason)
        return False, reason
    try:
        import torch  # noqa: F401

        from .. import _C  # noqa: F401  (registers torch.ops.xai_fast)
        from . import torch_fakes  # noqa: F401  (shape functions)
    except Exception as err:  # any failure to load means: run without it
        reason = f"{type(err).__name__}: {err}"
        log.warning("xai_fast: C++ extension not loaded (%s); using Numba", reason)
        return False, reason
    return True, "loaded"


@functools.cache
def has_cuda_kernel(op: str) -> bool:
    """Whether ``torch.ops.xai_fast.<op>`` has a CUDA kernel: the extension is loaded and was
    built with ``csrc/cuda`` (see ``csrc/README.md``)."""
    if not extension_status()[0]:
        return False
    import torch

    return torch._C._dispatch_has_kernel_for_dispatch_key(f"xai_fast::{op}", "CUDA")
