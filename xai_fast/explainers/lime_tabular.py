"""Tabular LIME, a drop-in for ``lime.lime_tabular.LimeTabularExplainer``, batched over rows.

Data flow: training statistics (:class:`~xai_fast.masking.lime_tabular.TabularNeighbourhood`)
-> one shared draw of the neighbourhood (compiled sampler) -> one batched model call for all
rows -> each row's interpretable data, distances and kernel weights -> weighted moments, feature
selection and ridge for every (row, label) at once (compiled solvers).
"""

from __future__ import annotations

import copy

import numpy as np

from .._progress import Progress
from .._rng import normalize_seed
from .._validation import check_data, check_feature_names, check_no_kwargs, check_positive_int
from ..explanation import Explanation
from ..lime_explanation import LimeExplanation
from ..masking.lime_tabular import TabularNeighbourhood
from ..models import ModelAdapter
from ..solvers.lime_ridge_ref import FORWARD, HIGHEST, NONE

__all__ = ["LimeTabularExplainer"]

_SELECTIONS = ("auto", "forward_selection", "highest_weights", "lasso_path", "none")
#: Bytes for each chunk of rows' (rows, samples, features) tables.
ROW_TABLES_BYTES = 2**27


def exponential_kernel(d, kernel_width):
    """lime's default similarity ``sqrt(exp(-d**2 / width**2))``."""
    return np.sqrt(np.exp(-(d**2) / kernel_width**2))


def _kernels(backend: str):
    """The sampler and solver kernels of ``backend`` (``"numpy"`` or ``"numba"``)."""
    if backend not in ("auto", "numpy", "numba"):
        raise ValueError(
            f"backend must be 'auto', 'numpy' or 'numba' for LIME; got {backend!r}. (LIME's "
            "kernels are small and run on the host; the model still runs on its own device.)"
        )
    if backend == "numpy":
        from ..masking import lime_rows_ref as rows
        from ..sampling import lime_neighbourhood_ref as sampler
        from ..solvers import lime_ridge_ref as ridge
    else:
        from ..masking import lime_rows_numba as rows
        from ..sampling import lime_neighbourhood_numba as sampler
        from ..solvers import lime_ridge_numba as ridge
    return sampler, rows.interpretable_rows, ridge


