"""Explainers: thin compositions of model adapter, game, sampler and solver."""

from .exact import ExactExplainer
from .kernel import KernelExplainer
from .lime_tabular import LimeTabularExplainer

__all__ = ["ExactExplainer", "KernelExplainer", "LimeTabularExplainer"]
