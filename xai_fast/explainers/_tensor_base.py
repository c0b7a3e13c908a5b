"""What the tensor perturbation explainers share: the captum-style front door and the pipeline.

``attribute`` = ModelAdapter -> TensorMasker (inputs, baselines, feature mask) -> one design per
distinct number of features ``M`` -> Game.evaluate -> the subclass's solver -> every element
carries its feature's value. A subclass supplies ``_design`` and ``_solve`` only.
"""

from __future__ import annotations

import numpy as np
import torch

from .._rng import normalize_seed, torch_global_seed
from .._runtime.chunk_workers import default_workers
from .._runtime.progress import Progress
from .._validation import (
    check_batch_size,
    check_flag,
    check_int,
    check_model,
    check_no_kwargs,
    check_seed,
    check_workers,
    is_int,
)
from ..masking import Game
from ..masking.tensor_masker import TensorMasker
from ..masking.tensor_tuple import ExtraArgs, ScalarForward, forward_args
from ..models import ModelAdapter, is_torch_module

# captum arguments without an equivalent here (other than their default), and what to do instead
_CAPTUM_ONLY: dict = {}


def attribute_method(doc: str):
    """captum's ``attribute`` signature for a tensor perturbation explainer, documented by
    ``doc``; it runs :meth:`TensorPerturbationExplainer._attribute`."""

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        *,
        additional_forward_args=None,
        feature_mask=None,
        n_samples="auto",
        perturbations_per_eval=1,
        return_input_shape=True,
        show_progress=False,
        patch_size=None,
        **kwargs,
    ) -> torch.Tensor:
        check_int(perturbations_per_eval, "perturbations_per_eval", 1)  # rows per call: batch_size
        options = dict(
            feature_mask=feature_mask,
            n_samples=n_samples,
            show_progress=show_progress,
            patch_size=patch_size,
            shaped=check_flag(return_input_shape, "return_input_shape"),
            additional_forward_args=additional_forward_args,
        )
        return self._attribute(inputs, baselines, target, options, kwargs)

    attribute.__doc__ = doc
    return attribute


