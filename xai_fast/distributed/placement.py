"""GPU placement: in an actor that Ray gave GPUs, move torch module models onto them."""

from __future__ import annotations

import sys

from ..explainers import ExactExplainer, KernelExplainer
from ..models import is_torch_module


def to_gpu(explainer, predict_fn) -> None:
    """Move the explainer's torch module model, or LIME's ``predict_fn``, to ``"cuda"``.

    Parameters
    ----------
    explainer : KernelExplainer, ExactExplainer or LimeTabularExplainer
        Moved in place with :meth:`~xai_fast.KernelExplainer.to` (a callable model stays as it
        is; LIME holds no model).
    predict_fn : callable, torch.nn.Module or None
        LIME's model, moved in place when it is a module.
    """
    torch = sys.modules.get("torch")  # loaded when a torch module was unpickled
    if torch is None or not torch.cuda.is_available():
        return  # no module to move, or Ray gave this actor no visible GPU: stay put
    if isinstance(explainer, (KernelExplainer, ExactExplainer)):
        explainer.to("cuda")
    if is_torch_module(predict_fn):
        predict_fn.to("cuda")