class LimeTabularExplainer:
    """LIME for tabular data with ``lime``'s arguments and explanations, many rows at a time.

    Parameters
    ----------
    training_data : array-like or DataFrame, shape (n, d)
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
        Seed of the neighbourhood. The same seed gives the same explanation of a row, alone or
        in any batch; ``None`` draws fresh entropy on every call.
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
        check_no_kwargs(kwargs, "LimeTabularExplainer()", _INIT_ARGS)
        data, columns, _ = check_data(training_data, name="training_data")
        data = data.astype(np.float64)
        d = data.shape[1]
        if mode not in ("classification", "regression"):
            raise ValueError(f"mode must be 'classification' or 'regression'; got {mode!r}.")
        if feature_selection not in _SELECTIONS:
            raise ValueError(
                f"feature_selection must be one of {_SELECTIONS}; got {feature_selection!r}."
            )
        self.mode = mode
        self.feature_names = (
            check_feature_names(feature_names, d) or columns or [str(j) for j in range(d)]
        )
        self.categorical_features = _check_categorical(categorical_features, d, columns)
        self.categorical_names = dict(categorical_names or {})
        self.class_names = None if class_names is None else list(class_names)
        self.feature_selection = feature_selection
        self.verbose = bool(verbose)
        if kernel_width is None:
            kernel_width = 0.75 * np.sqrt(d)
        if not np.isfinite(kernel_width) or float(kernel_width) <= 0:
            raise ValueError(f"kernel_width must be a positive number; got {kernel_width!r}.")
        self.kernel_width = float(kernel_width)
        if kernel is not None and not callable(kernel):
            raise TypeError(
                f"kernel must be callable(distances, kernel_width); got {type(kernel).__name__}."
            )
        self.kernel = exponential_kernel if kernel is None else kernel
        if random_state is not None and not isinstance(random_state, np.random.RandomState):
            normalize_seed(random_state)  # validate the type now
        self.random_state = random_state
        if training_data_stats is not None:
            _check_stats(training_data_stats)
        if training_labels is not None:
            training_labels = np.asarray(training_labels)
            if training_labels.shape[0] != data.shape[0]:
                raise ValueError(
                    f"training_labels has {training_labels.shape[0]} entries for "
                    f"{data.shape[0]} training rows; pass one label per row."
                )
        self.neighbourhood = TabularNeighbourhood.fit(
            data,
            self.categorical_features,
            self.feature_names,
            discretize_continuous=bool(discretize_continuous),
            discretizer=discretizer,
            labels=training_labels,
            random_state=_tree_seed(random_state),
            sample_around_instance=sample_around_instance,
            stats=training_data_stats,
        )
        self.discretizer = self.neighbourhood.discretizer
        self.batch_size = batch_size
        self._sampler, self._rows, self._ridge = _kernels(backend)
        self.backend = "numpy" if backend == "numpy" else "numba"

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
        check_no_kwargs(kwargs, "explain_instance()", _CALL_ARGS)
        row, _, _ = check_data(data_row, name="data_row", allow_1d=True)
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
        silent=True,
        **kwargs,
    ) -> list:
        """Explain every row of ``X`` in one pass.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n, d)
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
        silent : bool, default True, keyword-only
            Hide the progress bar.

        Returns
        -------
        list of LimeExplanation
            One per row, in order.
        """
        check_no_kwargs(kwargs, "explain_instances()", _CALL_ARGS + ("silent",))
        X = self._check_rows(X)
        n, d = X.shape
        S = _positive_int(num_samples, "num_samples", minimum=2)
        k_feat = _positive_int(num_features, "num_features", minimum=1)
        if top_labels is not None:
            top_labels = _positive_int(top_labels, "top_labels", minimum=1)
        nb = self.neighbourhood
        seed = _seed(self.random_state)
        codes, inverse = self._sampler.sample_neighbourhood(
            seed, S - 1, nb.kinds, nb.cdf, nb.values, nb.lo, nb.hi, nb.mu, nb.sd,
            nb.center, nb.scale,
        )  # fmt: skip
        model = ModelAdapter(predict_fn, batch_size=self.batch_size)
        with model.evaluating():
            y_self, y_shared, rows_y = self._predict(model, X, inverse, silent)
        k = y_self.shape[1]
        label_ids = self._labels(labels, top_labels, k, y_self, y_shared, rows_y)
        method = self._method(k_feat)

        out = []
        step = max(1, ROW_TABLES_BYTES // (8 * S * (d + k + 2)))
        for c in range(0, n, step):  # chunks bound the (rows, S, d) tables
            sl = slice(c, c + step)
            Xs, dist = nb.interpretable(X[sl], codes, self._rows)  # (n_c, S, d), (n_c, S)
            Y = self._row_outputs(y_self[sl], y_shared, None if rows_y is None else rows_y[sl])
            w = self._weights(Xs, dist, distance_metric)  # (n_c, S)
            fits = self._fit(Xs, w, Y[:, :, label_ids], method, k_feat, model_regressor)
            for i in range(Xs.shape[0]):
                out.append(self._lime_explanation(X[c + i], Y[i], label_ids, top_labels, fits, i))
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
        lab = [1] if self.mode == "regression" else labels_list
        values = np.zeros((len(exps), Xc.shape[1], len(lab)))
        base = np.zeros((len(exps), len(lab)))
        for i, e in enumerate(exps):
            for t, label in enumerate(lab):
                for j, wj in e.local_exp[label]:
                    values[i, j, t] = wj
                base[i, t] = e.intercept[label]
        names = None
        if self.mode == "classification" and exps and exps[0].class_names is not None:
            names = [exps[0].class_names[label] for label in lab]
        axes = ("row", "feature", "output")
        if len(lab) == 1:
            values, base, axes = values[..., 0], base[..., 0], axes[:2]
        if was_1d:
            values, base, Xc, axes = values[0], base[0], Xc[0], axes[1:]
        return Explanation(values, base, Xc, self.feature_names, names, axes=axes)

    # ------------------------------------------------------------------ internals
    def _check_rows(self, X):
        Xc, _, _ = check_data(X, name="X", allow_1d=True)
        d = self.neighbourhood.kinds.shape[0]
        if Xc.shape[1] != d:
            raise ValueError(
                f"X has {Xc.shape[1]} features but the training data has {d}; pass rows with "
                "the training data's columns."
            )
        if not np.isfinite(Xc).all():
            raise ValueError("X contains NaN or infinity; impute or drop those rows first.")
        return Xc.astype(np.float64)

    def _predict(self, model, X, inverse, silent):
        """Model outputs at the rows ``(n, k)`` and at the samples.

        Shared samples are evaluated once (``(S - 1, k)``, rows' outputs ``None``); samples
        around each row are evaluated per row (``None``, ``(n, S - 1, k)``).
        """
        nb = self.neighbourhood
        y_self = model(np.ascontiguousarray(X))
        if not nb.row_dependent:  # a call of its own: a row's values never depend on the batch
            return y_self, model(np.ascontiguousarray(inverse)), None
        per = max(1, model.batch_rows(X.shape[1]) // max(len(inverse), 1))
        bar = Progress(len(X), "LIME", enabled=not silent)
        ys = []
        for c in range(0, len(X), per):  # a chunk of rows per model call
            rows = nb.model_rows(X[c : c + per], inverse)  # (n_c, S-1, d)
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

    def _labels(self, labels, top_labels, k, y_self, y_shared, rows_y):
        """Columns of the model output to fit (all of them when ``top_labels`` is set)."""
        if self.mode == "regression":
            if k != 1:
                raise ValueError(
                    f"mode='regression' needs one output per row; the model returned {k}. "
                    "Pass a function that returns the output to explain, e.g. "
                    "lambda X: model(X)[:, 0]."
                )
            return np.array([0])
        if k == 1:
            raise ValueError(
                "mode='classification' needs class probabilities of shape (m, k); the model "
                "returned one value per row. Pass predict_proba, or use mode='regression'."
            )
        y_all = [y_self, y_shared if rows_y is None else rows_y.reshape(-1, k)]
        if not all(np.allclose(y.sum(axis=1), 1.0) for y in y_all):
            import warnings

            warnings.warn(
                "the model's outputs do not sum to 1 over classes; LIME explains probabilities "
                "(pass predict_proba, not log-probabilities or decision values).",
                UserWarning,
                stacklevel=3,
            )
        if self.class_names is not None and len(self.class_names) != k:
            raise ValueError(
                f"class_names has {len(self.class_names)} names but the model returned {k} classes."
            )
        if top_labels is not None:
            return np.arange(k)
        ids = np.asarray(list(labels), dtype=np.int64).reshape(-1)
        if ids.size == 0 or (ids < 0).any() or (ids >= k).any():
            raise ValueError(
                f"labels must be class indices in [0, {k}); got {list(labels)}. The model "
                f"returned {k} classes."
            )
        return ids

    def _method(self, num_features):
        sel = self.feature_selection
        if sel == "auto":
            sel = "forward_selection" if num_features <= 6 else "highest_weights"
        return sel

    def _weights(self, Xs, dist, metric):
        """Kernel weights of each row's samples: ``(n_c, S)``."""
        if metric != "euclidean":
            from sklearn.metrics import pairwise_distances

            try:
                dist = np.stack([pairwise_distances(x, x[:1], metric=metric)[:, 0] for x in Xs])
            except ValueError as err:
                raise ValueError(f"distance_metric {metric!r} is not usable: {err}") from None
        w = np.asarray(self.kernel(dist, self.kernel_width), dtype=np.float64)
        if w.shape != dist.shape or not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(
                f"the kernel must return finite non-negative weights of shape {dist.shape} for "
                f"distances of that shape; got shape {w.shape}."
            )
        if (w.sum(axis=1) <= 0).any():
            raise ValueError(
                "every sample got weight 0 for some row; widen kernel_width (now "
                f"{self.kernel_width:g})."
            )
        return w

    def _fit(self, Xs, w, Y, method, num_features, model_regressor):
        """Selection and surrogate for every (row, label): dict of (n_c, L, ...) arrays."""
        ridge = self._ridge
        xbar, G, ybar, c, syy = ridge.weighted_moments(Xs, w, np.ascontiguousarray(Y))
        x0 = np.ascontiguousarray(Xs[:, 0, :])
        if method == "lasso_path":
            if self.backend == "numpy":
                from ..solvers.lasso_path_ref import lasso_path_support
            else:
                from ..solvers.lasso_path_numba import lasso_path_support
            n_c, L, d = c.shape
            G_rep = np.repeat(G, L, axis=0)  # one problem per (row, label)
            support = lasso_path_support(G_rep, c.reshape(-1, d), num_features, Xs.shape[1])
            used = _support_to_used(support.reshape(n_c, L, d))
        else:
            code = {"none": NONE, "forward_selection": FORWARD, "highest_weights": HIGHEST}[method]
            used = ridge.select_features(G, c, syy, x0, code, num_features)
        if model_regressor is None:
            coef, intercept, score, local_pred = ridge.ridge_fit(
                G, c, syy, xbar, ybar, x0, used, 1.0
            )
        else:
            coef, intercept, score, local_pred = _fit_regressor(model_regressor, Xs, w, Y, used)
        return {
            "used": used,
            "coef": coef,
            "intercept": intercept,
            "score": score,
            "local_pred": local_pred,
        }

    def _display_names(self, x):
        """lime's feature names for row ``x``: bins (``"a <= 1.00"``) and ``"name=value"``."""
        names = list(self.feature_names)
        disc = self.discretizer
        for j in self.categorical_features:
            if disc is not None and j in disc.thresholds:
                continue
            v = int(x[j])
            label = self.categorical_names[j][v] if j in self.categorical_names else v
            names[j] = f"{names[j]}={label}"
        if disc is not None:
            binned = disc.discretize(x)
            for j in disc.thresholds:
                names[j] = disc.names[j][int(binned[j])]
        return names

    def _lime_explanation(self, x, Yi, label_ids, top_labels, fits, i):
        k = Yi.shape[1]
        class_names = self.class_names or [str(t) for t in range(k)]
        exp = LimeExplanation(self.mode, self._display_names(x), class_names)
        if self.mode == "classification":
            exp.predict_proba = Yi[0].copy()
            chosen = list(label_ids)
            if top_labels:
                chosen = list(np.argsort(Yi[0], kind="stable")[-top_labels:])
                exp.top_labels = chosen[::-1]
        else:
            exp.predicted_value = float(Yi[0, 0])
            exp.min_value, exp.max_value = float(Yi[:, 0].min()), float(Yi[:, 0].max())
            chosen = [0]
        col = {int(label): t for t, label in enumerate(label_ids)}
        for label in chosen:
            t = col[int(label)]
            u = fits["used"][i, t]
            u = u[u >= 0]
            pairs = sorted(
                ((int(j), float(fits["coef"][i, t, j])) for j in u),
                key=lambda p: abs(p[1]),
                reverse=True,
            )
            exp.local_exp[int(label)] = pairs
            exp.intercept[int(label)] = float(fits["intercept"][i, t])
            exp.scores[int(label)] = float(fits["score"][i, t])
            exp.local_preds[int(label)] = float(fits["local_pred"][i, t])
            exp.score = exp.scores[int(label)]
            exp.local_pred = np.array([exp.local_preds[int(label)]])
            if self.verbose:
                print("Intercept", exp.intercept[int(label)])
                print("Prediction_local", exp.local_pred)
                print("Right:", Yi[0, int(label)])
        if self.mode == "regression":  # lime's convention: label 1 holds the weights
            exp.intercept[1] = exp.intercept[0]
            exp.local_exp[1] = list(exp.local_exp[0])
            exp.local_exp[0] = [(j, -w) for j, w in exp.local_exp[1]]
        return exp

    # ------------------------------------------------------------------ copies and pickling
    def with_seed(self):
        """A shallow copy whose ``random_state`` is one int (drawn now from ``None``, a
        Generator or a RandomState), so that every copy draws the same neighbourhood.

        Returns
        -------
        LimeTabularExplainer
        """
        out = copy.copy(self)
        out.random_state = int(_seed(self.random_state))
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
        _, inverse = self._sampler.sample_neighbourhood(
            normalize_seed(seed), check_positive_int(n, "n"), nb.kinds, nb.cdf, nb.values,
            nb.lo, nb.hi, nb.mu, nb.sd, nb.center, nb.scale,
        )  # fmt: skip
        return nb.model_rows(nb.mean[None, :], inverse).reshape(n, -1)

    # Kernels travel as the backend's name: a pickled Numba function loses its on-disk cache.
    def __getstate__(self):
        state = self.__dict__.copy()
        for kernels in ("_sampler", "_rows", "_ridge"):
            del state[kernels]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._sampler, self._rows, self._ridge = _kernels(self.backend)


_INIT_ARGS = (
    "training_data", "mode", "training_labels", "feature_names", "categorical_features",
    "categorical_names", "kernel_width", "kernel", "verbose", "class_names",
    "feature_selection", "discretize_continuous", "discretizer", "sample_around_instance",
    "random_state", "training_data_stats", "batch_size", "backend",
)  # fmt: skip
_CALL_ARGS = (
    "data_row", "predict_fn", "labels", "top_labels", "num_features", "num_samples",
    "distance_metric", "model_regressor",
)  # fmt: skip


def _positive_int(value, name, *, minimum):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum:
        return int(value)
    raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def _seed(random_state):
    if isinstance(random_state, np.random.RandomState):
        return np.uint64(random_state.randint(0, 2**63, dtype=np.int64))
    return normalize_seed(random_state)


def _tree_seed(random_state):
    """A seed scikit-learn accepts (the entropy discretizer's tree)."""
    if random_state is None or isinstance(random_state, (int, np.integer, np.random.RandomState)):
        return random_state
    return int(normalize_seed(random_state) >> np.uint64(33))


def _check_categorical(categorical_features, d, columns):
    if categorical_features is None:
        return []
    out = []
    for c in categorical_features:
        if isinstance(c, str):
            if columns is None or c not in columns:
                raise ValueError(
                    f"categorical feature {c!r} is not a column of training_data; pass column "
                    "indices or names of the DataFrame's columns."
                )
            c = columns.index(c)
        if not isinstance(c, (int, np.integer)) or isinstance(c, bool) or not 0 <= c < d:
            raise ValueError(f"categorical_features must be column indices in [0, {d}); got {c!r}.")
        out.append(int(c))
    return sorted(set(out))


def _check_stats(stats):
    need = {"means", "mins", "maxs", "stds", "feature_values", "feature_frequencies"}
    if not isinstance(stats, dict) or need - set(stats):
        missing = sorted(need - set(stats)) if isinstance(stats, dict) else sorted(need)
        raise ValueError(f"training_data_stats is missing keys {missing}.")


def _support_to_used(support):
    """Boolean supports ``(n, L, d)`` -> ascending indices padded with -1."""
    n, L, d = support.shape
    order = np.argsort(~support, axis=2, kind="stable")  # selected first, ascending
    return np.where(np.take_along_axis(support, order, axis=2), order, -1)


def _fit_regressor(model_regressor, Xs, w, Y, used):
    """Fit a user's scikit-learn regressor per (row, label), as lime does."""
    from sklearn.base import clone

    n, S, d = Xs.shape
    L = Y.shape[2]
    coef = np.zeros((n, L, d))
    intercept, score, local_pred = np.zeros((n, L)), np.zeros((n, L)), np.zeros((n, L))
    for i in range(n):  # arbitrary estimators cannot be batched
        for t in range(L):
            u = used[i, t][used[i, t] >= 0]
            reg = clone(model_regressor).fit(Xs[i][:, u], Y[i, :, t], sample_weight=w[i])
            coef[i, t, u] = np.ravel(reg.coef_)
            intercept[i, t] = float(np.ravel(reg.intercept_)[0])
            score[i, t] = reg.score(Xs[i][:, u], Y[i, :, t], sample_weight=w[i])
            local_pred[i, t] = float(np.ravel(reg.predict(Xs[i][:1, u]))[0])
    return coef, intercept, score, local_pred
