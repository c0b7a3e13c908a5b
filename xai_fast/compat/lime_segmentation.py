"""``SegmentationAlgorithm``: lime's wrapper of scikit-image's superpixel algorithms."""

from __future__ import annotations

import inspect
import types

from ..masking.quickshift import quickshift, replaces_skimage

__all__ = ["BaseWrapper", "SegmentationAlgorithm", "skimage_segmentation"]

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


def _takes(fn, name: str) -> bool:
    """Whether ``fn`` has a parameter ``name`` that can be passed by keyword."""
    try:
        param = inspect.signature(fn).parameters.get(name)
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return param is not None and param.kind in kinds


class BaseWrapper:
    """lime's base of its scikit-image wrappers: a function and the keyword arguments it is
    called with.

    Parameters
    ----------
    target_fn : callable, optional
        A function, a method or a callable object; ``None`` means the wrapper itself.
    **target_params
        Keyword arguments for ``target_fn``.
    """

    def __init__(self, target_fn=None, **target_params):
        self.target_fn = target_fn
        self.target_params = target_params

    def _checked_function(self):
        if self.target_fn is None:
            if not callable(self):
                raise TypeError("the wrapper is not callable; pass a target_fn to check against.")
            return self.__call__
        if isinstance(self.target_fn, (types.FunctionType, types.MethodType)):
            return self.target_fn
        return self.target_fn.__call__  # AttributeError when target_fn is not callable

    def _check_params(self, parameters) -> None:
        """ValueError unless every name in ``parameters`` (a list or dict of names) is a
        keyword argument of the target function; TypeError for a string or a non-iterable."""
        fn = self._checked_function()  # first, as lime: a non-callable target is the error
        if isinstance(parameters, str) or not hasattr(parameters, "__iter__"):
            raise TypeError(
                f"parameters must be a list or dict of argument names; got "
                f"{type(parameters).__name__}."
            )
        for name in parameters:
            if not _takes(fn, name):
                raise ValueError(f"{name!r} is not a parameter of {getattr(fn, '__name__', fn)}.")

    def set_params(self, **params) -> None:
        """Replace ``target_params`` after checking every name against the target function."""
        self._check_params(params)
        self.target_params = params

    def filter_params(self, fn, override=None) -> dict:
        """The target parameters (updated with ``override``) that ``fn`` takes by keyword."""
        params = {**self.target_params, **(override or {})}
        return {k: v for k, v in params.items() if _takes(fn, k)}


class SegmentationAlgorithm(BaseWrapper):
    """A scikit-image segmentation with fixed parameters, called on an image, as lime's.

    Parameters
    ----------
    algo_type : {"quickshift", "slic", "felzenszwalb"}
        ``"quickshift"`` runs :func:`xai_fast.masking.quickshift.quickshift`, scikit-image's
        arguments and segments on compiled kernels (with scikit-image 0.20 or later).
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
        fn = getattr(skimage_segmentation(), algo_type)
        if algo_type == "quickshift" and replaces_skimage(fn):  # the same segments, faster
            fn = quickshift
        super().__init__(fn)
        self.algo_type = algo_type
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
