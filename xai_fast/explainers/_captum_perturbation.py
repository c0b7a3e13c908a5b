"""What captum's perturbation family shares here: its constructor, ``attribute`` signature,
default every-scalar mask and deterministic designs (FeatureAblation, Occlusion,
ShapleyValueSampling, ShapleyValues)."""

from __future__ import annotations

import copy
import math

import torch

from .._validation import CaptumArgumentError, CaptumTypeError, check_int
from ..models import ModelAdapter
from ._tensor_base import TensorPerturbationExplainer
from ._whole_batch import batch_rows

__all__ = ["CaptumPerturbation", "elementwise_mask"]


def elementwise_mask(inputs):
    """captum's default mask: every scalar of an example is its own feature (ids continuing
    from one input tensor to the next; a tensor of a tuple without rows takes none)."""
    if isinstance(inputs, torch.Tensor) and (inputs.dim() == 0 or inputs.shape[0] == 0):
        return None  # the input checks say what is wrong with it
    if not isinstance(inputs, tuple):
        return torch.arange(inputs[0].numel(), device=inputs.device).reshape(inputs.shape[1:])
    masks, offset = [], 0
    for x in inputs:
        if not isinstance(x, torch.Tensor) or x.dim() == 0:
            return None  # the input checks say what is wrong with it
        if x.shape[0] == 0:  # sparse inputs' empty index list: no features, as captum's
            masks.append(torch.zeros(x.shape, dtype=torch.int64, device=x.device))
            continue
        n = x[0].numel()
        masks.append(torch.arange(offset, offset + n, device=x.device).reshape(x.shape[1:]))
        offset += n
    return tuple(masks)


class _WaitingForward:
    """A forward returning futures, as one returning their values."""

    def __init__(self, forward):
        self.forward = forward

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if not isinstance(out, torch.futures.Future):
            raise CaptumTypeError(
                f"attribute_future needs a forward that returns torch.futures.Future; this one "
                f"returned {type(out).__name__}. Call attribute(...) instead."
            )
        return out.wait()


