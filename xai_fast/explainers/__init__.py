"""Explainers: thin compositions of model adapter, game, sampler and solver."""

from .exact import ExactExplainer
from .front_door import Explainer
from .kernel import KernelExplainer
from .lime_tabular import LimeTabularExplainer
from .partition import PartitionExplainer
from .permutation import PermutationExplainer

__all__ = [
    "ExactExplainer",
    "Explainer",
    "KernelExplainer",
    "LimeTabularExplainer",
    "PartitionExplainer",
    "PermutationExplainer",
]
