"""GradCAM of a layer: :class:`LayerGradCam`, defined with the other layer methods in
:mod:`xai_fast.explainers.layer` and importable from here as well."""

from ..layer.grad_cam import LayerGradCam

__all__ = ["LayerGradCam"]
