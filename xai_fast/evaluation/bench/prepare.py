"""A problem made ready to time: a model that counts the rows it is given, the work of every
run, and the exact values to score against (every coalition, up to 16 features or patches;
none for the superpixel and text problems, scored by agreement with their references)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .runners import ImageWork, TabularWork
from .work import SuperpixelWork, TextWork

__all__ = ["MAX_EXACT_FEATURES", "Setup", "setup_problem"]

#: Largest number of features scored by enumeration.
MAX_EXACT_FEATURES = 16


def _counting_module(net):
    import torch

    class CountingModule(torch.nn.Module):
        """``net`` that counts the rows it is given."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.rows = 0

        def forward(self, x):
            self.rows += int(x.shape[0])
            return self.inner(x)

    return CountingModule(net).eval()


class _CountingCallable:
    """A numpy callable that counts the rows it is given."""

    def __init__(self, fn):
        self.fn = fn
        self.rows = 0

    def __call__(self, X):
        self.rows += len(X)
        return self.fn(X)


def _numpy_fn(module):
    """A float32 module ``(n, d) -> (n, 1)`` as a numpy callable ``(n, d) -> (n,)``."""
    import torch

    def f(X):
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
            return module(x).numpy()[:, 0].astype(np.float64)

    return f


@dataclass
class Setup:
    """A built problem with its counting model, the work of its runs and its exact values."""

    problem: object
    counter: object
    work: object
    exact: np.ndarray | None
    exact_note: str


def setup_problem(problem, seed: int) -> Setup:
    """Wrap the model of a built problem to count its rows, build the work of its runs and
    compute its exact values (``None`` above :data:`MAX_EXACT_FEATURES` tabular features)."""
    given = {f.name: getattr(problem, f.name) for f in fields(problem) if f.init}
    if problem.kind == "image":
        counter = _counting_module(problem.model)
        work = ImageWork(**{**given, "model": counter}, seed=seed)
        note = f"exact: all 2^{problem.n_features} sets of patches"
        return Setup(problem, counter, work, _image_exact(problem), note)
    if problem.kind in ("superpixel", "text"):  # images or strings: counted one per item
        counter = _CountingCallable(problem.model)
        cls = SuperpixelWork if problem.kind == "superpixel" else TextWork
        return Setup(problem, counter, cls(**{**given, "model": counter}, seed=seed), None, "")
    if problem.is_module:
        counter = _counting_module(problem.model)
        fn = _numpy_fn(counter)
    else:
        counter = fn = _CountingCallable(problem.model)
    work = TabularWork(
        counter, fn, problem.background, problem.rows, problem.train, problem.nsamples,
        problem.lime_samples, seed,
    )  # fmt: skip
    if problem.n_features > MAX_EXACT_FEATURES:
        return Setup(problem, counter, work, None, "")
    from ... import ExactExplainer

    exact = ExactExplainer(problem.model, problem.background).shap_values(problem.rows, silent=True)
    return Setup(problem, counter, work, np.reshape(exact, problem.rows.shape), "")


def _image_exact(problem) -> np.ndarray:
    """Exact Shapley values ``(n, M)`` of the patch game of every image: coalition ``z`` is
    worth the targeted logit of ``baseline + (x - baseline) * z[mask]``."""
    import torch

    from ... import ExactExplainer

    ids = problem.feature_mask.reshape(-1)
    M = problem.n_features
    out = np.zeros((len(problem.inputs), M))
    b = problem.baselines[0]
    for i, (x, t) in enumerate(zip(problem.inputs, problem.target, strict=True)):

        def game(Z, x=x, t=t, b=b):
            z = torch.as_tensor(Z, dtype=x.dtype)[:, ids].reshape(-1, *x.shape)
            with torch.inference_mode():
                return problem.model(b + (x - b) * z)[:, t].numpy()

        e = ExactExplainer(game, np.zeros((1, M)), batch_size=16384)
        out[i] = np.reshape(e.shap_values(np.ones((1, M)), silent=True), M)
    return out
