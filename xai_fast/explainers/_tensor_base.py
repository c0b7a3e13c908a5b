"""What the tensor perturbation explainers share: the captum-style front door and the pipeline.

``attribute`` = ModelAdapter -> TensorMasker (inputs, baselines, feature mask) -> one design per
distinct number of features ``M`` -> Game.evaluate -> the subclass's solver -> every element
carries its feature's value. A subclass supplies ``_design`` and ``_solve`` only.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from .._rng import normalize_seed, torch_global_seed
from .._runtime.chunk_workers import default_workers
from .._runtime.model_errors import USER_ERRORS, reraise
from .._runtime.progress import Progress
from .._validation import (
    CaptumTypeError,
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
from ..masking.distinct_coalitions import distinct_coalitions
from ..masking.tensor_masker import TensorMasker
from ..masking.tensor_tuple import ExtraArgs, ScalarForward, WholeBatchForward, forward_args
from ..models import ModelAdapter, is_torch_module
from ._captum_surface import CaptumSurface
from ._whole_batch import batch_output_shape, is_sparse, output_dtype, whole_batch_attributions

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
        show_progress=None,
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


class TensorPerturbationExplainer(CaptumSurface):
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
    # whether a forward whose output is not one per example (e.g. (1, k) for any batch) gets
    # every output element attributed, as captum's perturbation methods do
    _ALL_OUTPUTS = False
    _KEEP_OUTPUT_SHAPE = False  # those attributions shaped (*output, *example), else (k, *example)
    _SCALAR_EXAMPLES = False  # whether inputs (N,) are N examples of one number (else refused)

    def __init__(self, model, seed, batch_size, workers, kwargs):
        check_no_kwargs(kwargs, f"{type(self).__name__}()", self._INIT_OPTIONS)
        self.workers = check_workers(workers)
        check_model(model, accepts="a tensor (N, ...)")
        normalize_seed(0 if seed is None else check_seed(seed))  # validate the type now
        self.seed = seed
        self.batch_size = check_batch_size(batch_size)
        # a ModelAdapter brings its settings (dedup_rows, channels_last) and its model
        self.adapter = ModelAdapter(model, batch_size=self.batch_size, workers=self.workers)
        model = self.adapter.model
        self.batch_size, self.workers = self.adapter.batch_size, self.adapter.workers
        self.model = self.forward_func = model  # forward_func: captum's name for it
        self.is_module = is_torch_module(model)

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

    def _seed_free(self, M: int, n_samples) -> bool:
        """Whether the design of ``M`` features does not depend on the seed (then examples
        drawn with different seeds still share it)."""
        return False

    def _seeds(self, N: int) -> list:
        """One seed per example: the explainer's, or with ``seed=None`` one draw per example
        from torch's global generator, in example order, so a batch gets what explaining its
        examples one call at a time gets (captum explains a batch one example at a time)."""
        if self.seed is not None:
            return [normalize_seed(self.seed)] * N
        return [normalize_seed(torch_global_seed()) for _ in range(N)]

    def _designs(self, masker, groups, n_samples, seeds) -> list:
        """``[(rows, Z, extra)]``: one design per group of examples with ``M`` features and
        one seed; examples with their own seeds get their own designs."""
        out = []
        for M, rows in groups:
            if len({seeds[i] for i in rows}) == 1 or self._seed_free(M, n_samples):
                out.append((rows, *self._design(M, n_samples, seeds[rows[0]])))
            else:
                out.extend(
                    (rows[k : k + 1], *self._design(M, n_samples, seeds[i]))
                    for k, i in enumerate(rows)
                )
        return out

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
        adapter = ModelAdapter(
            fn, batch_size=self.batch_size, workers=self.workers,
            dedup_rows=self.adapter.dedup_rows,
        )  # fmt: skip
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
            self.adapter,
            inputs,
            baselines,
            target,
            o["feature_mask"],
            o["patch_size"],
            self._SCALAR_EXAMPLES,
        )
        N = masker.X.shape[0]
        sparse = is_sparse(masker)  # tensors with different first dimensions
        args, per_example = forward_args(additional_forward_args, None if sparse else N)
        # a module is taken to give one output per example, unless the inputs are sparse
        probed = not self.is_module or sparse
        first = self._first_output(masker, args) if probed else None
        shape = None if first is None else batch_output_shape(masker, first, self._ALL_OUTPUTS)
        self._check_batching(masker, args, first, shape, o)
        whole = shape is not None
        size = math.prod(shape) if whole else 0
        batch = masker
        if whole:  # captum's form: the batch is one example, its features shared by all rows
            masker = masker.whole_batch()
            if size > 1:  # every output element attributed, as captum's
                masker.target = masker.target.every_output()
        seeds = self._seeds(masker.X.shape[0])
        show = o["show_progress"]  # None: a bar once the call has taken 2 s; True: at once
        if show is not None:
            check_flag(show, "show_progress")
        label = f"{self._PROGRESS} attribution"
        bar = Progress(1, label, enabled=show is not False, delay=None if show is None else 0.0)
        bar.total = 0  # grows by each design's pairs
        try:
            with self.adapter.evaluating():
                if whole:
                    adapter = self._whole_batch_adapter(batch, args, size)
                    out = self._explain(masker, adapter, n_samples, seeds, shaped, bar)
                elif per_example:  # batch-axis extra arguments: one example per call, as captum
                    parts = [
                        self._explain(
                            masker.example(i),
                            self._call_adapter(masker.example(i), args_i),
                            n_samples,
                            seeds[i : i + 1],
                            shaped,
                            bar,
                        )
                        for i, args_i in enumerate(per_example)
                    ]
                    out = torch.cat(parts)
                else:
                    adapter = self._call_adapter(masker, args)
                    out = self._explain(masker, adapter, n_samples, seeds, shaped, bar)
        finally:
            bar.close()
        # the dtype of the model's output, as far as it is known without another call
        seen = output_dtype(first) if first is not None else masker.model_dtype
        out = out.to(masker.out_device, self._result_dtype(batch, args, seen))
        if not shaped:
            return out
        if whole:  # captum gives the first row of the batch's attributions, per output
            return whole_batch_attributions(out, batch, shape, self._KEEP_OUTPUT_SHAPE)
        if masker.split is None:
            return out.reshape((out.shape[0],) + masker.example_shape)
        return masker.split.tensors(out)

    def _result_dtype(self, batch, args, seen) -> torch.dtype:
        """The attributions' dtype: float64 for float64 inputs, else float32. ``seen`` is the
        dtype of the model's output on the inputs or on perturbed rows (``None`` if unknown)."""
        return batch.out_dtype

    def _row_forward(self, masker, args):
        """The model on flat rows ``(P, D)`` of the masker's examples, ``args`` appended
        unchanged: the forward captum calls on the batch as given."""
        model = self.model
        fn = (lambda *t: model(*t, *args)) if args else model
        if masker.split is not None:
            return copy.copy(masker.split).bind(fn, self.adapter.param_dtype)
        shape = masker.example_shape
        return lambda rows: fn(rows.reshape((rows.shape[0],) + shape))

    def _first_output(self, masker, args):
        """The forward's output on the inputs (one call, as captum's first evaluation)."""
        try:
            with torch.no_grad(), self.adapter.evaluating():
                out = self._row_forward(masker, args)(masker.X)
        except USER_ERRORS as err:
            given = (
                masker.split.tensors(masker.X)
                if masker.split is not None
                else masker.X.reshape((masker.X.shape[0],) + masker.example_shape)
            )
            given = given if isinstance(given, tuple) else (given,)
            counts = [t.shape[0] for t in given]
            if len(set(counts)) > 1:
                raise ValueError(
                    f"the input tensors hold {counts} examples on axis 0, and forward_func "
                    f"raised {type(err).__name__} on them ({_first_line(err)}). Give "
                    "every input tensor the same examples on axis 0 (different first "
                    "dimensions are for a forward that takes them, as captum's)."
                ) from err
            reraise(err, given, "forward_func")
        if isinstance(out, torch.futures.Future):
            raise CaptumTypeError(
                "forward_func returned a torch.futures.Future; attribute() needs tensors (or "
                "numbers). Call attribute_future(...) for a forward that returns futures."
            )
        return out

    def _check_batching(self, masker, args, out, shape, options: dict) -> None:
        """Refuse batching options the forward's output ``out`` on the inputs (``None`` for a
        module, not probed) rules out; ``shape`` as
        :func:`~xai_fast.explainers._whole_batch.batch_output_shape` gives it."""

    def _whole_batch_adapter(self, batch, args, size: int) -> ModelAdapter:
        """The adapter of the batch ``batch`` (a masker) explained as one example: one forward
        call per perturbed batch (the forward gives one output of ``size`` elements per call)."""
        rows = self._row_forward(batch, args)
        adapter = ModelAdapter(
            WholeBatchForward(rows, size), batch_size=self.batch_size, workers=self.workers,
            dedup_rows=self.adapter.dedup_rows,
        )  # fmt: skip
        adapter.param_device, adapter.param_dtype = (
            self.adapter.param_device,
            self.adapter.param_dtype,
        )
        return adapter

    def _explain(self, masker, adapter, n_samples, seeds, shaped, bar) -> torch.Tensor:
        """Flat attributions ``(N, D)`` of the masker's examples (when not ``shaped``, the
        feature values ``(N, n_ids)``, column ``j`` for id ``min + j``), float64."""
        groups = masker.groups()
        designs = self._designs(masker, groups, n_samples, seeds)
        N, D = masker.X.shape
        # not shaped: column j is the feature with the j-th id from the smallest (captum's
        # layout), 0 for an example without it
        width = D if shaped else masker.n_ids
        outs = []  # one (N, width) per output attributed (one but for every output kept)
        game = Game(adapter, masker)
        # repeated coalitions of a design are evaluated once (unless the model may be random)
        distinct = [
            None if adapter.dedup_rows is False else distinct_coalitions(Z) for _, Z, _ in designs
        ]
        bar.total += sum(
            len(rows) * (len(Z) if d is None else len(d[0]))
            for (rows, Z, _), d in zip(designs, distinct, strict=True)
        )
        for (rows, Z, extra), d in zip(designs, distinct, strict=True):
            if d is None:
                values = game.evaluate(Z, rows, progress=bar)  # (n, S, k)
            else:
                values = game.evaluate(np.asarray(Z)[d[0]], rows, progress=bar)
                values = values[:, torch.as_tensor(d[1], device=values.device)]
            while len(outs) < values.shape[2]:
                outs.append(torch.zeros((N, width), dtype=torch.float64, device=masker.X.device))
            for j, out in enumerate(outs):  # each output its own solve (one for a target)
                coef = self._solve_rows(values[:, :, j], Z, extra, masker, rows)  # (n, M)
                if shaped:
                    masker.spread(coef, rows, out)
                else:
                    rows_t = torch.as_tensor(rows, device=out.device)
                    out[rows_t] = out[rows_t].scatter_(1, masker.given_ids(rows), coef)
        if not outs:  # no design: nothing to attribute
            outs.append(torch.zeros((N, width), dtype=torch.float64, device=masker.X.device))
        out = outs[0] if len(outs) == 1 else torch.stack(outs)
        return out


def _first_line(err: BaseException) -> str:
    """The first line of ``err``'s message, or its type's name when it has none."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
