"""Text LIME, a drop-in for ``lime.lime_text.LimeTextExplainer``, batched over texts.

Data flow: each text as features (:mod:`xai_fast.masking.lime_text`) -> lime's samples from its
``RandomState`` stream in one compiled pass (:mod:`xai_fast.sampling.lime_draws`) -> the
distinct perturbed strings of every text, built without a loop over samples -> the classifier
on them in large batches -> each text's weighted ridge (the tabular explainer's compiled
selection and ridge kernels).
"""

from __future__ import annotations

import re

import numpy as np

from .._runtime.progress import Progress
from .._validation import check_int, check_no_kwargs, check_positive_int, explained_init
from ..compat.lime_explanation import fill_labels
from ..compat.lime_text_explanation import TextExplanation
from ..masking.lime_text import IndexedCharacters, IndexedString, perturbed_strings
from ..sampling.lime_draws import text_masks
from ._lime_binary import (
    call_classifier,
    chosen_labels,
    fit_instance,
    lime_random_state,
    resolve_kernel,
)

__all__ = ["LimeTextExplainer"]

CALL_ARGS = (
    "labels", "top_labels", "num_features", "num_samples", "distance_metric",
    "model_regressor", "batch_size", "silent",
)  # fmt: skip
DEFAULT_BATCH = 8192  # strings per classifier call


