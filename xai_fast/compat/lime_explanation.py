"""LimeExplanation: one explained row, with the accessors of ``lime.explanation.Explanation``."""

from __future__ import annotations

import numpy as np

__all__ = ["LimeExplanation", "fill_labels"]


class LimeExplanation:
    """A LIME explanation of one row, shaped like lime's.

    Attributes
    ----------
    mode : {"classification", "regression"}
    local_exp : dict[int, list of (int, float)]
        Per label, the selected features and their surrogate weights, largest ``|weight|``
        first. For regression, label 1 holds the weights and label 0 their negation (lime's
        convention).
    intercept : dict[int, float]
    score : float
        Weighted R^2 of the surrogate on the samples (for the last label explained, as lime).
    local_pred : ndarray, shape (1,)
        The surrogate's value at the row (for the last label explained, as lime).
    scores, local_preds : dict[int, float]
        The same for every label explained.
    feature_names : list of str
        Display name of each feature for this row (``"age <= 31.00"``, ``"sex=female"``).
    class_names : list of str
    predict_proba : ndarray, shape (k,)
        Model output at the row (classification).
    top_labels : list of int or None
        Labels explained by ``top_labels=``, most probable first.
    predicted_value, min_value, max_value : float
        Model output at the row and its range over the samples (regression).
    """

    def __init__(self, mode, feature_names, class_names):
        self.mode = mode
        self.feature_names = list(feature_names)
        self.local_exp: dict = {}
        self.intercept: dict = {}
        self.scores: dict = {}
        self.local_preds: dict = {}
        self.score = None
        self.local_pred = None
        if mode == "classification":
            self.class_names = class_names
            self.top_labels = None
            self.predict_proba = None
        else:
            self.class_names = ["negative", "positive"]
            self.predicted_value = None
            self.min_value, self.max_value = 0.0, 1.0
            self.dummy_label = 1

    def __repr__(self) -> str:
        return f"LimeExplanation(mode={self.mode!r}, labels={list(self.local_exp)})"

    def available_labels(self) -> list:
        """Labels with an explanation (classification only)."""
        if self.mode != "classification":
            raise NotImplementedError("available_labels() is for classification explanations.")
        return list(self.top_labels if self.top_labels else self.local_exp.keys())

    def as_list(self, label=1) -> list:
        """``[(feature display name, weight), ...]`` of ``label``, largest ``|weight|`` first.

        ``label`` is ignored for regression.
        """
        use = label if self.mode == "classification" else self.dummy_label
        if use not in self.local_exp:
            raise KeyError(
                f"label {use} was not explained; explained labels: {sorted(self.local_exp)}. "
                "Pass labels=(...) or top_labels=k when explaining."
            )
        return [(self.feature_names[j], float(w)) for j, w in self.local_exp[use]]

    def as_map(self) -> dict:
        """``{label: [(feature index, weight), ...]}``."""
        return self.local_exp

    def as_pyplot_figure(self, label=1):
        """Bar chart of :meth:`as_list` (needs matplotlib), red for positive weights and blue
        for negative ones as in :mod:`xai_fast.plots` (lime draws green and red)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("as_pyplot_figure needs matplotlib: pip install matplotlib") from None
        exp = self.as_list(label)[::-1]
        fig = plt.figure()
        vals = [w for _, w in exp]
        pos = np.arange(len(exp)) + 0.5
        from ..plots._common import BLUE, RED

        # the colours of every other plot here: red pushes the output up, blue down
        plt.barh(pos, vals, align="center", color=[RED if v > 0 else BLUE for v in vals])
        plt.yticks(pos, [name for name, _ in exp])
        if self.mode == "classification":
            plt.title(f"Local explanation for class {self.class_names[label]}")
        else:
            plt.title("Local explanation")
        return fig


def fill_labels(exp, fits, i, label_ids, chosen, verbose, y0):
    """Put the surrogates of row ``i`` for the labels ``chosen`` on ``exp`` as lime does.

    Parameters
    ----------
    exp : LimeExplanation or ImageExplanation
        Gets ``local_exp``, ``intercept``, ``scores``, ``local_preds`` and, from the last label
        of ``chosen`` (lime's order), ``score`` and ``local_pred``.
    fits : dict of ndarray, each (n_c, L, ...)
        ``used``, ``coef``, ``intercept``, ``score``, ``local_pred`` from the surrogate fit.
    i : int
        The row within ``fits``.
    label_ids : sequence of int, length L
        The output column each fitted label is.
    chosen : sequence of int
        Labels to put on ``exp``, in lime's order.
    verbose : bool
        Print each surrogate's intercept, local prediction and the model's value.
    y0 : ndarray, shape (k,)
        The model's outputs at the explained instance.
    """
    col = {int(label): t for t, label in enumerate(label_ids)}
    for label in chosen:
        label, t = int(label), col[int(label)]
        u = fits["used"][i, t]
        u = u[u >= 0]
        w = fits["coef"][i, t, u]
        order = np.argsort(-np.abs(w), kind="stable")  # largest |weight| first, as lime sorts
        exp.local_exp[label] = [(int(u[o]), float(w[o])) for o in order]
        exp.intercept[label] = float(fits["intercept"][i, t])
        exp.scores[label] = float(fits["score"][i, t])
        exp.local_preds[label] = float(fits["local_pred"][i, t])
        exp.score = exp.scores[label]
        exp.local_pred = np.array([exp.local_preds[label]])
        if verbose:
            print("Intercept", exp.intercept[label])
            print("Prediction_local", exp.local_pred)
            print("Right:", y0[label])
