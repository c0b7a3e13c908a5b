"""Explanations of images and texts, in shap's shapes, and shap masker objects as ours."""

from __future__ import annotations

import numpy as np

from ..masking.image_masker import Image
from ..masking.partition_masker import Partition
from ..masking.text_masker import Text

__all__ = ["ArrayExplanation", "as_hierarchical_masker", "is_hierarchical_masker"]

_FIELDS = (
    "values",
    "base_values",
    "data",
    "feature_names",
    "hierarchical_values",
    "clustering",
    "error_std",
    "main_effects",
)


class ArrayExplanation:
    """Values of images ``(n, H, W, C[, k])`` or texts (one ``(T_i[, k])`` array per string,
    an object array), with shap's fields; indexing takes rows.

    Attributes
    ----------
    values, base_values, data : ndarray
        ``base_values`` ``(n,)`` or ``(n, k)``; ``data`` the images, or each text's segments.
    feature_names : ndarray or None
        Each text's tokens (``None`` for images).
    output_names : list of str or None
    hierarchical_values, clustering : ndarray or None
        The walk's node values ``(n, 2 M - 1[, k])`` and the hierarchies (images).
    output_indices : ndarray or None
        The outputs explained, ``(n, o)``, when ``outputs`` chose them.
    error_std, main_effects : ndarray or None
        Shaped like ``values``, when the explainer gave them (permutation walks).
    """

    def __init__(self, values, base_values, data, *, feature_names=None, output_names=None,
                 hierarchical_values=None, clustering=None, output_indices=None,
                 error_std=None, main_effects=None):  # fmt: skip
        self.values = values
        self.base_values = base_values
        self.data = data
        self.feature_names = feature_names
        self.output_names = output_names
        self.hierarchical_values = hierarchical_values
        self.clustering = clustering
        self.output_indices = output_indices
        self.error_std = error_std
        self.main_effects = main_effects

    @property
    def shape(self) -> tuple:
        """Shape of ``values`` (for texts: ``(n,)``, one array per string)."""
        return np.shape(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, item):
        """Rows: an int, a slice or an array of row indices."""
        if isinstance(item, tuple):
            raise TypeError("image and text explanations are indexed by rows only: exp[i].")
        picked = {f: None if getattr(self, f) is None else getattr(self, f)[item] for f in _FIELDS}
        oi = None if self.output_indices is None else self.output_indices[item]
        return ArrayExplanation(**picked, output_names=self.output_names, output_indices=oi)

    def __repr__(self) -> str:
        return f".values =\n{self.values!r}\n\n.base_values =\n{self.base_values!r}"

    def to_shap(self):
        """The same as a ``shap.Explanation`` (for shap's plots)."""
        import shap

        return shap.Explanation(
            self.values, self.base_values, self.data, feature_names=self.feature_names,
            output_names=self.output_names, hierarchical_values=self.hierarchical_values,
            clustering=self.clustering,
        )  # fmt: skip


def is_hierarchical_masker(masker) -> bool:
    """Whether ``masker`` is a Partition (with a hierarchy), Image or Text masker, ours or
    shap's: what an explainer explains through the masker rather than background rows."""
    if isinstance(masker, Partition):
        return masker.clustering is not None
    if isinstance(masker, (Image, Text)):
        return True
    kind = type(masker).__name__
    return type(masker).__module__.startswith("shap.maskers") and kind in (
        "Partition", "Image", "Text",
    )  # fmt: skip


def as_hierarchical_masker(masker, explainer: str = "PartitionExplainer"):
    """Our :class:`Partition`, :class:`Image` or :class:`Text` for ours or shap's maskers;
    ValueError for a masker (or data) without a hierarchy."""
    if isinstance(masker, Partition) and masker.clustering is None:
        masker.tree()  # raises: a hierarchy is needed
    if isinstance(masker, (Partition, Image, Text)):
        return masker
    kind = type(masker).__name__
    if type(masker).__module__.startswith("shap.maskers"):
        if kind == "Image":
            return Image(masker.input_mask_value, masker.input_shape)
        if kind == "Text":
            return Text(masker.tokenizer, masker.input_mask_token, masker.collapse_mask_token,
                        masker.output_type)  # fmt: skip
        clustering = getattr(masker, "clustering", None)
        if clustering is not None and not callable(clustering) and hasattr(masker, "data"):
            data = masker.data
            if getattr(masker, "output_dataframe", False):
                import pandas as pd

                data = pd.DataFrame(data, columns=[str(c) for c in masker.feature_names])
            return Partition(data, max_samples=len(masker.data), clustering=clustering)
    raise ValueError(
        f"{explainer} needs a masker with a feature hierarchy here; got {kind}. Pass "
        "xai_fast.maskers.Partition(data) for tables (or shap.maskers.Partition), "
        "xai_fast.maskers.Image(mask_value, shape) for images, xai_fast.maskers.Text() for text."
    )
