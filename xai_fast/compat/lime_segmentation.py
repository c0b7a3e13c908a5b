"""``SegmentationAlgorithm``: lime's wrapper of scikit-image's superpixel algorithms."""

from __future__ import annotations

import inspect

__all__ = ["SegmentationAlgorithm", "skimage_segmentation"]

_ALGORITHMS = ("quickshift", "slic", "felzenszwalb")


def skimage_segmentation():
    """``skimage.segmentation``, or an ImportError naming the ``image`` extra."""
    try:
        import skimage.segmentation
    except ImportError:
        raise ImportError(
            "image segmentation needs scikit-image: pip install 'xai_fast[image]' (or pass "
            "segmentation_fn=, any function mapping an (H, W, C) image to (H, W) labels)."
        ) from None
    return skimage.segmentation


class SegmentationAlgorithm:
    """A scikit-image segmentation with fixed parameters, called on an image, as lime's.

    Parameters
    ----------
    algo_type : {"quickshift", "slic", "felzenszwalb"}
    **target_params
        Keyword arguments of the scikit-image function. ``random_seed`` (which lime passes to
        quickshift) is dropped when the function has no such parameter, as lime drops it;
        any other unknown name raises ValueError.

    Examples
    --------
    >>> seg = SegmentationAlgorithm("slic", n_segments=50, compactness=10)  # doctest: +SKIP
    >>> labels = seg(image)  # (H, W) ints  # doctest: +SKIP
    """

    def __init__(self, algo_type, **target_params):
        if algo_type not in _ALGORITHMS:
            raise ValueError(f"algo_type must be one of {_ALGORITHMS}; got {algo_type!r}.")
        self.algo_type = algo_type
        self.target_fn = getattr(skimage_segmentation(), algo_type)
        accepted = set(inspect.signature(self.target_fn).parameters)
        params = dict(target_params)
        if "random_seed" not in accepted:
            params.pop("random_seed", None)
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise ValueError(
                f"{unknown} are not parameters of skimage.segmentation.{algo_type}; it takes "
                f"{sorted(accepted - {'image'})}."
            )
        self.target_params = params

    def __call__(self, image):
        """Superpixel labels of ``image`` ``(H, W, C)``: ``(H, W)`` ints."""
        return self.target_fn(image, **self.target_params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.target_params.items())
        return f"SegmentationAlgorithm({self.algo_type!r}{', ' if args else ''}{args})"
