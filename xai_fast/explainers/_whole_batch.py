"""captum's form of a forward that returns one output for the whole batch (a loss, a sum, a
fixed-size summary): finding it from the output on the inputs, and the attributions' shape.

The batch is then explained as one example whose features are shared by all its rows; a tuple
of tensors with different first dimensions (sparse inputs, such as an index list next to the
examples) has only this form: every element of its output is attributed, as captum does.
"""

from __future__ import annotations

import math

import torch

from ..masking.tensor_tuple import is_scalar

__all__ = [
    "batch_output_shape",
    "batch_rows",
    "is_sparse",
    "output_dtype",
    "whole_batch_attributions",
]


def output_dtype(out) -> torch.dtype:
    """captum's dtype of a forward's output: a tensor's, float64 for a Python float and int64
    for a Python int (``torch.tensor`` of them)."""
    if isinstance(out, bool) or not isinstance(out, (int, float)):
        return torch.as_tensor(out).dtype
    return torch.int64 if isinstance(out, int) else torch.float64


def is_sparse(masker) -> bool:
    """Whether the masker's inputs are a tuple of tensors with different first dimensions
    (then ``X`` is the whole batch as one row)."""
    return masker.split is not None and masker.split.rows is not None


def batch_rows(masker) -> int:
    """The examples of the forward's batch: ``N``, or for sparse inputs the first dimension of
    ``inputs[0]``, as captum counts them."""
    return masker.X.shape[0] if masker.split is None else masker.split.batch


def batch_output_shape(masker, out, all_outputs: bool) -> tuple | None:
    """The shape of the forward's output ``out`` on the inputs when it is one output for the
    whole batch, else ``None`` (outputs per example).

    Parameters
    ----------
    masker : TensorMasker
        The call's inputs and target.
    out : tensor, number or other
        The forward's output on the inputs.
    all_outputs : bool
        Whether an output of several elements counts (every element then attributed: a
        fixed-size tensor such as ``(1, k)`` whatever the batch, or ``(N, k)`` without a
        target), or only one number (a loss, a sum: shape ``()``).

    Returns
    -------
    tuple or None
        For sparse inputs always a shape: every element of the output is attributed with the
        batch as one example, as captum's (an output ``(N,)`` included).

    Raises
    ------
    ValueError
        For a target with such an output (nothing to select per example), and for sparse
        inputs with an output of several elements where only one number counts.
    """
    sparse, N = is_sparse(masker), batch_rows(masker)
    targeted = masker.target.t is not None or masker.target.multi is not None
    if is_scalar(out, N):
        if N == 1 and not sparse:
            return None  # one example: its own number (ScalarForward)
        shape = ()
    elif not all_outputs or not isinstance(out, torch.Tensor):
        return _one_number(masker, out) if sparse else None
    elif not sparse and out.dim() >= 1 and out.shape[0] == N and (out.numel() == N or targeted):
        return None  # one output per example, or a target selecting one of each's
    else:
        shape = tuple(out.shape)
    if targeted and sparse:
        raise ValueError(
            f"inputs holds tensors with different first dimensions {list(masker.split.rows)}, "
            "so the batch is explained as one example with every element of the output "
            f"(shape {shape}) attributed, and target has no examples to select outputs of; "
            "pass target=None (return the outputs to explain, e.g. forward(...)[:, k])."
        )
    if targeted:
        what = "one number" if shape == () else f"an output of shape {shape}"
        raise ValueError(
            f"the model returns {what} for the whole batch of {N}, not one output per "
            "example, so there is nothing for target to select per example; pass "
            "target=None, or return one output per row."
        )
    return shape


def _one_number(masker, out):
    """The error of an output of several elements from sparse inputs where one number counts."""
    got = f"shape {tuple(out.shape)}" if hasattr(out, "shape") else type(out).__name__
    raise ValueError(
        f"inputs holds tensors with different first dimensions {list(masker.split.rows)}, "
        "captum's form for a forward that returns one number for the whole batch (which is "
        f"then explained as one example), but forward_func returned {got}. Return one number "
        "for the whole batch (a sum or a loss), or give every input tensor the same examples "
        "on axis 0."
    )


def whole_batch_attributions(out: torch.Tensor, batch, shape: tuple, keep_shape: bool):
    """captum's attributions of a batch explained as one example: the first row's, per output.

    Parameters
    ----------
    out : torch.Tensor, shape (outputs, N * D)
        The whole-batch example's attributions, one row per output element.
    batch : TensorMasker
        The batch as given (``X`` ``(N, D)``; one row for sparse inputs).
    shape : tuple
        The output's shape on the batch.
    keep_shape : bool
        Whether several outputs keep their shape, ``(*shape, *example shape)`` (else
        ``(outputs, *example shape)``).

    Returns
    -------
    torch.Tensor or tuple of them
        ``(outputs, *example shape)`` per input tensor (``(1, ...)`` for one number); an output
        per example ``(N, k)`` is each example's own attributions.
    """
    size = math.prod(shape)
    out = out.reshape(size, *batch.X.shape)  # (outputs, N, D)
    Nb = batch.X.shape[0]
    if size > 1 and shape[0] == Nb:  # outputs per example: each on its own example
        out = out.reshape(Nb, size // Nb, Nb, -1)
        out = out[torch.arange(Nb), :, torch.arange(Nb)].reshape(size, -1)
    else:
        out = out[:, 0]
    lead = tuple(shape) if size > 1 and keep_shape else (size,)
    if batch.split is None:
        return out.reshape(lead + batch.example_shape)
    return tuple(t.reshape(lead + t.shape[1:]) for t in batch.split.examples(out))
