"""Tabular LIME, a drop-in for ``lime.lime_tabular.LimeTabularExplainer``, batched over rows.

Data flow: training statistics (:class:`~xai_fast.masking.lime_tabular.TabularNeighbourhood`)
-> one shared draw of the neighbourhood (compiled sampler) -> one batched model call for all
rows -> each row's interpretable data, distances and kernel weights -> weighted moments, feature
selection and ridge for every (row, label) at once (compiled solvers).

The argument checks live in ``_lime_tabular_checks.py``, the surrogates in
``_lime_tabular_surrogates.py`` and the building of the explanations in
``_lime_tabular_explanations.py``; this class composes them.
"""

from __future__ import annotations

import copy
import dataclasses
from functools import partial

import numpy as np

from .._rng import normalize_seed
from .._runtime.progress import Progress, call_in_chunks
from .._validation import (
    check_data,
    check_feature_names,
    check_int,
    check_no_kwargs,
    check_positive_int,
)
from ..backends import get_backend
from ..compat.lime_explanation import LimeExplanation
from ..compat.lime_tabular_explanations import _lime_explanation, _table
from ..explanation import Explanation
from ..masking.lime_sparse import csr_model, is_sparse, sparse_interpretable, sparse_model_rows
from ..masking.lime_tabular import TabularNeighbourhood
from ..model_inputs import AsFittedFrame, fitted_on_frame
from ..models import ModelAdapter
from ._lime_tabular_checks import (
    CALL_ARGS,
    INIT_ARGS,
    _check_categorical,
    _check_feature_selection,
    _check_kernel,
    _check_kernel_width,
    _check_labels,
    _check_mode,
    _check_random_state,
    _check_rows,
    _check_stats,
    _check_training_data,
    _check_training_labels,
    _seed,
    _tree_seed,
)
from ._lime_tabular_surrogates import (
    _fit_surrogates,
    _kernel_weights,
    _selection,
    exponential_kernel,
)

__all__ = ["LimeTabularExplainer"]

#: Bytes for each chunk of rows' (rows, samples, features) tables.
ROW_TABLES_BYTES = 2**27


def _backend(backend: str):
    """The kernels of ``backend`` (``"auto"``, ``"numpy"`` or ``"numba"``) for LIME."""
    if backend not in ("auto", "numpy", "numba"):
        raise ValueError(
            f"backend must be 'auto', 'numpy' or 'numba' for LIME; got {backend!r}. (LIME's "
            "kernels are small and run on the host; the model still runs on its own device.)"
        )
    return get_backend("numpy" if backend == "numpy" else "numba")


