"""What captum's perturbation family shares here: its constructor, ``attribute`` signature,
default every-scalar mask and deterministic designs (FeatureAblation, Occlusion,
ShapleyValueSampling, ShapleyValues)."""

from __future__ import annotations

import copy

import torch

from .._validation import CaptumTypeError, check_int
from ..models import ModelAdapter
from ._tensor_base import TensorPerturbationExplainer

__all__ = ["CaptumPerturbation", "elementwise_mask"]


def elementwise_mask(inputs):
    """captum's default mask: every scalar of an example is its own feature (ids continuing
    from one input tensor to the next)."""
    if isinstance(inputs, torch.Tensor) and (inputs.dim() == 0 or inputs.shape[0] == 0):
        return None  # the input checks say what is wrong with it
    if not isinstance(inputs, tuple):
        return torch.arange(inputs[0].numel(), device=inputs.device).reshape(inputs.shape[1:])
    masks, offset = [], 0
    for x in inputs:
        if not isinstance(x, torch.Tensor) or x.dim() == 0 or x.shape[0] == 0:
            return None  # the input checks say what is wrong with it
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
            captum's argument, checked and ignored: ``batch_size`` sets the rows per call, and
            batching never changes the values.
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
        )
        return self._attribute(inputs, baselines, target, options, kwargs)

    @staticmethod
    def _check_n_samples(n_samples):
        return n_samples  # the subclass checks its own

    def _seed_free(self, M: int, n_samples) -> bool:
        return True  # deterministic designs, or draws made once per call

    def _seeds(self, N: int) -> list:
        return [0] * N
