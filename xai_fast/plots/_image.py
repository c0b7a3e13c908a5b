"""Attribution heat map over an image."""

from __future__ import annotations

import numpy as np

from ._common import finish, pyplot, to_numpy

__all__ = ["image"]


def _channels_last(a, name: str, hw=None):
    """``a`` as ``(H, W)`` or ``(H, W, C)``.

    A 3-D array is taken as channels-first when its spatial size then matches ``hw`` (the
    image's), else channels-last when that matches; without ``hw`` the shorter of the first and
    last axes holds the channels (the first on a tie, the torch convention).
    """
    if a.ndim == 4 and a.shape[0] == 1:  # a batch of one
        a = a[0]
    if a.ndim == 2:
        return a
    if a.ndim != 3:
        raise ValueError(f"{name} must have shape (H, W), (C, H, W) or (H, W, C); got {a.shape}.")
    if hw is not None and a.shape[1:] == hw:
        first = True
    elif hw is not None and a.shape[:2] == hw:
        first = False
    else:
        first = a.shape[0] <= a.shape[-1]
    return np.moveaxis(a, 0, -1) if first else a


def _display_image(img) -> np.ndarray:
    """A grey ``(H, W)`` image in [0, 1]: integers are read as 0..255, floats outside [0, 1]
    are rescaled."""
    if img.ndim == 3:
        img = img[..., :3].mean(-1) if img.shape[-1] >= 3 else img.mean(-1)
    if np.issubdtype(img.dtype, np.integer):
        return img.astype(float) / 255.0
    img = img.astype(float)
    lo, hi = np.nanmin(img), np.nanmax(img)
    if lo < 0 or hi > 1:
        img = (img - lo) / ((hi - lo) or 1.0)
    return img


def image(attributions, image=None, show=False, cmap="RdBu_r", *, alpha=0.6):
    """Heat map of pixel attributions, over a greyscale copy of the image when given.

    Parameters
    ----------
    attributions : array or torch.Tensor, shape (H, W), (C, H, W) or (H, W, C)
        Per-pixel (or per-pixel-and-channel) attributions; channels are summed, so each pixel
        shows the total attribution of its channels. A leading batch axis of size 1 is dropped.
    image : array or torch.Tensor, shape (H, W), (C, H, W) or (H, W, C), optional
        The explained image, drawn in grey under the heat map. Integer images are read as
        0..255; float images outside [0, 1] are rescaled to it.
    show : bool
        Call ``plt.show()``.
    cmap : str or matplotlib colormap
        A diverging colormap; the colour scale is symmetric, ``[-m, m]`` with ``m`` the largest
        ``|attribution|``, so zero is the middle colour. Red is positive by default.
    alpha : float, keyword-only
        Opacity of the heat map over the image.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        The heat map is ``ax.images[-1]`` and the colour bar ``fig.axes[1]``.
    """
    attr = to_numpy(attributions)
    img = None if image is None else to_numpy(image)
    hw = None
    if img is not None:
        img = _channels_last(img, "image")
        hw = img.shape[:2]
    attr = np.asarray(_channels_last(attr, "attributions", hw), dtype=float)
    if attr.ndim == 3:
        attr = attr.sum(-1)
    if hw is not None and attr.shape != hw:
        raise ValueError(
            f"attributions cover {attr.shape[0]} x {attr.shape[1]} pixels but the image is "
            f"{hw[0]} x {hw[1]}."
        )
    m = np.nanmax(np.abs(attr)) if attr.size else 0.0
    m = float(m) if m > 0 else 1.0

    plt = pyplot()
    H, W = attr.shape
    side = 5.0  # inches along the image's longer side; at least 2 along the shorter
    h, w = (side, max(2.0, side * W / H)) if H >= W else (max(2.0, side * H / W), side)
    fig, ax = plt.subplots(figsize=(w + 1.3, h + 0.3), layout="constrained")  # + colour bar
    if img is not None:
        ax.imshow(_display_image(img), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.imshow(
        attr,
        cmap=cmap,
        vmin=-m,
        vmax=m,
        alpha=1.0 if img is None else alpha,
        interpolation="nearest",
    )
    ax.set_axis_off()
    # The colour bar shows the colours at full strength, not faded by alpha.
    mappable = plt.cm.ScalarMappable(norm=plt.Normalize(-m, m), cmap=cmap)
    cb = fig.colorbar(mappable, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label("attribution")
    cb.outline.set_visible(False)
    finish(show)
    return fig, ax
