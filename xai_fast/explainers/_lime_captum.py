"""captum's pluggable parts of tensor LIME: ``perturb_func``, ``similarity_func`` and
``interpretable_model``, called as ``captum.attr.Lime`` calls them.

User callables see one example (and one perturbation) at a time, so they are called per
example and per perturbation, as captum does. captum's defaults are here too, vectorised over
an example's perturbations: Bernoulli(1/2) vectors drawn as ``default_perturb_func`` draws them
(:func:`bernoulli_perturbations`), the exponential kernel on the cosine distance between the
example and its perturbed inputs (:func:`exp_cosine_similarity`) and a weighted ``Lasso``
(:func:`lasso_coefficients`).
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import torch

__all__ = [
    "ExampleView",
    "bernoulli_perturbations",
    "draw_perturbations",
    "exp_cosine_similarity",
    "fit_interpretable",
    "lasso_coefficients",
    "similarities",
    "take_fit_draws",
]


class ExampleView:
    """One example of a :class:`~xai_fast.masking.tensor_masker.TensorMasker` in captum's form.

    ``original`` is the example ``(1, ...)`` (a tuple for tuple inputs), ``kwargs`` what captum
    passes to ``perturb_func`` and ``similarity_func`` (``baselines``, ``feature_mask`` and
    ``num_interp_features``), and :meth:`perturbed` builds perturbed inputs from coalitions.
    """

    def __init__(self, masker, i: int, captum_ids: bool = False):
        self.masker, self.i = masker, i
        self.x = masker.X[i : i + 1]  # (1, D)
        self.b = masker.B[min(i, masker.B.shape[0] - 1)][None]  # (1, D)
        self.ids = masker.mask[min(i, masker.mask.shape[0] - 1)]  # (D,) numbered 0..M-1
        self.M = int(masker.M[i])
        shown = self.ids
        if captum_ids:  # captum's ids (less the smallest) and its count of them
            shown, self.M = masker.given[min(i, masker.given.shape[0] - 1)], masker.n_ids
        self.original = self.shaped(self.x)
        self.kwargs = dict(
            baselines=self.shaped(self.b),
            feature_mask=self.shaped(shown[None]),
            num_interp_features=self.M,
        )

    def shaped(self, rows: torch.Tensor):
        """Flat rows ``(P, D)`` in the inputs' form: a tensor ``(P, ...)`` or a tuple."""
        split = self.masker.split
        if split is None:
            return rows.reshape((rows.shape[0],) + self.masker.example_shape)
        return split.tensors(rows)

    def perturbed(self, Z: torch.Tensor) -> torch.Tensor:
        """Flat perturbed inputs ``(S, D)`` of coalitions ``Z`` ``(S, M)``."""
        keep = Z.to(self.x.device)[:, self.ids]  # (S, D)
        return torch.where(keep, self.x, self.b)


def draw_perturbations(perturb_func, view: ExampleView, n_samples: int) -> np.ndarray:
    """``n_samples`` binary vectors ``(S, M)`` from ``perturb_func(original, **kwargs)`` (a
    function returning ``(1, M)`` or a generator of them); fewer if a generator stops."""
    if inspect.isgeneratorfunction(perturb_func):
        draws = list(itertools.islice(perturb_func(view.original, **view.kwargs), n_samples))
    else:
        draws = [perturb_func(view.original, **view.kwargs) for _ in range(n_samples)]
    if not draws:
        raise ValueError("perturb_func produced no perturbations; it must yield (1, M) tensors.")
    Z = torch.cat([torch.as_tensor(z).reshape(1, -1) for z in draws]).cpu()
    if Z.shape[1] != view.M:
        raise ValueError(
            f"perturb_func returned vectors of {Z.shape[1]} entries for an example with "
            f"{view.M} features; return one 0/1 entry per feature, shape (1, {view.M})."
        )
    return Z.numpy() != 0


