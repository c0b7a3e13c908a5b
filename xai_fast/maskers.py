"""shap's masker names: ``shap.maskers.X`` -> ``xai_fast.maskers.X``.

- :class:`Independent`: background rows, each feature masked on its own.
- :class:`Partition`: background rows and a hierarchical clustering of the features.
- :class:`Image`: image regions hidden behind a number, an image or a blur.
- :class:`Text`: tokens hidden behind a mask token (or deleted).
"""

from .masking.image_masker import Image
from .masking.independent_masker import Independent
from .masking.partition_masker import Partition
from .masking.text_masker import Text

__all__ = ["Image", "Independent", "Partition", "Text"]