class TensorPerturbationExplainer:
    """Model handling, input checks and the batched evaluation of binary designs.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps a tensor ``(n, ...)`` to ``(n,)`` or ``(n, k)`` outputs.
    seed : int, numpy Generator or None
    batch_size : int or None
        Perturbed inputs per model call (default: :class:`ModelAdapter`'s rule).
    workers : int or None
        Chunks a module on the CPU evaluates at once.
    kwargs : dict
        Unknown constructor arguments (refused).
    """

    _INIT_OPTIONS: tuple = ("model", "seed", "batch_size", "workers")
    _CALL_OPTIONS = (
        "inputs",
        "baselines",
        "target",
        "feature_mask",
        "n_samples",
        "show_progress",
        "patch_size",
        "additional_forward_args",
        "perturbations_per_eval",
        "return_input_shape",
    )
    _PROGRESS = ""  # captum's progress label: "<_PROGRESS> attribution"

    def __init__(self, model, seed, batch_size, workers, kwargs):
        check_no_kwargs(kwargs, f"{type(self).__name__}()", self._INIT_OPTIONS)
        self.workers = check_workers(workers)
        check_model(model, accepts="a tensor (N, ...)")
        normalize_seed(0 if seed is None else check_seed(seed))  # validate the type now
        self.model = model
        self.is_module = is_torch_module(model)
        self.seed = seed
        self.batch_size = check_batch_size(batch_size)
        self.adapter = ModelAdapter(model, batch_size=self.batch_size, workers=self.workers)

    def attribute_future(self, *args, **kwargs):
        """captum's asynchronous variant of ``attribute`` (forwards returning futures): not
        implemented, as in captum's methods of this kind; call ``attribute``."""
        raise NotImplementedError(
            f"{type(self).__name__}.attribute_future is not implemented; call attribute(...) "
            "with a forward that returns tensors."
        )

    def _chunk_workers(self, device) -> int:
        """Chunks evaluated at once on ``device``: several for a module on the CPU."""
        return default_workers(self.is_module, device, self.workers)

    # ------------------------------------------------------------------ to override
    def _design(self, M: int, n_samples, seed):
        """``(Z (S, M) bool, extra)`` for examples with ``M`` features."""
        raise NotImplementedError

    def _solve(self, values: torch.Tensor, Z: np.ndarray, extra) -> torch.Tensor:
        """Attributions ``(n, M)`` from the coalition values ``(n, S)``."""
        raise NotImplementedError

    def _designs(self, masker, groups, n_samples, seed) -> list:
        """``[(rows, Z, extra)]``: one design per group of examples with ``M`` features."""
        return [(rows, *self._design(M, n_samples, seed)) for M, rows in groups]

    def _solve_rows(self, values, Z, extra, masker, rows) -> torch.Tensor:
        """Attributions ``(n, M)`` of examples ``rows`` from their values ``(n, S)``."""
        return self._solve(values, Z, extra)

    # ------------------------------------------------------------------ the pipeline
    @classmethod
    def _check_call_kwargs(cls, kwargs, captum: dict) -> None:
        """Refuse unknown arguments, and captum's in ``_CAPTUM_ONLY`` unless at their default
        (``None``)."""
        for name, hint in _CAPTUM_ONLY.items():
            if name in kwargs or captum.get(name) is not None:
                raise TypeError(f"{name} is captum's argument and is not supported here; {hint}.")
        check_no_kwargs(kwargs, f"{cls.__name__}.attribute()", cls._CALL_OPTIONS)

    @staticmethod
    def _check_n_samples(n_samples):
        if isinstance(n_samples, str) and n_samples == "auto":
            return n_samples
        if is_int(n_samples) and n_samples >= 2:
            return int(n_samples)
        raise ValueError(f"n_samples must be 'auto' or an int >= 2; got {n_samples!r}.")

    def _call_adapter(self, masker: TensorMasker, args: tuple) -> ModelAdapter:
        """The adapter of one call: the explainer's, or around the forward of tuple inputs,
        extra arguments, one-number outputs and tuple targets, with the module's device and
        dtype."""
        multi = masker.target.multi is not None  # tuple targets: outputs (n, k1, k2, ...)
        if masker.split is None and self.is_module and not args and not multi:
            return self.adapter
        fn = ExtraArgs(self.model, args) if args else self.model
        if masker.split is not None:
            fn = masker.split.bind(fn, self.adapter.param_dtype)
        if not self.is_module:
            fn = ScalarForward(fn, masker.X.shape[0])
        if multi:
            fn = masker.target.flat_outputs(fn)
        adapter = ModelAdapter(fn, batch_size=self.batch_size, workers=self.workers)
        adapter.param_device, adapter.param_dtype = (
            self.adapter.param_device,
            self.adapter.param_dtype,
        )
        return adapter

    def _attribute(self, inputs, baselines, target, options: dict, kwargs):
        """The whole ``attribute`` call; ``options`` holds ``attribute``'s keyword arguments
        (``return_input_shape`` as ``shaped``). Returns attributions of the inputs' shape (a
        tuple for tuple inputs), or with ``shaped=False`` the feature values ``(N, M)``."""
        o = options
        n_samples, shaped, additional_forward_args = (
            o["n_samples"],
            o["shaped"],
            o["additional_forward_args"],
        )
        self._check_call_kwargs(kwargs, {"additional_forward_args": additional_forward_args})
        n_samples = self._check_n_samples(n_samples)
        masker = TensorMasker.from_inputs(
            self.adapter, inputs, baselines, target, o["feature_mask"], o["patch_size"]
        )
        N = masker.X.shape[0]
        args, per_example = forward_args(additional_forward_args, N)
        # seed=None: one draw from torch's global generator per call, as captum's randomness
        seed = normalize_seed(torch_global_seed() if self.seed is None else self.seed)
        groups = masker.groups()
        if not shaped and len(groups) > 1:
            raise ValueError(
                "return_input_shape=False returns one row of feature values per example, but "
                f"the examples have {[M for M, _ in groups]} features; give every example the "
                "same number of features, or keep return_input_shape=True."
            )
        bar = Progress(1, f"{self._PROGRESS} attribution", enabled=o["show_progress"], delay=0.0)
        bar.total = 0  # grows by each design's pairs
        try:
            with self.adapter.evaluating():
                if per_example:  # batch-axis extra arguments: one example per call, as captum
                    parts = [
                        self._explain(masker.example(i), args_i, n_samples, seed, shaped, bar)
                        for i, args_i in enumerate(per_example)
                    ]
                    out = torch.cat(parts)
                else:
                    out = self._explain(masker, args, n_samples, seed, shaped, bar)
        finally:
            bar.close()
        out = out.to(masker.out_device, masker.out_dtype)
        if not shaped:
            return out
        if masker.split is None:
            return out.reshape((N,) + masker.example_shape)
        return masker.split.tensors(out)

    def _explain(self, masker, args, n_samples, seed, shaped, bar) -> torch.Tensor:
        """Flat attributions ``(N, D)`` of the masker's examples (``(N, M)`` feature values
        when not ``shaped``), float64."""
        groups = masker.groups()
        designs = self._designs(masker, groups, n_samples, seed)
        N, D = masker.X.shape
        out = torch.zeros((N, D if shaped else groups[0][0]), dtype=torch.float64)
        out = out.to(masker.X.device)
        game = Game(self._call_adapter(masker, args), masker)
        bar.total += sum(len(rows) * len(Z) for rows, Z, _ in designs)
        for rows, Z, extra in designs:
            values = game.evaluate(Z, rows, progress=bar)[:, :, 0]  # (n, S)
            coef = self._solve_rows(values, Z, extra, masker, rows)  # (n, M)
            if shaped:
                masker.spread(coef, rows, out)
            else:
                out[torch.as_tensor(rows, device=out.device)] = coef
        return out