class LimeTabularExplainer:
    """LIME for tabular data with ``lime``'s arguments and explanations, many rows at a time.

    Parameters
    ----------
    training_data : array-like, DataFrame or scipy sparse matrix, shape (n, d)
        Sparse data is never discretized (as in lime).
    mode : {"classification", "regression"}
    training_labels : array-like of shape (n,), optional
        Needed by ``discretizer="entropy"``.
    feature_names : list of str, optional
        Defaults to the DataFrame's columns, else ``"0"``, ``"1"``, ...
    categorical_features : list of int or str, optional
        Columns holding integer-coded categories (indices, or DataFrame column names).
    categorical_names : dict[int, list of str], optional
        ``categorical_names[j][v]`` is the name of value ``v`` of column ``j``.
    kernel_width : float, optional
        Width of the similarity kernel; default ``0.75 * sqrt(d)``.
    kernel : callable, optional
        ``kernel(distances, kernel_width) -> weights``, vectorised over an array of distances;
        default ``sqrt(exp(-d**2 / width**2))``.
    verbose : bool
        Print each surrogate's intercept, local prediction and the model's value.
    class_names : list of str, optional
    feature_selection : {"auto", "forward_selection", "highest_weights", "lasso_path", "none"}
        lime's selection of ``num_features`` features ("auto": forward selection up to 6
        features, highest weights above).
    discretize_continuous : bool, default True
        Turn continuous columns into bins (then every column is compared as "same bin or not").
    discretizer : {"quartile", "decile", "entropy"} or discretizer instance
    sample_around_instance : bool, default False
        Centre Gaussian perturbations on the row instead of the training mean (only without
        discretization).
    random_state : int, numpy Generator or RandomState, optional
        Seed of the neighbourhood. The same int gives the same explanation of a row, alone or
        in any batch; ``None`` draws each call's seed from numpy's global generator (as lime
        does: ``np.random.seed(0)`` makes a script reproducible). A ready-made
        ``discretizer``'s own ``random_state`` draws the values within bins, as in lime.
    training_data_stats : dict, optional
        lime's precomputed statistics (``"means"``, ``"mins"``, ``"maxs"``, ``"stds"``,
        ``"bins"``, ``"feature_values"``, ``"feature_frequencies"``) instead of the data's.
    batch_size : int, optional, keyword-only
        Rows per model call.
    backend : {"auto", "numpy", "numba"}, keyword-only
        Kernels of the sampler and solvers (``"numpy"`` is the plain reference).

    Notes
    -----
    One neighbourhood is drawn per call and shared by every row explained in it, as Kernel SHAP
    shares its coalitions: each row's samples follow lime's distribution, and when they do not
    depend on the row (everything but ``sample_around_instance=True``) the model evaluates them
    once for all rows.
    """

    def __init__(
        self,
        training_data,
        mode="classification",
        training_labels=None,
        feature_names=None,
        categorical_features=None,
        categorical_names=None,
        kernel_width=None,
        kernel=None,
        verbose=False,
        class_names=None,
        feature_selection="auto",
        discretize_continuous=True,
        discretizer="quartile",
        sample_around_instance=False,
        random_state=None,
        training_data_stats=None,
        *,
        batch_size=None,
        backend="auto",
        **kwargs,
    ):
        check_no_kwargs(kwargs, "LimeTabularExplainer()", INIT_ARGS)
        sparse = hasattr(training_data, "toarray") and hasattr(training_data, "nnz")
        discretize_continuous = bool(discretize_continuous) and not sparse
        data, columns, sparse = _check_training_data(
            training_data, discretize_continuous and training_data_stats is None
        )
        d = data.shape[1]
        self.mode = _check_mode(mode)
        self.feature_selection = _check_feature_selection(feature_selection)
        self.feature_names = (
            check_feature_names(feature_names, d) or columns or [str(j) for j in range(d)]
        )
        self.categorical_features = _check_categorical(categorical_features, d, columns)
        self.categorical_names = dict(categorical_names or {})
        self.class_names = None if class_names is None else list(class_names)
        self.verbose = bool(verbose)
        self.kernel_width = _check_kernel_width(kernel_width, d)
        kernel = _check_kernel(kernel)
        self.kernel = exponential_kernel if kernel is None else kernel
        self.random_state = _check_random_state(random_state)
        if training_data_stats is not None:
            _check_stats(training_data_stats)
        training_labels = _check_training_labels(
            training_labels,
            data.shape[0],
            used=discretize_continuous and training_data_stats is None,
        )
        self.neighbourhood = TabularNeighbourhood.fit(
            data,
            self.categorical_features,
            self.feature_names,
            discretize_continuous=discretize_continuous,
            discretizer=discretizer,
            labels=training_labels,
            random_state=_tree_seed(random_state),
            sample_around_instance=sample_around_instance,
            stats=training_data_stats,
        )
        self.discretizer = self.neighbourhood.discretizer
        if self.discretizer is not None:  # lime: every column is then compared by its bin
            self.categorical_features = list(range(d))
        nb = self.neighbourhood
        self.feature_values = {j: v.tolist() for j, v in nb.feature_values.items()}
        self.feature_frequencies = dict(nb.feature_frequencies)
        self.batch_size = batch_size
        self.kernels = _backend(backend)  # pickles as its name
        self.backend = self.kernels.name

    # ------------------------------------------------------------------ public API
    def explain_instance(
        self,
        data_row,
        predict_fn,
        labels=(1,),
        top_labels=None,
        num_features=10,
        num_samples=5000,
        distance_metric="euclidean",
        model_regressor=None,
        **kwargs,
    ) -> LimeExplanation:
        """Explain one row (lime's ``explain_instance``); see :meth:`explain_instances`."""
        check_no_kwargs(kwargs, "explain_instance()", CALL_ARGS)
        row = data_row
        if not is_sparse(row):  # a sparse row is a (1, d) matrix
            row = check_data(data_row, name="data_row", allow_1d=True)[0]
        if row.shape[0] != 1:
            raise ValueError(
                f"data_row must be one row of shape (d,); got {row.shape}. Use "
                "explain_instances for many rows."
            )
        return self.explain_instances(
            row, predict_fn, labels, top_labels, num_features, num_samples,
            distance_metric, model_regressor,
        )[0]  # fmt: skip

    def explain_instances(
        self,
        X,
        predict_fn,
        labels=(1,),
        top_labels=None,
        num_features=10,
        num_samples=5000,
        distance_metric="euclidean",
        model_regressor=None,
        *,
        silent=False,
        **kwargs,
    ) -> list:
        """Explain every row of ``X`` in one pass.

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix, shape (n, d)
            Sparse rows are perturbed where they are non-zero only, and ``predict_fn``
            receives CSR matrices (lime's sparse mode).
        predict_fn : callable or torch.nn.Module
            ``(m, d) -> (m, k)`` class probabilities (classification) or ``(m,)`` values
            (regression).
        labels : sequence of int, default (1,)
            Labels to explain (classification).
        top_labels : int, optional
            Explain each row's ``top_labels`` most probable labels instead of ``labels``.
        num_features : int, default 10
        num_samples : int, default 5000
            Neighbourhood size per row (the row itself included, as in lime).
        distance_metric : str, default "euclidean"
            Any ``sklearn.metrics.pairwise_distances`` metric.
        model_regressor : scikit-learn regressor, optional
            Replaces the ridge surrogate (fitted per row and label with ``sample_weight``).
        silent : bool, default False, keyword-only
            Hide the progress bar (shown once the call has taken 2 s).

        Returns
        -------
        list of LimeExplanation
            One per row, in order.
        """
        check_no_kwargs(kwargs, "explain_instances()", CALL_ARGS + ("silent",))
        sparse = is_sparse(X)
        X = _check_rows(X.toarray() if sparse else X, self.neighbourhood.kinds.shape[0])
        n, d = X.shape
        S = check_int(num_samples, "num_samples", 2)
        k_feat = check_int(num_features, "num_features", 1)
        if top_labels is not None:
            top_labels = check_int(top_labels, "top_labels", 1)
        nb = self.neighbourhood
        seed = _seed(self.random_state)
        within = _seed(nb.discretizer.random_state) if nb.own_seed else None
        codes, inverse = self.kernels.sample_neighbourhood(
            seed, S - 1, nb.kinds, nb.cdf, nb.values, nb.lo, nb.hi, nb.mu, nb.sd,
            nb.center, nb.scale, within,
        )  # fmt: skip
        fn = csr_model(predict_fn) if sparse else predict_fn
        if not sparse and fitted_on_frame(predict_fn, self.feature_names):
            fn = AsFittedFrame(predict_fn, self.feature_names)  # no feature-name warnings
        model = ModelAdapter(fn, batch_size=self.batch_size)
        rows = partial(sparse_model_rows, nb) if sparse else nb.model_rows
        with model.evaluating():
            y_self, y_shared, rows_y = self._predict(
                model, X, inverse, rows, sparse or nb.row_dependent, silent
            )
        k = y_self.shape[1]
        label_ids = _check_labels(
            self.mode, self.class_names, labels, top_labels, k, y_self, y_shared, rows_y
        )
        method = _selection(self.feature_selection, k_feat)

        out = []
        step = max(1, ROW_TABLES_BYTES // (8 * S * (d + k + 2)))
        for c in range(0, n, step):  # chunks bound the (rows, S, d) tables
            sl = slice(c, c + step)
            Xs, dist = nb.interpretable(
                X[sl], codes, self.kernels.interpretable_rows
            )  # (n_c, S, d), (n_c, S)
            if sparse:
                Xs, dist = sparse_interpretable(nb, X[sl], Xs)
            Y = self._row_outputs(y_self[sl], y_shared, None if rows_y is None else rows_y[sl])
            w = _kernel_weights(self.kernel, self.kernel_width, Xs, dist, distance_metric)
            Yl = Y[:, :, label_ids]  # (n_c, S, L)
            fits = _fit_surrogates(self.kernels, Xs, w, Yl, method, k_feat, model_regressor)
            for i in range(Xs.shape[0]):
                x = X[c + i]
                out.append(_lime_explanation(self, x, Y[i], label_ids, top_labels, fits, i))
        return out

    def __call__(
        self,
        X,
        predict_fn,
        labels=(1,),
        num_features=10,
        num_samples=5000,
        **kwargs,
    ) -> Explanation:
        """Explain ``X`` and return the surrogate weights as an :class:`~xai_fast.Explanation`.

        ``values`` is ``(n, d)`` for one label and ``(n, d, L)`` for ``L`` labels (0 for
        features not selected); ``base_values`` holds the intercepts. Other keyword arguments
        are those of :meth:`explain_instances` except ``top_labels``.
        """
        Xc, columns, was_1d = check_data(X, name="X", allow_1d=True)
        labels_list = [0] if self.mode == "regression" else list(labels)
        exps = self.explain_instances(
            Xc, predict_fn, labels_list, None, num_features, num_samples, **kwargs
        )
        return _table(exps, self.mode, labels_list, Xc, was_1d, self.feature_names)

    # ------------------------------------------------------------------ internals
    def _predict(self, model, X, inverse, model_rows, row_dependent, silent):
        """Model outputs at the rows ``(n, k)`` and at the samples.

        Shared samples are evaluated once (``(S - 1, k)``, rows' outputs ``None``); samples
        that depend on the row (``model_rows(X_chunk, inverse)`` ``(n_c, S - 1, d)``) are
        evaluated per row (``None``, ``(n, S - 1, k)``).
        """
        y_self = model(np.ascontiguousarray(X))
        if not row_dependent:  # a call of its own: a row's values never depend on the batch
            return y_self, call_in_chunks(model, inverse, "LIME", not silent), None
        per = max(1, model.batch_rows(X.shape[1]) // max(len(inverse), 1))
        bar = Progress(len(X), "LIME", enabled=not silent)
        ys = []
        for c in range(0, len(X), per):  # a chunk of rows per model call
            rows = model_rows(X[c : c + per], inverse)  # (n_c, S-1, d)
            ys.append(model(rows.reshape(-1, rows.shape[2])).reshape(rows.shape[:2] + (-1,)))
            bar.update(rows.shape[0])
        bar.close()
        return y_self, None, np.concatenate(ys)

    @staticmethod
    def _row_outputs(y_self, y_shared, rows_y):
        """Each row's outputs with the row first: ``(n_c, S, k)``."""
        if rows_y is None:
            rows_y = np.broadcast_to(y_shared, (len(y_self),) + y_shared.shape)
        return np.concatenate([y_self[:, None, :], rows_y], axis=1)

    @property
    def _sampler(self):
        """The kernels (``sample_neighbourhood`` among them), under their former name."""
        return self.kernels

    # ------------------------------------------------------------------ copies
    def with_seed(self):
        """A shallow copy whose ``random_state`` (and a passed discretizer's) is one int (drawn
        now from ``None``, a Generator or a RandomState), so every copy draws alike.

        Returns
        -------
        LimeTabularExplainer
        """
        out = copy.copy(self)
        out.random_state = int(_seed(self.random_state))
        if self.neighbourhood.own_seed:
            out.discretizer = copy.copy(self.discretizer)
            out.discretizer.random_state = int(_seed(self.discretizer.random_state))
            out.neighbourhood = dataclasses.replace(self.neighbourhood, discretizer=out.discretizer)
        return out

    def sample_rows(self, n=1, seed=0):
        """Rows like those the model sees: draws of the neighbourhood, placed around the
        training mean when samples are drawn around each instance.

        Parameters
        ----------
        n : int, default 1
        seed : int or numpy Generator, default 0

        Returns
        -------
        ndarray of float64, shape (n, d)
        """
        nb = self.neighbourhood
        _, inverse = self.kernels.sample_neighbourhood(
            normalize_seed(seed), check_positive_int(n, "n"), nb.kinds, nb.cdf, nb.values,
            nb.lo, nb.hi, nb.mu, nb.sd, nb.center, nb.scale,
        )  # fmt: skip
        return nb.model_rows(nb.mean[None, :], inverse).reshape(n, -1)
