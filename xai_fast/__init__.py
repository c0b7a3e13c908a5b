"""xai_fast: fast, model-agnostic Kernel SHAP on compiled kernels.

Re-exports only; importing the package never imports hypothesis or matplotlib.
"""

from .background import Background, kmeans, sample
from .explainers import ExactExplainer, KernelExplainer, LimeTabularExplainer
from .explanation import Explanation
from .lime_explanation import LimeExplanation
from .models import ModelAdapter

__version__ = "0.1.0"

__all__ = [
    "Background",
    "ExactExplainer",
    "Explanation",
    "KernelExplainer",
    "LimeExplanation",
    "LimeTabularExplainer",
    "ModelAdapter",
    "kmeans",
    "sample",
]
