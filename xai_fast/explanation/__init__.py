"""The Explanation object: sliceable parallel arrays of values, base values and data.

- :mod:`.core`: the class;
- :mod:`.indexing`: axis names, keys, outer indexing;
- :mod:`.convert`: pandas and shap conversions;
- :mod:`.cohorts`: named groups of rows;
- :mod:`.stacking`: shape checks and ``hstack``.
"""

from .cohorts import Cohorts
from .core import AXES, Explanation

__all__ = ["AXES", "Cohorts", "Explanation"]
