"""ModelAdapter: any ``torch.nn.Module`` or callable as a black box ``(n, d) -> (n, k)``.

The adapter knows nothing of Shapley values. It converts inputs to what the model wants
(the module's device and dtype, or a numpy array), evaluates in chunks of ``batch_size``
rows, and returns a float64 ``(n, k)`` numpy array.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import sys

import numpy as np

from ._runtime.chunked_calls import array_rows, chunked_with_oom_retry, tensor_rows
from ._runtime.heap_warmup import warm_heap
from ._runtime.memory_format import layout_forward
from ._runtime.model_errors import USER_ERRORS, reraise
from ._validation import check_batch_size, check_optional_flag, check_workers, explained_init

__all__ = ["FrameModelAdapter", "ModelAdapter", "is_torch_module"]


def is_torch_module(obj) -> bool:
    """True for a ``torch.nn.Module`` (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _default_batch_rows(d: int, on_cpu: bool = True) -> int:
    # Small enough that a typical model's activations stay near the cache (measured best for
    # MLPs on CPU: about 2k rows), at most about 1M input values per call, at least 256 rows.
    # Wide rows on the CPU (images: a conv net's activations are many times its input) get
    # about 2**16 values per call, at least 16 rows (3x32x32 images: 21 rows; for a small CNN
    # about 1.8x faster than 42 rows and 3x faster than 341); accelerators keep larger calls.
    d = max(d, 1)
    if on_cpu and d > 1024:
        return int(max(16, 2**16 // d))
    return int(min(2048, max(256, 2**20 // d)))


@explained_init
class ModelAdapter:
    """Wrap a model so that it maps a numpy ``(n, d)`` array to a float64 ``(n, k)`` array.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A module is run in eval mode under ``torch.inference_mode`` on its own device and
        dtype. A callable receives a numpy array ``(n, d)`` and may return a numpy array,
        list, pandas object or tensor of shape ``(n,)`` or ``(n, k)``.
    batch_size : int, optional
        Rows per model call; default 2048 (fewer for very wide inputs).
    device : str or torch.device, optional
        Device for a module's inputs; default the device of its first parameter.
    check_finite : bool, default True
        Raise when the model returns NaN or infinity.
    workers : int, optional
        Chunks a module on the CPU evaluates at once, each on its own thread with
        ``torch.get_num_threads() // workers`` intra-op threads. Default: torch's thread count
        (at most 8), which keeps every core busy on small models. Pass 1 for a module whose
        ``forward`` is not safe to run from several threads (one that writes to its own
        attributes, for instance). Modules on other devices always run one chunk at a time.
    dedup_rows : bool or None, default None
        Evaluate a perturbed row equal to one already built in the same call once, its output
        copied (tabular maskers; right for a model whose output for a row depends on that row
        alone). ``None``: where it pays, for callables and modules on the CPU (on another
        device a small module outruns the rows' numbering on the host); ``True``: on any
        device; ``False``: send every row (a model that draws random numbers, say).
    channels_last : bool or None, default None
        Image batches ``(n, C, H, W)`` of float32 reach a module with a ``Conv2d`` on the CPU
        in channels-last memory layout, torch's fast one for CPU convolutions (2-4x faster
        forwards on a small CNN), when a trial on two rows shows that the module runs on it
        and returns the same outputs. ``None``: decide so, once per module and input shape
        (the trial's two rows in each layout are extra model rows, on the first call only);
        ``True``: channels-last without the trial; ``False``: always torch's default
        contiguous layout. Tensor inputs of :meth:`call_tensor` only.

    Attributes
    ----------
    input_dtype : numpy.dtype or None
        dtype the model wants (a module's parameter dtype); ``None`` for callables.
    """

    def __init__(
        self, model, *, batch_size=None, device=None, check_finite=True, workers=None,
        dedup_rows=None, channels_last=None,
    ):  # fmt: skip
        if isinstance(model, ModelAdapter):  # re-wrap, keeping its settings unless overridden
            batch_size = model.batch_size if batch_size is None else batch_size
            device = model.device if device is None else device
            check_finite = model.check_finite and check_finite
            inner, outer = model.dedup_rows, check_optional_flag(dedup_rows, "dedup_rows")
            dedup_rows = False if False in (inner, outer) else (inner or outer)  # the stricter
            workers = model.workers if workers is None else workers
            if channels_last is None:
                channels_last = model.channels_last
            model = model.model
        self.model = model
        self.is_module = is_torch_module(model)
        if not self.is_module and not callable(model):
            raise TypeError(
                "model must be a torch.nn.Module or a callable mapping an (n, d) array to "
                f"(n,) or (n, k) outputs; got {type(model).__name__}. For a scikit-learn "
                "estimator pass its bound method, e.g. clf.predict_proba."
            )
        self.batch_size = check_batch_size(batch_size)
        self.workers = check_workers(workers)
        self.check_finite = bool(check_finite)
        self.dedup_rows = check_optional_flag(dedup_rows, "dedup_rows")
        self.channels_last = check_optional_flag(channels_last, "channels_last")
        warm_heap()  # before the first chunk's temporaries (see _runtime/heap_warmup.py)
        self.device = None
        self.input_dtype = None
        self.torch_dtype = None
        self.param_device = None  # where a module's tensors live (None: it has none)
        self.param_dtype = None  # a module's floating dtype (None: it has no floating tensors)
        self.output_columns = None  # the columns of a DataFrame the model returned
        if self.is_module:
            import torch

            tensors = itertools.chain(model.parameters(), model.buffers())
            first = next(tensors, None)
            fl = first
            if first is not None and not first.is_floating_point():
                fl = next((t for t in tensors if t.is_floating_point()), None)
            self.param_device = first.device if first is not None else None
            self.param_dtype = fl.dtype if fl is not None else None
            tdtype = fl.dtype if fl is not None else torch.get_default_dtype()
            self.device = (
                _device(device)
                if device is not None
                else (first.device if first is not None else torch.device("cpu"))
            )
            self.torch_dtype = tdtype
            try:
                self.input_dtype = torch.empty((), dtype=tdtype).numpy().dtype
            except TypeError:  # bfloat16 has no numpy dtype: hold float32, cast on the device
                self.input_dtype = np.dtype(np.float32)

    def batch_rows(self, d: int) -> int:
        """Rows per model call for inputs with ``d`` columns."""
        if self.batch_size is not None:
            return self.batch_size
        return _default_batch_rows(d, self.device is None or self.device.type == "cpu")

    def chunk_workers(self) -> int:
        """How many chunks a :class:`~xai_fast.masking.Game` evaluates at once:
        ``workers`` (default torch's thread count, at most 8) for a module on the CPU when
        torch runs on OpenMP (thread counts are then per-thread), else 1."""
        from ._runtime.chunk_workers import default_workers

        return default_workers(self.is_module, self.device, self.workers)

    @contextlib.contextmanager
    def evaluating(self):
        """Put a module in eval mode for the duration, restoring its previous mode."""
        if not self.is_module or not any(m.training for m in self.model.modules()):
            yield  # already in eval mode throughout: toggling every submodule costs more
            return
        was_training = self.model.training
        self.model.eval()
        try:
            yield
        finally:
            self.model.train(was_training)

    def raw_call(self, X: np.ndarray, check: bool = True):
        """One model call on ``X`` ``(n, d)``; returns float64 of shape (n,) or (n, k).

        ``check=False`` skips the finiteness check (callers that check the reduced result).
        """
        if self.is_module:
            import torch

            with torch.inference_mode():
                t = torch.from_numpy(np.ascontiguousarray(X, dtype=self.input_dtype))
                try:
                    out = self.model(t.to(self.device, self.torch_dtype))
                except USER_ERRORS as err:
                    reraise(err, t)
            if not isinstance(out, torch.Tensor):
                raise TypeError(
                    f"the model returned {type(out).__name__}; expected a tensor of shape (n,) "
                    "or (n, k). Wrap the module so that forward returns a single tensor."
                )
            out = out.detach().to("cpu", torch.float64).numpy()
        else:
            try:
                out = self.model(X)
            except USER_ERRORS as err:
                reraise(err, X)
            if hasattr(out, "detach") and hasattr(out, "cpu"):  # a tensor from a callable
                out = out.detach().cpu().numpy()
            elif hasattr(out, "to_numpy"):  # pandas: a DataFrame's columns name the outputs
                self.output_columns = list(getattr(out, "columns", [])) or None
                out = out.to_numpy()
            try:
                out = np.asarray(out, dtype=np.float64)
            except (TypeError, ValueError) as err:
                raise TypeError(
                    f"the model's output could not be read as numbers ({err}); expected a "
                    "numeric array of shape (n,) or (n, k)."
                ) from None
        n = X.shape[0]
        if out.ndim == 0 or out.shape[0] != n or out.ndim > 2:
            raise ValueError(
                f"the model returned an output of shape {out.shape} for {n} input rows; "
                f"expected ({n},) or ({n}, k). Check that the model maps each row to one output "
                "vector."
            )
        if check and self.check_finite and not np.isfinite(out).all():
            bad = np.nonzero(~np.isfinite(out.reshape(n, -1)).all(axis=1))[0]
            nan_in = _has_nan(X, bad)
            raise non_finite_outputs(bad, n, nan_in)
        return out

    def call_tensor(self, t, check: bool = True):
        """Run the model on a tensor ``(n, ...)`` already on its device, ``batch_size`` rows at
        a time; returns its ``(n, k)`` output there.

        A module must return a tensor; a callable may return anything numeric (it comes back
        as a float64 tensor on ``t``'s device). Only the finiteness check synchronises with the
        device; ``check=False`` skips it.
        """
        import torch

        n = t.shape[0]
        step = self.batch_rows(math.prod(t.shape[1:]))  # values per row
        with torch.inference_mode():
            try:
                if not self.is_module:
                    fn = _tensor_outputs(self.model, t.device)
                elif self.channels_last is False:
                    fn = self.model
                else:  # channels-last chunks where that runs faster and gives the same outputs
                    fn = layout_forward(self.model, t, trial=self.channels_last is None)
                out = chunked_with_oom_retry(fn, t, step, tensor_rows)
            except USER_ERRORS as err:
                reraise(err, t)
        if check and self.check_finite and not bool(torch.isfinite(out).all()):
            bad = torch.nonzero(~torch.isfinite(out).all(dim=1))[:, 0]
            nan_in = bool(t.is_floating_point()) and bool(t[bad].isnan().any())
            raise non_finite_outputs(bad.cpu().numpy(), n, nan_in)
        return out

    def call_batch(self, batch):
        """One chunk of perturbed rows, unchecked: a numpy array goes through :meth:`__call__`
        (numpy ``(n, k)`` back), a tensor through :meth:`call_tensor` (a tensor back)."""
        if isinstance(batch, np.ndarray):
            return self(batch, check=False)
        return self.call_tensor(batch, check=False)

    def __call__(self, X: np.ndarray, check: bool = True) -> np.ndarray:
        """Evaluate ``X`` ``(n, d)`` in chunks; returns float64 ``(n, k)``.

        A module that runs out of device memory on a chunk gets it again in halves.
        """
        rows = self.batch_rows(X.shape[1])
        return chunked_with_oom_retry(lambda A: self.raw_call(A, check), X, rows, array_rows)


def _device(device):
    """``device`` as a ``torch.device``; a clear error for a name torch does not know."""
    import torch

    try:
        return torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"device={device!r} is not a torch device; pass e.g. 'cpu', 'cuda', 'cuda:1' or a "
            "torch.device."
        ) from None


def _has_nan(X, rows) -> bool:
    """Whether rows ``rows`` of the model inputs ``X`` (an array or a DataFrame) hold NaN."""
    try:
        A = np.asarray(X.iloc[rows] if hasattr(X, "iloc") else X[rows])
        return A.dtype.kind == "f" and bool(np.isnan(A).any())
    except (TypeError, ValueError, IndexError):  # object columns: no NaN of ours to blame
        return False


def non_finite_outputs(bad, n: int, nan_in_inputs: bool = False) -> ValueError:
    """The error for a model that returned NaN or inf for rows ``bad`` of ``n``; when those
    rows' inputs hold NaN (from the data explained or the background), it says so."""
    where = f"for {len(bad)} of {n} rows (first rows: {bad[:5].tolist()})"
    if nan_in_inputs:
        return ValueError(
            f"the model returned NaN or inf {where}, whose inputs contain NaN (from the rows "
            "explained or the background data). Impute or drop the missing values, or use a "
            "model that takes NaN."
        )
    return ValueError(
        f"the model returned non-finite values (NaN or inf) {where}. Fix the model or its "
        "inputs, or wrap it as xai_fast.ModelAdapter(model, check_finite=False) to accept them."
    )


def _tensor_outputs(fn, device):
    """``fn`` with a non-tensor output (numpy, list) turned into a float64 tensor on
    ``device``."""

    def call(t):
        import torch

        out = fn(t)
        if isinstance(out, torch.Tensor):
            return out
        try:
            return torch.as_tensor(np.asarray(out, dtype=np.float64), device=device)
        except (TypeError, ValueError):
            raise TypeError(
                f"the model returned {type(out).__name__}; expected a tensor or array of shape "
                f"({t.shape[0]},) or ({t.shape[0]}, k)."
            ) from None

    return call


class FrameModelAdapter(ModelAdapter):
    """A callable that takes DataFrames: shap's ``keep_index`` (see :class:`KernelExplainer`).

    Each chunk of rows reaches the model as a ``pandas.DataFrame`` with the background's
    columns. A row's index label is given by the caller (the explained rows keep theirs);
    perturbed rows, ``len(background)`` per coalition, take the labels of the background rows
    they were built from, as in shap.

    Parameters
    ----------
    model : callable
        Maps a DataFrame ``(n, d)`` to ``(n,)`` or ``(n, k)`` outputs.
    frame : pandas.DataFrame
        The background: its ``columns`` and ``index`` (labels, name and dtype kept as they are).
    ordered : bool, default False
        Sort each frame by its index before the call (shap's ``keep_index_ordered``); the
        outputs are put back in the rows' order.
    batch_size : int, optional
        Rows per model call.
    """

    def __init__(self, model, frame, *, ordered=False, batch_size=None):
        super().__init__(model, batch_size=batch_size)
        if self.is_module:
            raise TypeError(
                "keep_index=True hands the model pandas DataFrames, which a torch module does "
                "not take; pass a callable that accepts a DataFrame, or drop keep_index."
            )
        self.columns = frame.columns
        self.index = frame.index
        self.ordered = bool(ordered)
        self.dedup_rows = False  # a perturbed row's label is its position: every row is sent

    def background_index(self, n: int):
        """Labels of ``n`` perturbed rows that start at a coalition's first row: the background
        labels repeated."""
        return self.index.take(np.arange(n) % len(self.index))

    def raw_call(self, X, check: bool = True, index=None):
        """One model call on ``X`` ``(n, d)`` as a DataFrame indexed by ``index`` (default
        :meth:`background_index`); see :meth:`ModelAdapter.raw_call`."""
        import pandas as pd

        index = self.background_index(len(X)) if index is None else index
        frame = pd.DataFrame(X, index=index, columns=self.columns, copy=False)
        if not self.ordered:
            return super().raw_call(frame, check)
        order = pd.Series(np.arange(len(X)), index=index).sort_index(kind="stable").to_numpy()
        sorted_out = super().raw_call(frame.iloc[order], check)
        out = np.empty_like(sorted_out)
        out[order] = sorted_out  # back to the rows' order
        return out

    def __call__(self, X: np.ndarray, check: bool = True, index=None) -> np.ndarray:
        """Evaluate ``X`` ``(n, d)`` in chunks of ``batch_size`` rows; returns float64
        ``(n, k)``. ``index`` labels the rows (default :meth:`background_index`)."""
        index = self.background_index(len(X)) if index is None else index
        step = self.batch_rows(X.shape[1])
        outs = [
            self.raw_call(X[i : i + step], check, index[i : i + step])
            for i in range(0, len(X), step)
        ]
        out = np.concatenate(outs) if len(outs) > 1 else outs[0]
        return out.reshape(len(X), -1)
