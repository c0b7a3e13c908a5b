"""TextExplanation: lime's explanation of a text, with its own small HTML view (no scripts)."""

from __future__ import annotations

import html

import numpy as np

from .lime_explanation import LimeExplanation

__all__ = ["TextExplanation"]


class TextExplanation(LimeExplanation):
    """A LIME explanation of one text: :class:`LimeExplanation`'s accessors, the words as
    feature names, and an HTML view.

    Attributes
    ----------
    indexed_string : IndexedString or IndexedCharacters
        The text as features (``word(j)``, ``string_position(j)``, ``as_list`` of tokens).
    predict_proba : ndarray, shape (k,)
    """

    def __init__(self, indexed_string, class_names):
        words = [str(w) for w in indexed_string.inverse_vocab]
        super().__init__("classification", words, class_names)
        self.indexed_string = indexed_string

    def __repr__(self) -> str:
        return f"TextExplanation(features={len(self.feature_names)}, labels={list(self.local_exp)})"

    def as_list(self, label=1, positions=False) -> list:
        """``[(word, weight), ...]`` of ``label``, largest ``|weight|`` first; with
        ``positions=True`` each word carries its character offsets, ``"bad_3-6-12"``."""
        pairs = super().as_list(label)
        if not positions:
            return pairs
        idx = self.indexed_string
        return [
            (f"{name}_{'-'.join(map(str, idx.string_position(j)))}", w)
            for (name, w), (j, _) in zip(pairs, self.local_exp[label], strict=True)
        ]

    def token_values(self, label=1) -> np.ndarray:
        """The weight of each token of the text for ``label``: ``(T,)``, 0 for separators and
        features not selected (the tokens are ``indexed_string.as_list``)."""
        self.as_list(label)  # KeyError for a label not explained
        w = np.zeros(len(self.feature_names) + 1)  # the last slot: separators
        for j, v in self.local_exp[label]:
            w[j] = v
        return w[self.indexed_string.token_feature]

    def as_html(self, labels=None, predict_proba=True, show_predicted_value=True, **kwargs) -> str:
        """A self-contained HTML page: the class probabilities, each label's weights and the
        text with its words coloured (red raises the label's probability, blue lowers it).

        Parameters
        ----------
        labels : sequence of int, optional
            Default: ``top_labels`` when explained so, else every label explained.
        predict_proba : bool, default True
            Show the classifier's probabilities.
        show_predicted_value : bool, default True
            Accepted for lime's signature (text explanations have no predicted value).
        **kwargs
            ``text=False`` leaves the coloured text out.
        """
        from ..plots._text import text as coloured_text

        show_text = kwargs.pop("text", True)
        if kwargs:
            raise TypeError(f"as_html() got unexpected arguments {sorted(kwargs)}.")
        labels = self.available_labels() if labels is None else list(labels)
        parts = ["<h3>Prediction probabilities</h3>"] if predict_proba else []
        if predict_proba and self.predict_proba is not None:
            for t, p in enumerate(self.predict_proba):
                parts.append(_bar(self.class_names[t], float(p), 1.0, "#4a7ab5"))
        for label in labels:
            exp = self.as_list(label)
            m = max((abs(w) for _, w in exp), default=1.0) or 1.0
            parts.append(f"<h3>{html.escape(str(self.class_names[label]))}</h3>")
            parts += [_bar(name, w, m, "#ff0051" if w > 0 else "#008bfb") for name, w in exp]
            if show_text:
                tokens = [str(t) for t in self.indexed_string.as_list]
                parts.append(str(coloured_text(tokens, self.token_values(label))))
        body = "\n".join(parts)
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>LIME explanation</title>'
            f'</head><body style="font-family: sans-serif">{body}</body></html>'
        )

    def _repr_html_(self) -> str:
        return self.as_html()

    def save_to_file(self, file_path, labels=None, predict_proba=True, show_predicted_value=True,
                     **kwargs) -> None:  # fmt: skip
        """Write :meth:`as_html` to ``file_path`` (UTF-8)."""
        page = self.as_html(labels, predict_proba, show_predicted_value, **kwargs)
        with open(file_path, "w", encoding="utf8") as f:
            f.write(page)

    def show_in_notebook(self, labels=None, predict_proba=True, show_predicted_value=True,
                         **kwargs) -> None:  # fmt: skip
        """Display :meth:`as_html` in a notebook."""
        from IPython.display import HTML, display

        display(HTML(self.as_html(labels, predict_proba, show_predicted_value, **kwargs)))


def _bar(name, value: float, scale: float, colour: str) -> str:
    """One labelled horizontal bar of ``|value| / scale`` of the width."""
    width = 100.0 * min(abs(value) / scale, 1.0)
    return (
        '<div style="display: flex; align-items: center; margin: 2px 0">'
        f'<span style="width: 12em; text-align: right; padding-right: 6px">'
        f"{html.escape(str(name))}</span>"
        f'<span style="display: inline-block; width: 16em; background: #eee">'
        f'<span style="display: block; width: {width:.1f}%; height: 1em; background: '
        f'{colour}"></span></span><span style="padding-left: 6px">{value:.3f}</span></div>'
    )
