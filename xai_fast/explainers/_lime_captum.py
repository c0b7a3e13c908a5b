"""captum's pluggable parts of tensor LIME: ``perturb_func``, ``similarity_func`` and
``interpretable_model``, called as ``captum.attr.Lime`` calls them.

They are user callables that see one example (and one perturbation) at a time, so they are
called per example and per perturbation, as captum does; LIME's defaults need none of this.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import torch

__all__ = ["ExampleView", "draw_perturbations", "fit_interpretable", "similarities"]


class ExampleView:
    """One example of a :class:`~xai_fast.masking.tensor_masker.TensorMasker` in captum's form.

    ``original`` is the example ``(1, ...)`` (a tuple for tuple inputs), ``kwargs`` what captum
    passes to ``perturb_func`` and ``similarity_func`` (``baselines``, ``feature_mask`` and
    ``num_interp_features``), and :meth:`perturbed` builds perturbed inputs from coalitions.
    """

    def __init__(self, masker, i: int):
        self.masker, self.i = masker, i
        self.x = masker.X[i : i + 1]  # (1, D)
        self.b = masker.B[min(i, masker.B.shape[0] - 1)][None]  # (1, D)
        self.ids = masker.mask[min(i, masker.mask.shape[0] - 1)]  # (D,)
        self.M = int(masker.M[i])
        self.original = self.shaped(self.x)
        self.kwargs = dict(
            baselines=self.shaped(self.b),
            feature_mask=self.shaped(self.ids[None]),
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


def similarities(similarity_func, view: ExampleView, Z: np.ndarray) -> torch.Tensor:
    """``similarity_func(original, perturbed, interpretable, **kwargs)`` of every
    perturbation, ``(S,)`` float64."""
    Zt = torch.as_tensor(Z, device=view.x.device)
    rows = view.perturbed(Zt)  # (S, D)
    out = []
    for s in range(len(Z)):  # a user callable of one perturbation, as captum calls it
        sim = similarity_func(
            view.original, view.shaped(rows[s : s + 1]), Zt[s : s + 1].float(), **view.kwargs
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
