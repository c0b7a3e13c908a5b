"""The image masker (shap's ``shap.maskers.Image``): hidden pixels take a mask value.

Every element of an ``(H, W, C)`` image is a feature (``M = H * W * C``), as in shap. A masked
image is ``where(z, x, v)`` for a mask value ``v``: a number, an image, or ``"blur(kx,ky)"``
(each image box-blurred). Its hierarchy splits the image in halves along the longest axis,
channels last, with shap's numbering of the nodes, so that Owen values on it are shap's.
"""

from __future__ import annotations

import heapq
import re

import numpy as np

from .._validation import DimensionError
from ..solvers.owen import Tree, tree_of
from .masker_io import SavableMasker

__all__ = ["Image", "box_blur", "image_partition_tree"]


class Image(SavableMasker):
    """Hide image regions behind a mask value, for :class:`~xai_fast.PartitionExplainer`.

    Parameters
    ----------
    mask_value : float, ndarray of shape ``shape``, or str
        What hidden pixels become: a number, an image of the input's shape, or
        ``"blur(kx,ky)"``: the image box-blurred with a ``kx`` wide, ``ky`` tall window
        (reflected borders, as ``cv2.blur``). ``"inpaint_telea"`` / ``"inpaint_ns"`` need
        OpenCV and are refused.
    shape : tuple of int, optional
        The image shape ``(H, W, C)``; needed unless ``mask_value`` is an image.
    partition_scheme : int, default 0
        The hierarchy: 0, shap's axis-aligned halving (the only scheme).

    Attributes
    ----------
    shape : tuple
        ``(1, M)``: one masked image per coalition, shap's masker shape.
    input_shape : tuple
    clustering : ndarray of float64, shape (M - 1, 4)
        The hierarchy as a linkage matrix.
    """

    default_batch_size = 10

    def __init__(self, mask_value, shape=None, partition_scheme=0):
        if partition_scheme != 0:
            raise ValueError(
                f"partition_scheme must be 0 (axis-aligned halving, shap's scheme); got "
                f"{partition_scheme!r}."
            )
        self.blur_kernel = None
        if isinstance(mask_value, str):
            if shape is None:
                raise TypeError("when mask_value is a string the image shape must be given.")
            self.blur_kernel = _blur_kernel(mask_value)
        elif isinstance(mask_value, (int, float, np.number)) and not isinstance(mask_value, bool):
            if shape is None:
                raise TypeError("when mask_value is a number the image shape must be given.")
        elif not isinstance(mask_value, np.ndarray):
            raise TypeError(
                "mask_value must be a number, an image (numpy array) or 'blur(kx,ky)'; got "
                f"{type(mask_value).__name__}."
            )
        self.input_shape = _check_shape(mask_value.shape if shape is None else shape)
        D = int(np.prod(self.input_shape))
        if isinstance(mask_value, np.ndarray):
            if mask_value.size != D:
                raise ValueError(
                    f"mask_value has {mask_value.size} values but the image shape "
                    f"{self.input_shape} has {D}; pass one value per pixel and channel."
                )
            self.mask_value = np.asarray(mask_value, dtype=np.float64).ravel()
        elif self.blur_kernel is None:
            self.mask_value = np.full(D, float(mask_value))
        else:
            self.mask_value = mask_value
        self.input_mask_value = mask_value
        self.shape = (1, D)
        self.fixed_background = self.blur_kernel is None
        self.clustering = image_partition_tree(self.input_shape)
        self._tree = None

    def __repr__(self) -> str:
        return f"Image(mask_value={self.input_mask_value!r}, shape={self.input_shape})"

    def tree(self) -> Tree:
        """The hierarchy as a checked :class:`~xai_fast.solvers.owen.Tree` (built once)."""
        if self._tree is None:
            self._tree = tree_of(self.clustering)
        return self._tree

    def images(self, X) -> np.ndarray:
        """Images ``X`` ``(n, *input_shape)`` (or one image) as float64 rows ``(n, M)``."""
        arr = np.asarray(X.detach().cpu().numpy() if hasattr(X, "detach") else X)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"images must be numeric arrays; got dtype {arr.dtype}.")
        D = self.shape[1]
        if arr.shape == self.input_shape:
            arr = arr[None]
        if arr.ndim < 1 or arr.size == 0 or arr[0].size != D:
            raise DimensionError(
                f"images of shape {self.input_shape} were expected (one, or a batch "
                f"(n, *shape)); got an array of shape {arr.shape}."
            )
        return arr.reshape(arr.shape[0], D)

    def fill_values(self, rows: np.ndarray) -> np.ndarray:
        """What the hidden pixels of each image become: ``(n, M)`` (or ``(1, M)`` shared)."""
        if self.blur_kernel is None:
            return self.mask_value[None, :]
        imgs = rows.reshape((-1,) + self.input_shape)
        return box_blur(imgs, self.blur_kernel).reshape(rows.shape)

    def __call__(self, mask, x):
        """shap's masker call: the image ``x`` under ``mask`` (``(M,)`` bool), ``(1, *shape)``."""
        rows = self.images(x)[:1]
        if mask is None:  # shap: no mask hides the whole image
            mask = np.zeros(rows.shape[1], dtype=bool)
        mask = np.asarray(mask, dtype=bool).reshape(1, -1)
        fill = self.fill_values(rows.astype(np.float64))
        if rows.dtype.kind in "iub":
            fill = np.rint(fill)
        out = np.where(mask, rows, fill.astype(rows.dtype))  # shap writes v into x's dtype
        return (out.reshape((1,) + self.input_shape),)


