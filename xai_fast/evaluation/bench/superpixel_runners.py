"""The superpixel runners of the suite: image LIME and the Partition explainer with an Image
masker, xai_fast's and the references' (lime, shap), on :class:`SuperpixelWork`.

Each returns one value per image and pixel element, float64: ``(n, S * S)`` for LIME (every
pixel carries its superpixel's weight for the predicted class) and ``(n, S * S * 3)`` for
Partition (the predicted class's Owen values).
"""

from __future__ import annotations

import numpy as np

from .work import SuperpixelWork

__all__ = [
    "lime_image_superpixels",
    "shap_partition_image",
    "xai_fast_lime_superpixels",
    "xai_fast_partition_image",
]

#: SLIC's settings besides ``n_segments``, the same on both sides.
SLIC = dict(compactness=10.0, start_label=0)


def _pixel_weights(exps, n: int) -> np.ndarray:
    """``(n, H * W)``: the weight of each pixel's superpixel for the explained (top) label."""
    out = []
    for exp in exps:
        seg = np.asarray(exp.segments)
        w = np.zeros(int(seg.max()) + 1)
        for j, v in exp.local_exp[exp.top_labels[0]]:
            w[j] = v
        out.append(w[seg].ravel())
    return np.asarray(out, dtype=np.float64).reshape(n, -1)


def _lime_args(w: SuperpixelWork, segmentation_fn) -> dict:
    return dict(
        top_labels=1, hide_color=None, num_features=100000, num_samples=w.lime_samples,
        batch_size=w.batch_size, segmentation_fn=segmentation_fn,
    )  # fmt: skip


def xai_fast_lime_superpixels(w: SuperpixelWork):
    from ... import LimeImageExplainer, SegmentationAlgorithm

    seg = SegmentationAlgorithm("slic", n_segments=w.n_segments, **SLIC)
    e = LimeImageExplainer(random_state=w.seed)
    exps = e.explain_instances(list(w.images), w.model, **_lime_args(w, seg), silent=True)
    return _pixel_weights(exps, len(w.images))


def lime_image_superpixels(w: SuperpixelWork):
    from lime import lime_image
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    seg = SegmentationAlgorithm("slic", n_segments=w.n_segments, **SLIC)
    e = lime_image.LimeImageExplainer(random_state=w.seed)
    args = _lime_args(w, seg)
    shown = getattr(lime_image, "tqdm", None)
    if shown is not None:  # lime 0.2.0.1 always shows a progress bar: silence it, as ours
        lime_image.tqdm = _no_bar
    try:
        exps = [e.explain_instance(im, w.model, **args) for im in w.images]  # one per call
    finally:
        if shown is not None:
            lime_image.tqdm = shown
    return _pixel_weights(exps, len(w.images))


def _no_bar(iterable, *args, **kwargs):
    return iterable


def _targeted(values, target) -> np.ndarray:
    """``(n, H * W * C)``: each image's values ``(H, W, C, k)`` for its targeted class."""
    v = np.asarray(values, dtype=np.float64)
    return np.stack([v[i, ..., t].ravel() for i, t in enumerate(target)])


def xai_fast_partition_image(w: SuperpixelWork):
    from ... import PartitionExplainer, maskers

    e = PartitionExplainer(w.model, maskers.Image(w.mask_value, w.images.shape[1:]))
    return _targeted(e(w.images, max_evals=w.max_evals, silent=True).values, w.target)


def shap_partition_image(w: SuperpixelWork):
    import shap

    e = shap.PartitionExplainer(w.model, shap.maskers.Image(w.mask_value, w.images.shape[1:]))
    return _targeted(e(w.images, max_evals=w.max_evals, silent=True).values, w.target)
