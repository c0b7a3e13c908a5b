"""What tabular LIME returns: lime's per-row :class:`~xai_fast.LimeExplanation` and the
:class:`~xai_fast.Explanation` table of all rows."""

from __future__ import annotations

import numpy as np

from ..explanation import Explanation
from .lime_explanation import LimeExplanation, fill_labels


def _display_names(explainer, x):
    """lime's feature names for row ``x``: bins (``"a <= 1.00"``) and ``"name=value"``."""
    names = list(explainer.feature_names)
    disc = explainer.discretizer
    for j in explainer.categorical_features:
        if disc is not None and j in disc.thresholds:
            continue
        v = int(x[j])
        label = explainer.categorical_names[j][v] if j in explainer.categorical_names else v
        names[j] = f"{names[j]}={label}"
    if disc is not None:
        binned = disc.discretize(x)
        for j in disc.thresholds:
            names[j] = disc.names[j][int(binned[j])]
    return names


def _lime_explanation(explainer, x, Yi, label_ids, top_labels, fits, i):
    """Row ``i`` of a chunk as lime's explanation.

    Parameters
    ----------
    explainer : LimeTabularExplainer
        Gives the mode, names, discretizer and ``verbose``.
    x : ndarray, shape (d,)
    Yi : ndarray, shape (S, k)
        Model outputs at the row (first) and its samples.
    label_ids : ndarray of int, shape (L,)
        The output columns fitted.
    top_labels : int or None
    fits : dict of ndarray, each (n_c, L, ...)
        The chunk's surrogates.
    i : int
    """
    k = Yi.shape[1]
    class_names = explainer.class_names or [str(t) for t in range(k)]
    exp = LimeExplanation(explainer.mode, _display_names(explainer, x), class_names)
    if explainer.mode == "classification":
        exp.predict_proba = Yi[0].copy()
        chosen = list(label_ids)
        if top_labels:
            chosen = list(np.argsort(Yi[0], kind="stable")[-top_labels:])
            exp.top_labels = chosen[::-1]
    else:
        exp.predicted_value = float(Yi[0, 0])
        exp.min_value, exp.max_value = float(Yi[:, 0].min()), float(Yi[:, 0].max())
        chosen = [0]
    fill_labels(exp, fits, i, label_ids, chosen, explainer.verbose, Yi[0])
    if explainer.mode == "regression":  # lime's convention: label 1 holds the weights
        exp.intercept[1] = exp.intercept[0]
        exp.local_exp[1] = list(exp.local_exp[0])
        exp.local_exp[0] = [(j, -w) for j, w in exp.local_exp[1]]
    return exp


def _table(exps, mode, labels_list, Xc, was_1d, feature_names) -> Explanation:
    """The surrogate weights of lime's explanations ``exps`` as one Explanation.

    ``values`` is ``(n, d)`` for one label and ``(n, d, L)`` for ``L`` labels (0 for features
    not selected), without the row axis when ``was_1d``; ``base_values`` holds the intercepts.
    """
    lab = [1] if mode == "regression" else labels_list
    values = np.zeros((len(exps), Xc.shape[1], len(lab)))
    base = np.zeros((len(exps), len(lab)))
    for i, e in enumerate(exps):
        for t, label in enumerate(lab):
            for j, wj in e.local_exp[label]:
                values[i, j, t] = wj
            base[i, t] = e.intercept[label]
    names = None
    if mode == "classification" and exps and exps[0].class_names is not None:
        names = [exps[0].class_names[label] for label in lab]
    axes = ("row", "feature", "output")
    if len(lab) == 1:
        values, base, axes = values[..., 0], base[..., 0], axes[:2]
    if was_1d:
        values, base, Xc, axes = values[0], base[0], Xc[0], axes[1:]
    return Explanation(values, base, Xc, feature_names, names, axes=axes)
