"""Propagation attributions: DeepLIFT rules applied to the operations the forward runs.

- ``_ops.py``: the tables of torch operations by rule (elementwise, linear, products, ...).
- ``_rules.py``: the rules as autograd functions (rescale, max pooling, path with correction).
- ``_mode.py``: ``_Rules``, the torch-function mode of the baseline and input passes.
- ``_passes.py``: the two passes on paired rows, chunked; the completeness check.
- ``deep_lift.py``: :class:`DeepLift` and :class:`DeepLiftShap`.
- ``deep_explainer.py``: :class:`DeepExplainer`, shap's front door over the same passes.
"""

from .deep_explainer import AdditivityError, DeepExplainer
from .deep_lift import DeepLift, DeepLiftShap

__all__ = ["AdditivityError", "DeepExplainer", "DeepLift", "DeepLiftShap"]
