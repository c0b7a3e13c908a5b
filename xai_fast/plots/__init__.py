"""Plots of explanations: bar, waterfall, beeswarm, scatter, image and text.

matplotlib is imported by the plotting functions on first use, never by ``import xai_fast.plots``.
Every plot takes ``show=False`` and returns what it made: ``(fig, ax)``, or the HTML for
:func:`text`. Tabular plots take an :class:`~xai_fast.Explanation` (or a ``shap.Explanation``) of
one output; pick one with ``exp[..., k]``.
"""

from ._bar import bar
from ._beeswarm import beeswarm
from ._image import image
from ._scatter import scatter
from ._text import HTMLText, text
from ._waterfall import waterfall

__all__ = ["HTMLText", "bar", "beeswarm", "image", "scatter", "text", "waterfall"]
