"""The text runners of the suite: text LIME and the Partition explainer with a Text masker,
xai_fast's and the references' (lime, shap), on :class:`TextWork`.

Each returns one value per text and feature for class 1, float64: ``(n, n_words)`` for LIME
(one weight per distinct word, in order of first appearance) and ``(n, tokens)`` for Partition
(one Owen value per token).
"""

from __future__ import annotations

import numpy as np

from .work import TextWork

__all__ = [
    "lime_text",
    "shap_partition_text",
    "xai_fast_lime_text",
    "xai_fast_partition_text",
]

#: The class explained.
LABEL = 1


def _word_weights(exps, n_words: int) -> np.ndarray:
    out = np.zeros((len(exps), n_words))
    for i, exp in enumerate(exps):
        for j, v in exp.local_exp[LABEL]:
            out[i, j] = v
    return out


def xai_fast_lime_text(w: TextWork):
    from ... import LimeTextExplainer

    e = LimeTextExplainer(random_state=w.seed)
    exps = e.explain_instances(
        list(w.texts), w.model, labels=(LABEL,), num_features=w.n_words,
        num_samples=w.lime_samples, silent=True,
    )  # fmt: skip
    return _word_weights(exps, w.n_words)


def lime_text(w: TextWork):
    from lime.lime_text import LimeTextExplainer

    e = LimeTextExplainer(random_state=w.seed)
    exps = [
        e.explain_instance(t, w.model, labels=(LABEL,), num_features=w.n_words,
                           num_samples=w.lime_samples)
        for t in w.texts
    ]  # fmt: skip
    return _word_weights(exps, w.n_words)


def _token_values(exp, n: int) -> np.ndarray:
    """``(n, tokens)``: every text's Owen values of class :data:`LABEL`."""
    rows = [np.asarray(exp[i].values, dtype=np.float64)[:, LABEL] for i in range(n)]
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"the texts have different token counts: {[len(r) for r in rows]}.")
    return np.stack(rows)


def xai_fast_partition_text(w: TextWork):
    from ... import PartitionExplainer, maskers

    e = PartitionExplainer(w.model, maskers.Text())
    return _token_values(e(list(w.texts), max_evals=w.max_evals, silent=True), len(w.texts))


def shap_partition_text(w: TextWork):
    import shap

    e = shap.PartitionExplainer(w.model, shap.maskers.Text())
    return _token_values(e(list(w.texts), max_evals=w.max_evals, silent=True), len(w.texts))
