"""shap's ``shap.Explainer`` front door: pick an explainer for a model and a masker.

``Explainer(model, masker)`` returns the explainer ``algorithm`` names (``"auto"``: shap's
choice) built with the arguments given; calling it explains. ``"auto"`` picks, as shap's:

- a Partition masker (ours or shap's) of at most 32 features: ``"exact"`` (Owen values),
  provided its exact coalitions fit ``ExactExplainer``'s default budget, else ``"permutation"``;
- an Image or Text masker: ``"partition"``;
- background rows (an array, a DataFrame, a :class:`~xai_fast.Background` or
  ``shap.maskers.Independent``) of at most 10 features: ``"exact"``, else ``"permutation"``.
"""

from __future__ import annotations

from .._validation import check_flag
from ._partition_output import is_hierarchical_masker
from .exact import DEFAULT_MAX_EVALS, ExactExplainer
from .kernel import KernelExplainer
from .partition import PartitionExplainer
from .permutation import PermutationExplainer, _link_name

__all__ = ["Explainer"]

ALGORITHMS = ("auto", "exact", "permutation", "partition", "kernel")
#: shap's limits of the exact explainer's ``"auto"`` choice: features of background rows and of
#: a Partition masker.
MAX_EXACT_FEATURES = 10
MAX_EXACT_PARTITION_FEATURES = 32


class Explainer:
    """The explainer shap's ``shap.Explainer(model, masker, algorithm=...)`` would build.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps a batch of the masker's inputs to ``(n,)`` or ``(n, k)``.
    masker : array-like, DataFrame, Background, or a masker (``xai_fast.maskers.Partition``,
        ``Image``, ``Text`` or shap's, ``shap.maskers.Independent``)
        What "feature absent" means.
    link : "identity", "logit" or shap's ``shap.links.identity`` / ``shap.links.logit``
    algorithm : {"auto", "exact", "permutation", "partition", "kernel"}
        ``"auto"`` as shap's (see the module); with ``"partition"`` background rows become
        ``xai_fast.maskers.Partition(rows)``, as shap's.
    output_names, feature_names : list of str, optional
    linearize_link : bool, default True
        shap's argument; with ``"logit"`` pass ``linearize_link=False``.
    seed : int or None
        Seeds ``"permutation"`` and ``"kernel"``.
    **kwargs
        The chosen explainer's own arguments (``max_evals=`` for ``ExactExplainer``, call
        defaults for ``PermutationExplainer``, ...).

    Returns
    -------
    ExactExplainer, PermutationExplainer, PartitionExplainer or KernelExplainer
        Built, not yet called: ``Explainer(model, masker)(X)`` explains ``X``.
    """

    def __new__(cls, model, masker=None, link="identity", algorithm="auto", output_names=None,
                feature_names=None, linearize_link=True, seed=None, **kwargs):  # fmt: skip
        if masker is None:  # a ValueError with shap's words, as shap raises
            raise ValueError(
                "masker cannot be None: Explainer needs a masker, background rows (an array or "
                "DataFrame) or xai_fast.maskers.Partition, Image or Text. shap's masker-free "
                "models (trees, linear models) have no model-agnostic explainer here."
            )
        if not callable(model):
            raise TypeError(f"model must be callable (a function or a module); got {model!r}.")
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm must be one of {list(ALGORITHMS)}; got {algorithm!r}. shap's "
                "'tree', 'linear', 'deep' and 'additive' are not model-agnostic: use "
                "xai_fast.DeepExplainer for modules, or one of these."
            )
        link = _link_name(link)
        if link != "identity" and check_flag(linearize_link, "linearize_link"):
            raise ValueError(
                "linearize_link=True is shap's reweighting for a non-linear link, not supported "
                "here; pass linearize_link=False (the link of the mean model output)."
            )
        if algorithm == "partition" and not is_hierarchical_masker(masker):
            from ..masking.partition_masker import Partition

            masker = Partition(getattr(masker, "data", masker))
        if algorithm == "auto":
            algorithm = _auto(masker)
        if algorithm == "exact":
            return ExactExplainer(model, masker, link=link, feature_names=feature_names,
                                  output_names=output_names, **kwargs)  # fmt: skip
        if algorithm == "permutation":
            return PermutationExplainer(model, masker, link, feature_names, linearize_link, seed,
                                        output_names=output_names, **kwargs)  # fmt: skip
        if algorithm == "partition":
            return PartitionExplainer(model, masker, output_names=output_names, link=link,
                                      linearize_link=linearize_link, feature_names=feature_names,
                                      **kwargs)  # fmt: skip
        return KernelExplainer(model, masker, feature_names, link, seed=seed,
                               output_names=output_names, **kwargs)  # fmt: skip


def _auto(masker) -> str:
    """shap's choice of algorithm for a masker."""
    if is_hierarchical_masker(masker):
        kind = type(masker).__name__
        if kind != "Partition":
            return "partition"  # images and texts
        from ..sampling.partition_contexts import partition_coalition_count
        from ._partition_output import as_hierarchical_masker

        ours = as_hierarchical_masker(masker, "Explainer")
        d, N = ours.data.shape[1], len(ours.data)
        fits = partition_coalition_count(ours.tree()) * N <= DEFAULT_MAX_EVALS
        return "exact" if d <= MAX_EXACT_PARTITION_FEATURES and fits else "permutation"
    shape = getattr(getattr(masker, "data", masker), "shape", None)
    if shape is None or len(shape) != 2:
        raise TypeError(
            "Explainer's masker must be background rows (a 2-D array or DataFrame, a "
            "Background, shap.maskers.Independent) or xai_fast.maskers.Partition, Image or "
            f"Text; got {type(masker).__name__}."
        )
    return "exact" if shape[1] <= MAX_EXACT_FEATURES else "permutation"
