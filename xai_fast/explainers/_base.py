"""What every coalition-based explainer shares: model, background, link and the row loop."""

from __future__ import annotations

import copy
import warnings

import numpy as np

from .._validation import (
    check_data,
    check_feature_names,
    check_flag,
    check_link,
    check_same_columns,
)
from ..backends import get_backend
from ..background import Background, as_background
from ..explanation import Explanation
from ..links import apply_link
from ..masking import BackgroundMasker, Game, varying_features
from ..masking.independent_masker import Independent
from ..masking.partition_masker import Partition, refuse_hierarchical_masker
from ..masking.value_codes import DecodedModel, ValueCodes, is_non_numeric
from ..model_inputs import AsFittedFrame, fitted_on_frame, frame_columns, output_names_of
from ..models import FrameModelAdapter, ModelAdapter, is_torch_module
from ._shap_compat import SavableExplainer, masker_background


class CoalitionExplainer(SavableExplainer):
    """Base of explainers that evaluate coalitions of features against a background.

    Sets ``link``, ``background``, ``feature_names``, ``model`` (a :class:`ModelAdapter`),
    ``backend``, ``vector_out``, ``fnull`` ``(k,)`` and ``expected_value``. Subclasses keep
    their constructor's arguments as ``_init_args`` for :meth:`save`.
    """

    def __init__(
        self, model, data, link, feature_names, batch_size, backend, keep_index=None,
        output_names=None,
    ):  # fmt: skip
        if isinstance(data, Partition) and data.clustering is None:  # rows, as explainer.masker
            data = masker_background(data, None)
        elif (
            type(data).__module__.startswith("shap.maskers")
            and type(data).__name__ == "Independent"
        ):
            data = masker_background(data, None)  # its rows (shap's KernelExplainer refuses it)
        refuse_hierarchical_masker(data, type(self).__name__)
        self.link = check_link(link)
        user_model = model
        columns = frame_columns(data) or feature_names
        if keep_index is None and fitted_on_frame(model, columns):  # no feature-name warnings
            model = AsFittedFrame(model, columns, data)
        self.codes = None  # ValueCodes of non-numeric data: the engine masks their codes
        if is_non_numeric(data):
            data, model = self._coded(data, model, keep_index)
        self.background = as_background(data)
        d = self.background.data.shape[1]
        self.feature_names = check_feature_names(feature_names, d) or self.background.feature_names
        self.keep_index = keep_index is not None
        if self.keep_index:  # (ordered,): the model takes DataFrames indexed like shap's
            self.model = FrameModelAdapter(
                model, _frame(data), ordered=keep_index[0], batch_size=batch_size
            )
        else:
            self.model = ModelAdapter(model, batch_size=batch_size)
        self.backend = get_backend(backend, model_is_module=self.model.is_module)
        B = self.background.data
        dtype = self.model.input_dtype or B.dtype
        Bc = np.ascontiguousarray(B, dtype=dtype)
        with self.model.evaluating():  # one call when the background fits one
            raw = self.model.raw_call(Bc if len(Bc) <= self.model.batch_rows(d) else Bc[:1])
            out = raw.reshape(len(Bc), -1) if len(raw) == len(Bc) else self.model(Bc)
        self.vector_out = raw.ndim == 2
        self.fnull = self.background.weights @ out  # (k,)
        returned = getattr(self.model, "output_columns", None)
        self.output_names = output_names_of(user_model, output_names, out.shape[1], returned)
        ev = apply_link(self.link, self.fnull, what="mean model output over the background")
        self.expected_value = ev if self.vector_out else float(ev[0])

    def _coded(self, data, model, keep_index):
        """The background as codes of its values, and the model on the values."""
        if is_torch_module(model) or keep_index is not None:
            raise TypeError(
                "data holds non-numeric columns (strings, categories, objects), which reach "
                "the model unchanged only as numpy arrays: use a callable model without "
                "keep_index, or encode the columns as numbers."
            )
        arr, columns, _ = check_data(data, name="data", numeric=False)
        self.codes = ValueCodes()
        coded = Background(self.codes.encode(arr), np.full(len(arr), 1.0 / len(arr)), columns)
        return coded, DecodedModel(model, self.codes)

    @property
    def masker(self):
        """shap's ``explainer.masker``: what "feature absent" means, as a masker.

        Returns
        -------
        Independent, Partition, Image or Text
            The masker given, for one with a hierarchy; else the background rows as an
            :class:`~xai_fast.maskers.Independent` masker, as shap's: ``masker(mask, x)``
            gives the ``(N, d)`` rows with ``mask``'s features set to ``x``'s,
            ``masker.shape`` is ``(N, d)``. Weights of a weighted
            background are not part of it.
        """
        masked = getattr(self, "_masked", None)
        if masked is not None:
            return masked.bound.masker
        if self.codes is not None:  # AttributeError keeps hasattr(explainer, "masker") False
            raise AttributeError(
                "masker is the numeric background rows as shap's Independent masker; this "
                "background holds non-numeric values (coded internally), so it has none. Use "
                "explainer.background instead."
            )
        rows = self.background.data
        if self.feature_names is not None:
            import pandas as pd

            rows = pd.DataFrame(rows, columns=self.feature_names)
        return Independent(rows, max_samples=len(rows))

    def with_seed(self):
        """A shallow copy whose random draws are fixed, so that every copy draws the same.

        Returns
        -------
        CoalitionExplainer
            Explainers that sample (:class:`~xai_fast.KernelExplainer`) fix their seed to one
            int, drawn now when it is ``None`` or a generator; exact ones are copied as they are.
        """
        return copy.copy(self)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_torch_masker", None)  # device tensors; rebuilt on the next call
        return state

    def to(self, device):
        """Move a torch module model to ``device``, in place as ``torch.nn.Module.to``.

        Parameters
        ----------
        device : str or torch.device
            Where the module and its inputs go, e.g. ``"cuda"``.

        Returns
        -------
        CoalitionExplainer
            ``self``. A callable model is left as it is (it places itself), and so is the
            background (kept on the host; the torch backend copies it to the model's device).
        """
        if self.model.is_module:
            self.model.model.to(device)
            self.model = ModelAdapter(self.model, device=device)
        return self

    def _check_rows(self, X):
        """Validate rows to explain: ``(Xc (n, d), columns or None, was_1d)``."""
        coded = self.codes is not None
        Xc, columns, was_1d = check_data(X, name="X", allow_1d=True, numeric=not coded)
        d = self.background.data.shape[1]
        if Xc.shape[1] != d:
            raise ValueError(
                f"X has {Xc.shape[1]} features but the background data has {d}; pass rows with "
                "the same columns as the background."
            )
        check_same_columns(columns, self.background.feature_names)
        return (self.codes.encode(Xc) if coded else Xc), columns, was_1d

    def _game(self, X):
        """The game for rows ``X``: on the module's device for the torch backend."""
        if self.backend.name == "torch" and self.model.is_module:
            from ..masking.background_torch import BackgroundTorchMasker

            masker = getattr(self, "_torch_masker", None)  # its background tensor and buffers
            if masker is None or not masker.serves(self.model, self.background):
                masker = BackgroundTorchMasker(self.model, self.background, self.backend)
                self._torch_masker = masker
            return Game(self.model, masker)
        dtype = self.model.input_dtype or np.result_type(X.dtype, self.background.data.dtype)
        return Game(self.model, BackgroundMasker(self.background, self.backend, dtype))

    def _row_index(self, X):
        """The index labels of rows ``X`` the model sees with ``keep_index``, else ``None``."""
        if not self.keep_index:
            return None
        if hasattr(X, "columns") and hasattr(X, "index"):  # a DataFrame
            return X.index
        if hasattr(X, "index") and hasattr(X, "name"):  # a Series: one row labelled by its name
            import pandas as pd

            return pd.Index([X.name], name=self.model.index.name)
        raise TypeError(
            "keep_index=True passes the rows' index to the model, so X must be a pandas "
            f"DataFrame (or a Series for one row); got {type(X).__name__}."
        )

    def _outputs(self, X, index=None):
        """``link(f(X)) - link(base)`` as ``(n, k)``, and ``link(base)`` as ``(k,)``.

        ``index`` labels the rows for a ``keep_index`` model."""
        dtype = self.model.input_dtype or np.result_type(X.dtype, self.background.data.dtype)
        X = np.ascontiguousarray(X, dtype=dtype)
        fx = self.model(X) if index is None else self.model(X, index=index)
        link_null = apply_link(self.link, self.fnull)
        return apply_link(self.link, fx) - link_null[None, :], link_null

    def _varying_groups(self, X):
        """Rows grouped by their number ``M`` of varying features: ``[(M, rows, var_idx)]``.

        ``var_idx`` ``(len(rows), M)`` lists each row's varying columns in order.
        """
        varying = varying_features(X, self.background.data)
        counts = varying.sum(axis=1)
        groups = []
        for M in np.unique(counts):
            rows = np.nonzero(counts == M)[0]
            groups.append((int(M), rows, np.nonzero(varying[rows])[1].reshape(len(rows), M)))
        return groups

    def _shap_shape(self, phi, was_1d):
        """shap's shapes: drop the output axis of a single-output model, and the row axis of
        a single row."""
        if not self.vector_out:
            phi = phi[..., 0]
        return phi[0] if was_1d else phi

    def _explanation(self, values, Xc, columns, was_1d, interactions=False, outputs=None):
        """An Explanation of ``values``; ``outputs`` (output columns) when ``values`` hold only
        those of a multi-output model."""
        ev = np.asarray(self.expected_value)
        names = self.output_names
        if outputs is not None and self.vector_out:
            ev = ev[outputs]
            names = None if names is None else [names[c] for c in np.arange(len(names))[outputs]]
        base = ev.copy() if was_1d else np.tile(ev, (len(Xc),) + (1,) * ev.ndim)
        if self.codes is not None:  # the values, not their codes
            Xc = self.codes.decode(Xc)
        return Explanation(
            values,
            base,
            Xc[0] if was_1d else Xc,
            feature_names=self.feature_names or columns,
            output_names=names if self.vector_out else None,
            axes=(() if was_1d else ("row",))
            + ("feature",)
            + (("feature2",) if interactions else ())
            + (("output",) if self.vector_out else ()),
        )


def _frame(data):
    """The background DataFrame a ``keep_index`` model's frames copy their columns and index
    from."""
    if not (hasattr(data, "columns") and hasattr(data, "index")):
        raise TypeError(
            "keep_index=True builds the model's DataFrames from the background's index and "
            f"columns, so data must be a pandas DataFrame; got {type(data).__name__}."
        )
    return data


def keep_index_option(keep_index, keep_index_ordered):
    """shap's ``keep_index`` and ``keep_index_ordered`` checked: ``(ordered,)`` when the model
    takes DataFrames, else ``None``."""
    keep = check_flag(keep_index, "keep_index")
    ordered = check_flag(keep_index_ordered, "keep_index_ordered")
    if ordered and not keep:
        warnings.warn(
            "keep_index_ordered=True has no effect without keep_index=True (shap ignores it "
            "too); pass keep_index=True for the model to get DataFrames sorted by index.",
            UserWarning,
            stacklevel=3,
        )
    return (ordered,) if keep else None
