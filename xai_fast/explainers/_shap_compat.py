"""shap's helper surface of the coalition explainers: ``not_equal`` and ``save`` / ``load``."""

from __future__ import annotations

import pickle

import numpy as np

_FORMAT = "xai_fast.explainer/1"


def not_equal(i, j) -> int:
    """shap's ``KernelExplainer.not_equal``: 1 when two background values differ, else 0.

    Two numbers (or two numeric or boolean arrays) compare with ``numpy.allclose``, NaN equal to
    NaN; anything else (strings, timestamps, periods, a number and a string) with ``==``.
    """
    numbers = (int, float, np.number)
    if isinstance(i, numbers) and isinstance(j, numbers):
        return 0 if np.allclose(i, j, equal_nan=True) else 1
    if hasattr(i, "dtype") and hasattr(j, "dtype"):
        kinds = [np.number, np.bool_]
        if any(np.issubdtype(i.dtype, k) and np.issubdtype(j.dtype, k) for k in kinds):
            return 0 if np.allclose(i, j, equal_nan=True) else 1
        return 0 if np.all(i == j) else 1
    return 0 if i == j else 1


class KernelLegacyAPI:
    """shap's older ``KernelExplainer`` methods: ``explain`` (one row) and ``not_equal``."""

    def explain(self, incoming_instance, **kwargs):
        """shap's legacy single-row form of :meth:`shap_values`.

        Parameters
        ----------
        incoming_instance : array-like, DataFrame or Series, shape (d,) or (1, d)
        **kwargs
            As for :meth:`shap_values`.

        Returns
        -------
        ndarray, shape (d,) or (d, k)
        """
        X, _, was_1d = self._check_rows(incoming_instance)
        if X.shape[0] != 1:
            raise ValueError(
                f"explain() takes one row; got {X.shape[0]}. Use shap_values() for several rows."
            )
        out = self.shap_values(incoming_instance, **kwargs)  # a DataFrame keeps its index
        return out if was_1d else out[0]

    not_equal = staticmethod(not_equal)


class SavableExplainer:
    """``save`` / ``load`` with shap's arguments, for explainers that keep ``_init_args``.

    ``_init_args`` is ``(model, data, keyword arguments)``: what the constructor was given.
    The file holds a header, then the model, then the background, each written by its saver.
    """

    def save(self, out_file, model_saver=".save", masker_saver=".save"):
        """Write the explainer to the open binary file ``out_file``.

        Parameters
        ----------
        out_file : file object opened for binary writing
        model_saver, masker_saver : ".save", callable or False
            How the model and the background are written: ``".save"`` (shap's default) pickles
            them, a callable is called as ``saver(obj, out_file)``, ``False`` skips it (give
            ``load`` a loader then).
        """
        model, data, kwargs = self._init_args
        pickle.dump({"format": _FORMAT, "class": type(self).__name__, "kwargs": kwargs}, out_file)
        for obj, saver in ((model, model_saver), (data, masker_saver)):
            pickle.dump(saver is not False, out_file)
            if saver is False:
                continue
            if callable(saver):
                saver(obj, out_file)
            elif saver == ".save":
                pickle.dump(obj, out_file)
            else:
                raise ValueError(f"a saver must be '.save', a callable or False; got {saver!r}.")

    @classmethod
    def load(cls, in_file, model_loader=".load", masker_loader=".load", instantiate=True):
        """Read an explainer written by :meth:`save` from the open binary file ``in_file``.

        Parameters
        ----------
        in_file : file object opened for binary reading
        model_loader, masker_loader : ".load" or callable
            A callable is called as ``loader(in_file)`` and returns the model (or background);
            it is needed for what was saved with ``saver=False``.
        instantiate : bool, default True
            ``False`` returns the constructor's keyword arguments instead (shap's meaning).
        """
        header = pickle.load(in_file)
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError("in_file does not hold an explainer written by xai_fast's save().")
        if header["class"] != cls.__name__:
            raise TypeError(f"the file holds a {header['class']}, not a {cls.__name__}.")
        parts = []
        for loader, what in ((model_loader, "model"), (masker_loader, "masker")):
            saved = pickle.load(in_file)
            if callable(loader):
                parts.append(loader(in_file))
            elif saved:
                parts.append(pickle.load(in_file))
            else:
                raise ValueError(f"the {what} was not saved; pass {what}_loader= to load().")
        kwargs = dict(header["kwargs"], model=parts[0], data=parts[1])
        if not instantiate:
            return kwargs
        # model and background positionally: PermutationExplainer names the second "masker"
        return cls(kwargs.pop("model"), kwargs.pop("data"), **kwargs)


#: Background rows kept by shap's default masker (``shap.maskers.Independent(data, 100)``).
SHAP_MAX_SAMPLES = 100


def masker_background(data, max_samples: int | None = SHAP_MAX_SAMPLES):
    """The background rows an exact explainer uses for ``data``, as shap's maskers choose them.

    Parameters
    ----------
    data : array-like, DataFrame, Background, shap DenseData, ``shap.maskers.Independent`` or
        ``xai_fast.maskers.Independent`` (or a ``Partition`` without a hierarchy)
    max_samples : int or None
        Plain arrays and DataFrames with more rows are summarised by ``max_samples`` rows drawn
        without replacement as ``shap.utils.sample`` draws them (``sklearn.utils.shuffle`` with
        ``random_state=0``), so the rows are shap's. ``None`` keeps every row. A
        :class:`~xai_fast.Background` or ``DenseData`` is kept as it is.

    Returns
    -------
    array-like, DataFrame or Background
    """
    from ..masking.partition_masker import Partition

    if (isinstance(data, Partition) or type(data).__name__ == "Partition") and getattr(
        data, "clustering", 0
    ) is None:  # ours or shap's, no hierarchy (our Independent is one): the rows
        rows, names = data.data, getattr(data, "feature_names", None)
        if names is None:
            return rows
        import pandas as pd

        return pd.DataFrame(rows, columns=names)
    if type(data).__module__.startswith("xai_fast.masking"):
        from ..masking.partition_masker import refuse_hierarchical_masker

        refuse_hierarchical_masker(data, "this explainer")
    if type(data).__module__.startswith("shap.maskers"):
        if getattr(data, "clustering", None) is not None or type(data).__name__ != "Independent":
            raise ValueError(
                f"shap.maskers.{type(data).__name__} defines a feature hierarchy (Owen values); "
                "only shap.maskers.Independent (or plain background rows) is supported. Pass "
                "shap.maskers.Independent(data) or the rows."
            )
        rows = data.data  # already summarised by the masker's own max_samples
        names = getattr(data, "feature_names", None)
        if names is not None:
            import pandas as pd

            rows = pd.DataFrame(rows, columns=[str(c) for c in names])
        return rows
    if hasattr(data, "weights") or max_samples is None or not hasattr(data, "shape"):
        return data
    if data.shape[0] > max_samples:
        from sklearn.utils import shuffle

        return shuffle(data, n_samples=int(max_samples), random_state=0)
    return data