@explained_init
class LimeTextExplainer:
    """LIME for text classifiers with ``lime``'s arguments, defaults and samples.

    Parameters
    ----------
    kernel_width : float, default 25
        Width of the kernel on 100 times the cosine distance between a sample and the text.
    kernel : callable, optional
        ``kernel(distances, kernel_width) -> weights``; default ``sqrt(exp(-d**2 / width**2))``.
    verbose : bool
        Print each surrogate's intercept, local prediction and the classifier's value.
    class_names : list of str, optional
        Default ``"0"``, ``"1"``, ...
    feature_selection : {"auto", "forward_selection", "highest_weights", "lasso_path", "none"}
    split_expression : str or callable, default r"\\W+"
        Regular expression of the separators, or ``f(text) -> tokens``.
    bow : bool, default True
        A feature is a distinct word (all its occurrences removed together); ``False``: a
        position, replaced by ``mask_string``.
    mask_string : str, optional
        Default ``"UNKWORDZ"`` (``chr(0)`` with ``char_level=True``).
    random_state : int, numpy RandomState or None
        As for :class:`~xai_fast.LimeImageExplainer`: lime's numbers, call after call.
    char_level : bool, default False
        Features are characters.
    """

    def __init__(
        self, kernel_width=25, kernel=None, verbose=False, class_names=None,
        feature_selection="auto", split_expression=r"\W+", bow=True, mask_string=None,
        random_state=None, char_level=False,
    ):  # fmt: skip
        self.kernel, self.kernel_width, self.feature_selection = resolve_kernel(
            kernel, kernel_width, feature_selection
        )
        self.verbose = bool(verbose)
        self.class_names = None if class_names is None else list(class_names)
        self.split_expression = split_expression
        if not (isinstance(split_expression, str) or callable(split_expression)):
            raise TypeError("split_expression must be a regular expression (str) or a callable.")
        if isinstance(split_expression, str):
            try:
                re.compile(split_expression)
            except re.error as err:
                raise ValueError(
                    f"split_expression {split_expression!r} is not a valid regular expression: "
                    f"{err}. Escape special characters, e.g. re.escape({split_expression!r})."
                ) from None
        self.bow, self.char_level = bool(bow), bool(char_level)
        self.mask_string = mask_string
        self.random_state = lime_random_state(random_state)

    def indexed(self, text):
        """``text`` as this explainer's features: IndexedString or IndexedCharacters."""
        if self.char_level:
            return IndexedCharacters(text, bow=self.bow, mask_string=self.mask_string)
        return IndexedString(text, self.split_expression, self.bow, self.mask_string)

    def explain_instance(
        self, text_instance, classifier_fn, labels=(1,), top_labels=None, num_features=10,
        num_samples=5000, distance_metric="cosine", model_regressor=None, *, batch_size=None,
        silent=False, **kwargs,
    ) -> TextExplanation:  # fmt: skip
        """Explain one text (lime's ``explain_instance``); see :meth:`explain_instances`."""
        check_no_kwargs(kwargs, "explain_instance()", CALL_ARGS)
        if not isinstance(text_instance, str):
            raise TypeError(
                f"text_instance must be a str; got {type(text_instance).__name__}. Use "
                "explain_instances for many texts."
            )
        return self.explain_instances(
            [text_instance], classifier_fn, labels, top_labels, num_features, num_samples,
            distance_metric, model_regressor, batch_size=batch_size, silent=silent,
        )[0]  # fmt: skip

    def explain_instances(
        self, texts, classifier_fn, labels=(1,), top_labels=None, num_features=10,
        num_samples=5000, distance_metric="cosine", model_regressor=None, *, batch_size=None,
        silent=False, **kwargs,
    ) -> list:  # fmt: skip
        """Explain many texts, the perturbed strings of all of them going to the classifier
        together (each distinct string once).

        The texts draw from ``random_state`` in order, so the result equals calling
        :meth:`explain_instance` on each in turn.

        Parameters
        ----------
        texts : sequence of str
        classifier_fn : callable
            List of ``m`` str -> ``(m, k)`` class probabilities (e.g. a pipeline's
            ``predict_proba``).
        labels : sequence of int, default (1,)
        top_labels : int, optional
            Explain each text's ``top_labels`` most probable classes instead of ``labels``.
        num_features : int, default 10
        num_samples : int, default 5000
            Samples per text, the text itself included.
        distance_metric : str, default "cosine"
        model_regressor : scikit-learn regressor, optional
        batch_size : int, optional, keyword-only
            Strings per classifier call (default 8192).
        silent : bool, default False, keyword-only
            Hide the progress bar (shown once the call has taken 2 s).

        Returns
        -------
        list of TextExplanation
        """
        check_no_kwargs(kwargs, "explain_instances()", CALL_ARGS)
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of str; for one text use explain_instance.")
        if not callable(classifier_fn):
            raise TypeError(
                f"classifier_fn must be callable (list of str) -> (m, k); got "
                f"{type(classifier_fn).__name__}."
            )
        S = check_int(num_samples, "num_samples", 2)
        n_feat = check_int(num_features, "num_features", 1)
        batch = (
            DEFAULT_BATCH if batch_size is None else check_positive_int(batch_size, "batch_size")
        )
        texts = list(texts)
        if not texts:
            return []  # as explain_instances of images: nothing to explain
        views, masks, strings, where = [], [], [], []
        for text in texts:  # per text: its features, samples and distinct strings
            idx = self.indexed(text)
            if idx.num_words() == 0:
                raise ValueError(
                    f"the text {text[:40]!r} has no words to perturb (split_expression "
                    f"{self.split_expression!r} leaves none)."
                )
            Z = text_masks(self.random_state, S, idx.num_words())  # (S, d)
            _, first, inv = np.unique(
                np.packbits(Z > 0, axis=1), axis=0, return_index=True, return_inverse=True
            )
            views.append(idx)
            masks.append(Z)
            where.append(len(strings) + inv.ravel())
            strings.extend(perturbed_strings(idx, Z[first]))
        uniq, back = np.unique(np.array(strings, dtype=object), return_inverse=True)
        y = self._outputs(list(uniq), classifier_fn, batch, silent)
        if self.class_names is not None and len(self.class_names) < y.shape[1]:
            raise ValueError(  # more names than classes: lime takes them (the first are used)
                f"class_names has {len(self.class_names)} names but classifier_fn returned "
                f"{y.shape[1]} classes; pass one name per column of its output."
            )
        out = []
        for idx, Z, rows in zip(views, masks, where, strict=True):
            Y = y[back.ravel()[rows]]  # (S, k)
            chosen, top = chosen_labels(Y[0], labels, top_labels)
            fits = fit_instance(Z, Y, chosen, self, n_feat, 100.0, distance_metric, model_regressor)
            names = self.class_names or [str(t) for t in range(Y.shape[1])]
            exp = TextExplanation(idx, names)
            exp.top_labels, exp.predict_proba = top, Y[0].copy()
            fill_labels(exp, fits, 0, chosen, chosen, self.verbose, Y[0])
            out.append(exp)
        return out

    @staticmethod
    def _outputs(strings, classifier_fn, batch, silent):
        """The classifier on ``strings``, ``batch`` at a time: ``(len(strings), k)``."""
        bar = Progress(len(strings), "LIME text", enabled=not silent)
        ys, k = [], None
        try:
            for c in range(0, len(strings), batch):  # a batch of strings per call
                ys.append(call_classifier(classifier_fn, strings[c : c + batch], k))
                k = ys[-1].shape[1]
                bar.update(len(ys[-1]))
        finally:
            bar.close()
        return np.concatenate(ys)
