"""The Explanation object: sliceable parallel arrays of values, base values and data.

- :mod:`.core`: the class;
- :mod:`.indexing`: axis names, keys, outer indexing;
- :mod:`.convert`: pandas and shap conversions.
"""

from .core import AXES, Explanation

__all__ = ["AXES", "Explanation"]
