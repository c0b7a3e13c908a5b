"""Compile the Numba kernels into their on-disk cache, so that no user call compiles them.

``python -m xai_fast._runtime.warm_cache`` (run by ``make venv``) explains a few tiny problems
with the Numba backend: Kernel SHAP with each sampler and feature selection, exact values (on
continuous and on repeating values), LIME on tabular rows with each discretizer, continuous
and sparse, in float64 and float32, and image LIME (its perturbed images and quickshift). Each
kernel compiles once for the argument types these paths use and is cached next to its module
(``__pycache__/*.nbi``); later processes load it from there. Then the kernels of
:mod:`xai_fast.backends.aot` are compiled ahead of time, so that tabular LIME's first call
need not start Numba at all.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["warm"]


def warm() -> float:
    """Run the tiny problems; returns the seconds it took."""
    import xai_fast as xf
    from xai_fast._runtime import compile_notice

    compile_notice._NOTICED.add("*")  # compiling is what this is for: no notice
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        X = rng.normal(size=(40, 6)).astype(dtype)
        w = rng.normal(size=(6, 2)).astype(dtype)

        def f(Z, w=w):  # class probabilities of a softmax over two scores
            e = np.exp(np.tanh(np.asarray(Z) @ w))
            return e / e.sum(axis=1, keepdims=True)

        for sampler in ("shap", "leverage"):
            ex = xf.KernelExplainer(f, X[:8], seed=0, backend="numba", sampler=sampler)
            ex.shap_values(X[:2], nsamples=30, l1_reg=False, silent=True)
        for l1 in ("num_features(3)", "aic", "bic", 0.01):
            xf.KernelExplainer(f, X[:8], seed=0, backend="numba").shap_values(
                X[:2], nsamples=40, l1_reg=l1, silent=True
            )
        xf.ExactExplainer(f, X[:8], backend="numba")(X[:2], silent=True)
        codes = np.round(X)  # values that repeat: the distinct-row kernels
        xf.ExactExplainer(f, codes[:8], backend="numba")(codes[:2], silent=True)
        labels = (X[:, 0] > 0).astype(int)
        for kw in (
            dict(discretizer="quartile"),
            dict(discretizer="decile"),
            dict(discretizer="entropy", training_labels=labels),
            dict(discretize_continuous=False),
            dict(categorical_features=[1], discretizer="quartile"),
        ):
            lime = xf.LimeTabularExplainer(X, random_state=0, backend="numba", **kw)
            for selection in ("auto", "lasso_path", "forward_selection", "highest_weights", "none"):
                lime.feature_selection = selection
                lime.explain_instance(X[0], f, num_samples=60, num_features=3)
            lime.explain_instances(X[:2], f, num_samples=60, num_features=3)
    _warm_images(xf, rng)
    return time.perf_counter() - start


def _warm_images(xf, rng) -> None:
    """Image LIME on tiny images of the usual dtypes: the perturbed-image kernel for 1-, 4- and
    8-byte pixels, and quickshift's kernels when scikit-image is there."""
    import importlib.util

    quickshift = importlib.util.find_spec("skimage") is not None
    for dtype in (np.uint8, np.float32, np.float64):
        image = (rng.random((8, 8, 3)) * (255 if dtype == np.uint8 else 1)).astype(dtype)
        seg = None if quickshift else (lambda im: np.arange(64).reshape(8, 8) // 16)
        xf.LimeImageExplainer(random_state=0).explain_instance(
            image, lambda x: np.asarray(x).reshape(len(x), -1)[:, :2] + 0.5, top_labels=None,
            labels=(0,), num_samples=20, segmentation_fn=seg, silent=True,
        )  # fmt: skip


def main() -> None:
    took = warm()
    print(f"xai_fast: Numba kernels compiled and cached ({took:.1f} s)")
    from xai_fast.backends import aot

    start = time.perf_counter()
    try:
        path = aot.build()
    except Exception as err:  # no compiler, a read-only install: the JIT kernels serve
        print(
            f"xai_fast: LIME kernels not compiled ahead of time ({type(err).__name__}: {err}); "
            "LIME uses the cached Numba kernels instead (the same results, about 0.7 s more "
            "on a process's first call)"
        )
        return
    took = time.perf_counter() - start
    print(f"xai_fast: LIME kernels compiled ahead of time into {path.name} ({took:.1f} s)")


if __name__ == "__main__":
    main()
