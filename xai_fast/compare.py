"""``xai_fast.compare``: the names of :mod:`xai_fast.evaluation.compare`, where the code lives.

``xai_fast/__init__.py`` imports :func:`compare` from this module, not from the evaluation
package: importing a submodule sets it as an attribute of its package, so a later
``from xai_fast.compare import ...`` would otherwise replace the function ``xai_fast.compare``
with this module.
"""

from .evaluation.compare import LAYER_METHODS, METHODS, Comparison, compare

__all__ = ["Comparison", "compare", "LAYER_METHODS", "METHODS"]