class CaptumPerturbation(TensorPerturbationExplainer):
    """A captum perturbation method on the engine: ``forward_func``, keyword-only
    ``batch_size`` and ``workers``, and captum's ``attribute`` arguments.

    Parameters
    ----------
    forward_func : torch.nn.Module or callable
        Maps inputs ``(n, ...)`` (or a tuple of them) to ``(n,)`` or ``(n, k)`` outputs; one
        number for the whole batch perturbs every example at once (captum's form for a loss).
    batch_size : int, optional, keyword-only
        Perturbed inputs per model call (default: :class:`~xai_fast.ModelAdapter`'s rule).
    workers : int, optional, keyword-only
        Chunks a module on the CPU evaluates at once.
    """

    _INIT_OPTIONS = ("forward_func", "batch_size", "workers")
    _CALL_OPTIONS = (
        "inputs",
        "baselines",
        "target",
        "additional_forward_args",
        "feature_mask",
        "perturbations_per_eval",
        "show_progress",
    )
    multiplies_by_inputs = True  # differences of outputs, in the inputs' units
    _ALL_OUTPUTS = True  # captum's: an output not per example gets each element attributed
    _SCALAR_EXAMPLES = True  # captum's: inputs (N,) are N examples of one number
    # whether perturbations_per_eval > 1 is refused for any one-element output of a batch and
    # for outputs that do not grow with it whatever the number of features (captum's
    # ShapleyValueSampling), not only for 0-d outputs and, once two features share a call,
    # outputs that do not grow (captum's FeatureAblation)
    _BATCHES_PERMUTATIONS = False

    def __init__(self, forward_func, *, batch_size=None, workers=None, **kwargs):
        super().__init__(forward_func, 0, batch_size, workers, kwargs)

    def attribute(
        self,
        inputs,
        baselines=None,
        target=None,
        additional_forward_args=None,
        feature_mask=None,
        perturbations_per_eval=1,
        show_progress=None,
        **kwargs,
    ):
        """Attributions of the inputs' shape, each element carrying its feature's value.

        Parameters
        ----------
        inputs : torch.Tensor (N, ...) or tuple of them
        baselines : None, scalar, tensor or tuple of them
            The value a perturbed element takes (default zeros), broadcastable to one
            example or to the batch.
        target : None, int, tuple, list or tensor
            The output to explain, as captum takes it.
        additional_forward_args : object or tuple, optional
            Passed to the model after the inputs, as captum passes them.
        feature_mask : integer tensor or tuple of them, optional
            Elements with the same id are one feature (an id used in several input tensors
            is one feature). Default: every scalar is its own feature, as in captum.
        perturbations_per_eval : int >= 1
            captum's argument: ``batch_size`` sets the rows per call, and batching never
            changes the values. Above 1 it needs outputs that grow with the batch, as captum's:
            a forward returning one output for the whole batch is refused.
        show_progress : bool or None
            A progress bar labelled as captum's: ``None`` once the call has taken 2 s.

        Returns
        -------
        torch.Tensor or tuple, the inputs' shape
            ``(1, ...)`` for a forward returning one number per batch.
        """
        return self._run(inputs, baselines, target, additional_forward_args, feature_mask,
                         "auto", perturbations_per_eval, show_progress, kwargs)  # fmt: skip

    def attribute_future(self, *args, **kwargs):
        """``attribute`` for a forward that returns ``torch.futures.Future`` s (captum's
        asynchronous form): each future is waited for as the batched evaluation needs it, and
        the attributions come back as a completed future.

        Arguments as :meth:`attribute`; a forward returning plain tensors belongs there.
        """
        job = copy.copy(self)  # the call's waiting forward lives on a copy
        job.model = job.forward_func = _WaitingForward(self.model)
        job.is_module = False
        job.adapter = ModelAdapter(job.model, batch_size=self.batch_size, workers=self.workers)
        done = torch.futures.Future()
        done.set_result(job.attribute(*args, **kwargs))
        return done.then(lambda f: f.value())  # a torch.Future, the type captum returns

    def _run(self, inputs, baselines, target, additional_forward_args, feature_mask, n_samples,
             perturbations_per_eval, show_progress, kwargs):  # fmt: skip
        """The shared call: captum's default mask, then the engine's pipeline."""
        check_int(perturbations_per_eval, "perturbations_per_eval", 1)
        if feature_mask is None and isinstance(inputs, (torch.Tensor, tuple)):
            feature_mask = elementwise_mask(inputs)
        options = dict(
            feature_mask=feature_mask,
            n_samples=n_samples,
            show_progress=show_progress,
            patch_size=None,
            shaped=True,
            additional_forward_args=additional_forward_args,
            perturbations_per_eval=perturbations_per_eval,
        )
        return self._attribute(inputs, baselines, target, options, kwargs)

    def _batched_units(self, masker) -> int:
        """The perturbations captum evaluates one by one (here: the features)."""
        return int(torch.unique(masker.given).numel())

    def _check_batching(self, masker, args, out, shape, options: dict) -> None:
        """captum's refusal of ``perturbations_per_eval > 1`` with a forward whose outputs
        cannot be split between the perturbations evaluated together: a 0-d output (a number),
        or, once two perturbations share a call, an output whose first dimension does not grow
        with the batch (found as captum finds it, by a call on the batch twice over)."""
        ppe = options["perturbations_per_eval"]
        units = self._batched_units(masker)
        if ppe == 1 or out is None or units == 0:
            return
        N, every = batch_rows(masker), self._BATCHES_PERMUTATIONS
        got = tuple(getattr(out, "shape", ()))
        if got == () or (every and shape == ()):
            raise CaptumArgumentError(
                f"perturbations_per_eval={ppe} evaluates {ppe} perturbations of the batch in one "
                f"call and needs one output per example to tell them apart, but forward_func "
                f"returned {'one number' if got == () else f'an output of shape {got}'} for the "
                f"whole batch of {N}. Pass perturbations_per_eval=1 (batch_size sets the rows "
                "per call; the values do not depend on it)."
            )
        if (min(ppe, units) < 2 and not every) or (shape is None and math.prod(got) != 1):
            return  # one perturbation per call, or one output per example
        twice = tuple(torch.cat([a, a]) if _batched(a) else a for a in args)
        with torch.no_grad(), self.adapter.evaluating():
            more = self._row_forward(masker, twice)(torch.cat([masker.X, masker.X]))
        grown = tuple(getattr(more, "shape", ()))
        if not grown or grown[0] != 2 * got[0]:
            raise CaptumArgumentError(
                f"perturbations_per_eval={ppe} needs one output per example, but forward_func "
                f"returned one output of shape {got} for the whole batch of {N}, and shape "
                f"{grown} for that batch twice over: its output does not grow with the batch, "
                "so perturbations evaluated together cannot be told apart. Pass "
                "perturbations_per_eval=1."
            )

    @staticmethod
    def _check_n_samples(n_samples):
        return n_samples  # the subclass checks its own

    def _seed_free(self, M: int, n_samples) -> bool:
        return True  # deterministic designs, or draws made once per call

    def _seeds(self, N: int) -> list:
        return [0] * N


def _batched(a) -> bool:
    """Whether an extra forward argument is a tensor captum repeats with the batch."""
    return isinstance(a, torch.Tensor) and a.dim() > 0
