"""Kernel backends behind one picker: ``"numpy"`` (reference), ``"numba"`` and ``"torch"``.

Every backend exports every kernel of :data:`KERNELS` under the reference's name and signature.
``"torch"`` is the C++ extension ``xai_fast._C`` (listed only when it loads); it has C++ ops for
the Kernel SHAP design, masking, background means and solve (and torch ops that build chosen
rows on any device), and runs the other kernels (host work: the leverage and LIME samplers,
finding equal rows, LIME's rows, images and surrogate fits, quickshift, lasso) with Numba's
implementation.
``Backend.implementations`` says which implementation each kernel runs, and a backend pickles
as its name, so a worker process loads its own copy of the kernels.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

__all__ = ["AOT_KERNELS", "KERNELS", "Backend", "available", "get_backend"]

_KNOWN = ("numpy", "numba", "torch")
#: Backends already built, by name.
_LOADED: dict = {}

#: Kernel name -> module (under ``xai_fast``) of its numpy reference; the Numba kernel lives in
#: the sibling module ``..._numba`` under the same name and signature.
KERNELS = {
    "kernel_design": "sampling.kernel_design_ref",
    "leverage_design": "sampling.leverage_design_ref",
    "sample_neighbourhood": "sampling.lime_neighbourhood_ref",
    "fill_masked_rows": "masking.fill_ref",
    "background_mean": "masking.fill_ref",
    "distinct_masked_rows": "masking.distinct_ref",
    "fill_rows_at": "masking.fill_ref",
    "interpretable_rows": "masking.lime_rows_ref",
    "fill_superpixel_images": "masking.superpixel_fill_ref",
    "quickshift_densities": "masking.quickshift_ref",
    "quickshift_parents": "masking.quickshift_ref",
    "constrained_wls": "solvers.kernel_wls_ref",
    "weighted_moments": "solvers.lime_ridge_ref",
    "select_features": "solvers.lime_ridge_ref",
    "ridge_fit": "solvers.lime_ridge_ref",
    "lasso_path_support": "solvers.lasso_path_ref",
}
#: Kernels the ``"torch"`` backend runs itself, on tensors of any device: C++ ops, and
#: ``fill_rows_at`` in plain torch ops (the others run Numba's on the host).
TORCH_OPS = (
    "kernel_design", "fill_masked_rows", "background_mean", "fill_rows_at", "constrained_wls",
)  # fmt: skip


#: Kernels the ``"numba"`` backend runs from :mod:`.aot_kernels`: compiled ahead of time when
#: that module was built, without importing Numba (the rest of tabular LIME's first call).
AOT_KERNELS = (
    "sample_neighbourhood", "interpretable_rows", "weighted_moments", "select_features",
    "ridge_fit",
)  # fmt: skip


class Backend:
    """The kernels of one backend, as :func:`get_backend` returns them: ``backend.<kernel>``
    for every kernel of :data:`KERNELS`, each imported at its first use (so an explainer
    loads only the kernels it runs: tabular LIME on a callable never imports Numba when its
    kernels were compiled ahead of time); ``implementations[kernel]`` names the backend whose
    implementation runs (``"numba"`` for the host kernels of ``"torch"``).

    Pickles as its name and loads as ``get_backend(name)``: compiled kernels pickled by value
    would lose Numba's on-disk cache and compile again in every process that loads them (about
    15 s per Ray actor), and loading ``"torch"`` by name also registers the extension's ops.
    """

    def __init__(self, name: str, implementations: dict):
        self.name = name
        self.implementations = implementations

    def __getattr__(self, kernel: str) -> Callable:  # only for kernels not yet loaded
        impl = self.__dict__.get("implementations", {}).get(kernel)
        if impl is None:
            raise AttributeError(f"backend {self.__dict__.get('name')!r} has no kernel {kernel!r}")
        fn = _kernel(kernel, impl)
        setattr(self, kernel, fn)
        return fn

    def __reduce__(self):
        return (get_backend, (self.name,))

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


def _is_available(name: str) -> bool:
    """Whether backend ``name`` runs here; only ``"torch"`` imports torch to find out."""
    if name == "numpy":
        return True
    if name == "numba":
        return importlib.util.find_spec("numba") is not None
    from .extension import extension_status

    return extension_status()[0]


def available() -> list[str]:
    """Names of the backends usable on this machine, reference first."""
    return [name for name in _KNOWN if _is_available(name)]


def _kernel(kernel: str, impl: str) -> Callable:
    """Kernel ``kernel`` of implementation ``impl`` (``"numpy"``, ``"numba"`` or ``"torch"``)."""
    if impl == "torch":
        return getattr(importlib.import_module(".torch_ops", __name__), kernel)
    if impl == "numba" and kernel in AOT_KERNELS:
        return getattr(importlib.import_module(".aot_kernels", __name__), kernel)
    module = KERNELS[kernel]
    if impl == "numba":
        module = module[: -len("_ref")] + "_numba"
    loaded = importlib.import_module(f"..{module}", __name__)
    if impl == "numba":
        from .._runtime.compile_notice import compiling_notice

        compiling_notice(loaded)
    return getattr(loaded, kernel)


def get_backend(name: str = "auto", *, model_is_module: bool = False) -> Backend:
    """Return the kernels of backend ``name``.

    ``"auto"`` picks ``"torch"`` for a ``torch.nn.Module`` when the extension is loaded (the
    whole pipeline then stays on the module's device), and ``"numba"`` otherwise. A numpy or
    numba backend asked for by name never imports torch.
    """
    if name not in _KNOWN + ("auto",):
        raise ValueError(f"backend must be 'auto' or one of {list(_KNOWN)}; got {name!r}.")
    if name == "auto":  # a callable's explainer never imports torch to decide
        if model_is_module and _is_available("torch"):
            name = "torch"
        else:
            name = "numba" if _is_available("numba") else "numpy"
    elif not _is_available(name):
        from .extension import extension_status

        why = f" ({extension_status()[1]})" if name == "torch" else ""
        raise ValueError(f"backend {name!r} is not available here{why}; available: {available()}.")
    backend = _LOADED.get(name)
    if backend is None:  # built once per process: every explainer asks at construction
        impls = {k: name if name != "torch" or k in TORCH_OPS else "numba" for k in KERNELS}
        backend = Backend(name, impls)
        _LOADED[name] = backend
    return backend
