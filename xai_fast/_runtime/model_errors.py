"""When the user's model raises on the inputs we give it: say what it got and how to fix it.

The model's own exception stays attached (``raise ... from err``), so its traceback is still
there to read; the message in front says what arrived (type, shape, dtype), the model's
complaint, and the likely fix for the common cases (a torch model behind a callable that gets
numpy arrays, an input width that does not match the first layer).
"""

from __future__ import annotations

import dis
import os
import re
from typing import NoReturn

__all__ = ["USER_ERRORS", "ModelCallError", "from_model", "model_call_error", "reraise"]

# what a model raises on inputs it does not take (not MemoryError, not KeyboardInterrupt)
USER_ERRORS = (TypeError, ValueError, RuntimeError, AttributeError, IndexError, KeyError)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the opcodes of a ``raise`` statement (``raise``, ``raise e``, ``raise e from c``)
_RAISES = {dis.opmap[name] for name in ("RAISE_VARARGS", "RERAISE") if name in dis.opmap}


class ModelCallError(TypeError, ValueError):
    """The model raised on the inputs it was given (a ``TypeError`` and a ``ValueError``, so
    either ``except`` catches it)."""


def _describe(x) -> str:
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    kind = type(x).__module__.split(".")[0] + "." + type(x).__name__
    parts = [kind]
    if shape is not None:
        parts.append(f"of shape {tuple(shape)}")
    if dtype is not None:
        parts.append(f"and dtype {dtype}")
    return " ".join(parts)


def _axis_sizes(inputs, axis: int) -> set:
    """The sizes of axis ``axis`` of the input tensors or arrays (those that have it)."""
    sizes = set()
    for x in inputs if isinstance(inputs, tuple) else (inputs,):
        shape = getattr(x, "shape", None)
        if shape is not None and len(shape) > (axis if axis >= 0 else -axis - 1):
            sizes.add(int(shape[axis]))
    return sizes


def model_call_error(err: Exception, inputs, what: str = "the model") -> ModelCallError:
    """A :class:`ModelCallError` for ``err``, raised by ``what`` on ``inputs`` (an array, a
    tensor, a DataFrame or a tuple of tensors)."""
    given = (
        ", ".join(_describe(x) for x in inputs) if isinstance(inputs, tuple) else _describe(inputs)
    )
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    hint = ""
    if re.search(r"must be Tensor|not numpy\.ndarray|expected Tensor", msg):
        hint = (
            " It expects a torch tensor: pass the torch.nn.Module itself (the explainer then "
            "feeds it tensors on its device), or wrap it, e.g. lambda X: "
            "model(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()."
        )
    elif m := re.search(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x", msg):
        takes, got = m.group(3), m.group(2)
        if int(got) in _axis_sizes(inputs, -1):
            hint = (
                f" Its first layer takes {takes} features per row but got {got}: pass inputs "
                f"with {takes} features (the model's input width)."
            )
        else:  # an inner layer: the inputs are not what it got
            hint = (
                f" A layer inside the model takes {takes} features but got {got}: the model's "
                "layers do not fit together (or the inputs' other axes are not the expected ones)."
            )
    elif m := re.search(r"expected input\[[^\]]*\] to have (\d+) channels, but got (\d+)", msg):
        takes, got = m.group(1), m.group(2)
        if int(got) in _axis_sizes(inputs, 1):
            hint = (
                f" Its first convolution takes {takes} channels but got {got}: pass inputs "
                f"with {takes} channels on axis 1 (channels first)."
            )
        else:
            hint = (
                f" A convolution inside the model takes {takes} channels but got {got}: the "
                "model's layers do not fit together."
            )
    elif re.search(r"same dtype|type \(\w+\) and (bias|weight) type|expected scalar type", msg):
        hint = (
            " The inputs' dtype differs from the model's parameters': cast the inputs to the "
            "model's dtype (e.g. inputs.float() for a float32 model), or the model to theirs "
            "(model.double())."
        )
    elif "shape" in msg or "size" in msg:
        hint = " Check that the inputs have the shape the model was built for."
    return ModelCallError(
        f"{what} raised {type(err).__name__} when called on {given}: {msg}.{hint}"
    )


def from_model(err: Exception, inputs, what: str = "the model") -> Exception:
    """``err`` as it is when it comes from xai_fast itself (a wrapper's own check), is a
    :class:`ModelCallError` already or is out of memory, else :func:`model_call_error`."""
    if isinstance(err, ModelCallError) or "out of memory" in str(err):
        return err  # ours already, or an OOM the chunk loop retries with fewer rows
    if _raised_by_us(err):
        return err
    return model_call_error(err, inputs, what)


def reraise(err: Exception, inputs, what: str = "the model") -> NoReturn:
    """Raise :func:`from_model`'s exception for ``err``: explained, with ``err`` as its cause,
    or ``err`` itself unchanged (keeping its own cause, e.g. the model's original error)."""
    explained = from_model(err, inputs, what)
    if explained is err:
        raise err
    raise explained from err


def _raised_by_us(err: Exception) -> bool:
    """Whether ``err`` comes from a ``raise`` statement of this package: the innermost frame is
    ours and its last instruction is a raise. An op that fails inside our own code (a dispatch
    mode or a replaced forward running the model's layers) also has our frame innermost, on a
    call instruction."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
    if not filename.startswith(_PACKAGE + os.sep):
        return False
    code = tb.tb_frame.f_code.co_code
    return 0 <= tb.tb_lasti < len(code) and code[tb.tb_lasti] in _RAISES