def similarities(similarity_func, view: ExampleView, Z: np.ndarray, shown=None) -> torch.Tensor:
    """``similarity_func(original, perturbed, interpretable, **kwargs)`` of every
    perturbation ``Z`` ``(S, M)``, ``(S,)`` float64; ``interpretable`` is a row of ``shown``
    (default ``Z``), the vector as the user's sampler drew it."""
    Zt = torch.as_tensor(Z, device=view.x.device)
    shown = Zt if shown is None else torch.as_tensor(shown, device=view.x.device)
    rows = view.perturbed(Zt)  # (S, D)
    out = []
    for s in range(len(Z)):  # a user callable of one perturbation, as captum calls it
        sim = similarity_func(
            view.original, view.shaped(rows[s : s + 1]), shown[s : s + 1].float(), **view.kwargs
        )
        out.append(float(torch.as_tensor(sim).reshape(())))
    return torch.tensor(out, dtype=torch.float64)


def fit_interpretable(model, Z: np.ndarray, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Fit a captum ``Model`` (``fit(DataLoader)``, ``representation()``) on one example's
    perturbations ``Z`` ``(S, M)``, values ``y`` ``(S,)`` and weights ``w`` ``(S,)``; returns
    its coefficients ``(M,)`` as float64."""
    from torch.utils.data import DataLoader, TensorDataset

    data = TensorDataset(
        torch.as_tensor(Z).float(), y.detach().float().cpu(), w.detach().float().cpu()
    )
    model.fit(DataLoader(data, batch_size=len(data)))
    coef = torch.as_tensor(model.representation()).detach().reshape(-1)
    if coef.numel() != Z.shape[1]:
        raise ValueError(
            f"interpretable_model.representation() has {coef.numel()} values for {Z.shape[1]} "
            "features; it must return one coefficient per feature."
        )
    return coef.to(torch.float64)


def bernoulli_perturbations(M: int, S: int, seed) -> np.ndarray:
    """``S`` vectors of ``M`` independent Bernoulli(1/2) entries ``(S, M)`` bool, drawn on the
    CPU from a generator seeded with ``seed``, or with ``seed=None`` from torch's global one:
    the draws of ``S`` calls of captum's ``default_perturb_func``, in the same order."""
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    return torch.bernoulli(torch.full((S, M), 0.5), generator=gen).numpy() != 0


def exp_cosine_similarity(view: ExampleView, Z: np.ndarray, kernel_width: float) -> torch.Tensor:
    """``exp(-d**2 / (2 * kernel_width**2))`` with ``d`` the cosine distance between the
    example and each of its perturbed inputs ``(S,)``, in float32 as captum's default kernel
    computes it."""
    rows = view.perturbed(torch.as_tensor(Z, device=view.x.device))  # (S, D)
    cos = torch.nn.functional.cosine_similarity(view.x.float(), rows.float(), dim=1, eps=1e-8)
    return torch.exp(-((1 - cos) ** 2) / (2 * kernel_width**2))


def lasso_coefficients(Z: np.ndarray, y: torch.Tensor, w: torch.Tensor, alpha: float):
    """Coefficients ``(M,)`` float64 of scikit-learn's ``Lasso(alpha)`` with intercept, fitted
    on ``Z`` ``(S, M)``, values ``y`` ``(S,)`` and weights ``w`` ``(S,)`` in float32, as
    captum's ``SkLearnLasso`` fits them."""
    from sklearn.linear_model import Lasso

    model = Lasso(alpha=alpha)
    model.fit(
        Z.astype(np.float32),
        y.detach().float().cpu().numpy(),
        sample_weight=w.detach().float().cpu().numpy(),
    )
    return torch.as_tensor(np.asarray(model.coef_, dtype=np.float64).reshape(-1))


def take_fit_draws(M: int) -> None:
    """Take the draws from torch's global generator that fitting captum's default surrogate
    takes per example: its ``DataLoader``'s base seed and the initial weights of the
    ``nn.Linear(M, 1)`` it then overwrites, so the next example's perturbations come from the
    same place in the stream as in captum."""
    torch.empty((), dtype=torch.int64).random_()
    torch.empty(1, M).uniform_()
    torch.empty(1).uniform_()