def _check_shape(shape) -> tuple:
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    if len(shape) == 2:
        shape = shape + (1,)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"the image shape must be (H, W, C) of positive sizes; got {shape}.")
    return shape


def _blur_kernel(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*blur\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*", value)
    if m:
        kx, ky = int(m.group(1)), int(m.group(2))
        if kx >= 1 and ky >= 1:
            return kx, ky
    if value.startswith("inpaint"):
        raise ValueError(
            f"mask_value={value!r} needs OpenCV's inpainting, which xai_fast does not use; "
            "pass 'blur(kx,ky)', a number or an image."
        )
    raise ValueError(
        f"mask_value string must be 'blur(kx,ky)' with window sizes >= 1; got {value!r}."
    )


def box_blur(images: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """Box-blur images with a ``kx`` wide, ``ky`` tall window, borders reflected without
    repeating the edge (``cv2.blur``'s default).

    Parameters
    ----------
    images : ndarray, shape (n, H, W, C)
    kernel : (int, int)
        ``(kx, ky)``.

    Returns
    -------
    ndarray of float64, shape (n, H, W, C)
    """
    from scipy.ndimage import uniform_filter

    kx, ky = kernel
    return uniform_filter(np.asarray(images, dtype=np.float64), size=(1, ky, kx, 1), mode="mirror")


def image_partition_tree(shape) -> np.ndarray:
    """shap's hierarchy of an ``(H, W, C)`` image: halve the longest of the row and column
    ranges (rows on ties), channels once both are one wide; largest parts numbered first.

    Returns
    -------
    ndarray of float64, shape (M - 1, 4)
        A linkage matrix (distances 0) over the ``M = H * W * C`` elements; leaf ``j`` is the
        element ``M - 1 - j`` of the flattened image, as in shap.
    """
    H, W, C = _check_shape(shape)
    M = H * W * C
    Z = np.zeros((M - 1, 4))
    heap = [(0, 0, H, 0, W, 0, C, -1, False)]
    node = M - 2  # the id of the next popped part is node + M (below M: a leaf)
    while heap:
        _, x0, x1, y0, y1, z0, z1, parent, is_left = heapq.heappop(heap)
        if parent >= 0:
            Z[parent, 0 if is_left else 1] = node + M
        if (x1 - x0, y1 - y0, z1 - z0) != (1, 1, 1):
            lo = [x0, x1, y0, y1, z0, z1]
            hi = list(lo)
            if x1 - x0 >= y1 - y0 and x1 - x0 > 1:
                axis = 0
            elif y1 - y0 > 1:
                axis = 2
            else:
                axis = 4
            mid = lo[axis] + (lo[axis + 1] - lo[axis]) // 2
            lo[axis + 1], hi[axis] = mid, mid
            for part, left in ((lo, True), (hi, False)):
                size = (part[1] - part[0]) * (part[3] - part[2]) * (part[5] - part[4])
                heapq.heappush(heap, (-size, *part, node, left))
        node -= 1
    Z[:, 3] = tree_of(Z).sizes[M:]
    return Z
