"""Numba kernels compiled ahead of time at set-up, so that a process can run them without
importing Numba.

A process's first Numba kernel costs about 0.7 s before any work: 0.3 s to import Numba and
0.4 s for its first dispatch (Numba loads its typing and lowering registries then), even with
the on-disk cache warm. Tabular LIME on a callable needs only the five kernels of
:data:`EXPORTS`, so :func:`build` (run by ``python -m xai_fast._runtime.warm_cache``, which
``make`` runs) compiles them with ``numba.pycc`` into the extension module
``xai_fast.backends._host_kernels``, from the very functions the JIT runs.

The module holds a stamp of its sources (:func:`source_stamp`); :func:`load` uses it only
while the stamp still matches, so an edited kernel never runs stale. Compiled code does not
check its arguments (a float32 array where float64 is declared reads garbage), so
:func:`call` checks every argument against the export's declared types and runs the JIT
kernel for anything else.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["EXPORTS", "MODULE", "build", "call", "load", "source_stamp"]

#: The extension module :func:`build` writes, next to this file.
MODULE = "_host_kernels"

#: Export name -> (module under ``xai_fast``, jitted function, argument types, return type).
#: Types: ``"f8"``, ``"i8"``, ``"u8"``, ``"b1"`` scalars; ``"f8[2]"`` a C-contiguous float64
#: array of 2 dimensions (and so on); a tuple of array types for a tuple result.
EXPORTS = {
    "draw_neighbourhood": (
        "sampling.lime_neighbourhood_numba", "draw",
        ("u8", "u8", "i8", "i1[1]") + ("f8[2]",) * 6 + ("f8[1]", "f8[1]"),
        ("f8[2]", "f8[2]"),
    ),
    "interpretable_rows": (
        "masking.lime_rows_numba", "_rows",
        ("f8[2]", "f8[2]", "f8[2]", "b1[1]", "b1"), ("f8[3]", "f8[2]"),
    ),
    "weighted_moments": (
        "solvers.lime_ridge_numba", "weighted_moments",
        ("f8[3]", "f8[2]", "f8[3]"), ("f8[2]", "f8[3]", "f8[2]", "f8[3]", "f8[2]"),
    ),
    "select_features": (
        "solvers.lime_ridge_numba", "select_features",
        ("f8[3]", "f8[3]", "f8[2]", "f8[2]", "i8", "i8"), "i8[3]",
    ),
    "ridge_fit": (
        "solvers.lime_ridge_numba", "ridge_fit",
        ("f8[3]", "f8[3]", "f8[2]", "f8[2]", "f8[2]", "f8[2]", "i8[3]", "f8"),
        ("f8[3]", "f8[2]", "f8[2]", "f8[2]"),
    ),
}  # fmt: skip
#: Modules (under ``xai_fast``) whose code the exports compile in: their own and what they
#: import from the package (the stream, the kind codes, the selection codes).
SOURCES = (
    "sampling.lime_neighbourhood_numba", "sampling.lime_neighbourhood_ref", "_rng_numba",
    "_rng", "masking.lime_rows_numba", "solvers.lime_ridge_numba", "solvers.lime_ridge_ref",
)  # fmt: skip
_NUMBA_NAMES = {"f8": "float64", "i8": "int64", "u8": "uint64", "b1": "boolean", "i1": "int8"}
_DTYPES = {"f8": np.float64, "i8": np.int64, "u8": np.uint64, "b1": np.bool_, "i1": np.int8}
_PACKAGE = Path(__file__).resolve().parent.parent

#: The loaded module (``False`` when missing or stale), once looked up.
_MODULE: list = []
#: Export name -> its JIT kernel, once imported.
_JIT: dict = {}


def source_stamp() -> int:
    """A 63-bit hash of the exported kernels' sources, the export table and Numba's version."""
    h = hashlib.sha256(repr(EXPORTS).encode())
    for module in SOURCES:
        h.update((_PACKAGE / (module.replace(".", "/") + ".py")).read_bytes())
    spec = importlib.util.find_spec("numba")
    if spec is not None and spec.origin:  # the version file, without importing Numba
        h.update((Path(spec.origin).parent / "_version.py").read_bytes())
    return int.from_bytes(h.digest()[:8], "little") >> 1


def _numba_type(kind: str) -> str:
    if "[" not in kind:
        return _NUMBA_NAMES[kind]
    base, ndim = kind[:-3], int(kind[-2])
    return f"{_NUMBA_NAMES[base]}[{', '.join([':'] * (ndim - 1) + ['::1'])}]"


def _signature(args: tuple, result) -> str:
    if isinstance(result, tuple):
        out = f"Tuple(({', '.join(_numba_type(r) for r in result)}))"
    else:
        out = _numba_type(result)
    return f"{out}({', '.join(_numba_type(a) for a in args)})"


def build(output_dir: str | Path | None = None) -> Path:
    """Compile :data:`EXPORTS` into ``_host_kernels`` (next to this file by default), with
    the current :func:`source_stamp`; returns the path of the extension module."""
    import warnings

    import numba as nb

    with warnings.catch_warnings():  # numba.pycc announces its successor on import
        warnings.simplefilter("ignore")
        from numba.pycc import CC

    cc = CC(MODULE)
    cc.output_dir = str(output_dir or Path(__file__).resolve().parent)
    cc.verbose = False
    for name, (module, function, args, result) in EXPORTS.items():
        jitted = getattr(importlib.import_module(f"xai_fast.{module}"), function)
        cc.export(name, _signature(args, result))(jitted.py_func)
    stamp = source_stamp()
    cc.export("stamp", "int64()")(nb.njit(lambda: stamp).py_func)
    cc.compile()
    return Path(cc.output_dir) / cc.output_file


def load():
    """The compiled module, or ``None`` when it was not built or its sources changed since."""
    if not _MODULE:
        try:
            module = importlib.import_module(f".{MODULE}", __package__)
            ok = module.stamp() == source_stamp()
        except (ImportError, AttributeError, OSError):
            ok = False
        _MODULE.append(module if ok else False)
    return _MODULE[0] or None


def _checked(value, kind: str):
    """``value`` as the export's argument type ``kind``, or ``None`` where it is not one."""
    if "[" in kind:
        ok = (
            isinstance(value, np.ndarray)
            and value.dtype == _DTYPES[kind[:-3]]
            and value.ndim == int(kind[-2])
            and value.flags.c_contiguous
            and value.flags.aligned
        )
        return value if ok else None
    if kind == "b1":
        return bool(value) if isinstance(value, (bool, np.bool_)) else None
    if kind == "f8":
        return float(value) if isinstance(value, (float, int, np.floating, np.integer)) else None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        return None
    lo, hi = (0, 2**64) if kind == "u8" else (-(2**63), 2**63)
    return int(value) if lo <= value < hi else None


def call(name: str, *args):
    """Run export ``name`` compiled ahead of time when it was built and ``args`` have its
    declared types; otherwise its JIT kernel (same code, so the same results)."""
    module = load()
    if module is not None:
        kinds = EXPORTS[name][2]
        checked = [_checked(a, k) for a, k in zip(args, kinds, strict=True)]
        if all(c is not None for c in checked):
            return getattr(module, name)(*checked)
    return jit(name)(*args)


def jit(name: str):
    """The JIT kernel behind export ``name`` (importing Numba)."""
    fn = _JIT.get(name)
    if fn is None:
        module, function = EXPORTS[name][:2]
        loaded = importlib.import_module(f"..{module}", __package__)
        from .._runtime.compile_notice import compiling_notice

        compiling_notice(loaded)
        fn = _JIT[name] = getattr(loaded, function)
    return fn
