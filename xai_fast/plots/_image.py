"""Attribution heat map over an image."""

from __future__ import annotations

import numpy as np

from ._common import figure_axes, finish, pyplot, to_numpy

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


def _per_pixel(attr, channels: str):
    """``(H, W)`` values and what they are: one channel where all channels agree (a feature's
    value given to each of its elements), else their sum (or mean, or max |.|)."""
    if attr.ndim == 2:
        return attr, "attribution"
    C = attr.shape[-1]
    if C == 1:
        return attr[..., 0], "attribution"
    if channels == "auto":
        if np.allclose(attr, attr[..., :1], rtol=1e-6, atol=1e-12, equal_nan=True):
            return attr[..., 0], "attribution (each channel's)"
        channels = "sum"
    if channels == "sum":
        return attr.sum(-1), f"attribution (sum over {C} channels)"
    if channels == "mean":
        return attr.mean(-1), f"attribution (mean over {C} channels)"
    if channels == "max_abs":
        pick = np.take_along_axis(attr, np.abs(attr).argmax(-1)[..., None], -1)[..., 0]
        return pick, f"attribution (largest |.| of {C} channels)"
    raise ValueError(f"channels must be 'auto', 'sum', 'mean' or 'max_abs'; got {channels!r}.")


def _fading(cmap):
    """``cmap`` made transparent towards its middle (zero), opaque at the ends, so the image
    shows through where attributions are small (as shap's image plot)."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    base = colormaps[cmap] if isinstance(cmap, str) else cmap
    colours = base(np.linspace(0, 1, 256))
    colours[:, 3] = np.clip(np.abs(np.linspace(-1, 1, 256)) * 1.5, 0, 1)
    return ListedColormap(colours, name=f"{base.name}_fading")


def _draw(ax, attr, img, cmap, alpha, m):
    if img is not None:
        ax.imshow(_display_image(img), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    over = _fading(cmap) if img is not None else cmap
    ax.imshow(attr, cmap=over, vmin=-m, vmax=m, alpha=alpha, interpolation="nearest")
    ax.set_axis_off()


def image(
    attributions,
    image=None,
    show=False,
    cmap="RdBu_r",
    *,
    alpha=1.0,
    ax=None,
    channels="auto",
    labels=None,
    label=None,
    title=None,
):
    """Heat map of pixel attributions over a greyscale copy of the image, or a grid of them.

    A superpixel explanation (:class:`~xai_fast.ImageExplanation`, or lime's) is drawn as
    each superpixel's weight for ``label`` over its image, with the superpixels' outlines.

    Parameters
    ----------
    attributions : array or torch.Tensor
        One image's, shape ``(H, W)``, ``(C, H, W)`` or ``(H, W, C)``; a batch
        ``(N, C, H, W)`` or ``(N, H, W, C)`` of them; or a list with one such array per
        output (shap's ``image_plot`` form). A batch or a list draws a grid: a row per
        image, the image first, then a column per output.
    image : array or torch.Tensor, optional
        The explained image(s), ``(H, W)``, ``(C, H, W)`` or ``(H, W, C)``, or ``(N, ...)``
        for a batch, drawn in grey under the heat map. Integer images are read as 0..255;
        float images outside [0, 1] are rescaled to it.
    show : bool
        Call ``plt.show()``.
    cmap : str or matplotlib colormap
        A diverging colormap. The scale is symmetric, ``[-m, m]`` with ``m`` the largest
        ``|attribution|`` (shared by the whole grid), so zero is the middle colour; over an
        image the map fades to transparent towards zero, so the image stays readable.
    alpha : float, keyword-only
        Overall opacity of the heat map.
    ax : matplotlib Axes, optional, keyword-only
        Draw one image's map there (not for grids).
    channels : {"auto", "sum", "mean", "max_abs"}, keyword-only
        How channels become one value per pixel. ``"auto"``: when every channel carries the
        same value (KernelShap and Lime give each element its feature's value), that value;
        otherwise (gradients) their sum. The colour bar says which.
    labels : list of str, optional, keyword-only
        Titles of the output columns of a grid.
    label : int, optional, keyword-only
        The label of a superpixel explanation (default its most probable label explained).
    title : str, optional, keyword-only
        Title of a single image's map (a superpixel explanation's says its label).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes or ndarray of Axes
        For one image the heat map is ``ax.images[-1]``; the colour bar is the figure's last
        axes.
    """
    if hasattr(attributions, "segments") and hasattr(attributions, "local_exp"):
        return _superpixels(attributions, show, cmap, alpha, ax, label)
    plt = pyplot()
    batch = np.ndim(attributions) == 4 and np.shape(attributions)[0] > 1
    if isinstance(attributions, (list, tuple)) or batch:
        return _grid(attributions, image, show, cmap, alpha, channels, labels, ax)
    img = None if image is None else _channels_last(to_numpy(image), "image")
    hw = None if img is None else img.shape[:2]
    attr = np.asarray(_channels_last(to_numpy(attributions), "attributions", hw), dtype=float)
    attr, what = _per_pixel(attr, channels)
    if hw is not None and attr.shape != hw:
        raise ValueError(
            f"attributions cover {attr.shape[0]} x {attr.shape[1]} pixels but the image is "
            f"{hw[0]} x {hw[1]}."
        )
    m = _scale([attr])
    H, W = attr.shape
    side = 5.0  # inches along the image's longer side; at least 2 along the shorter
    h, w = (side, max(2.0, side * W / H)) if H >= W else (max(2.0, side * H / W), side)
    fig, ax = figure_axes(ax, (w + 1.3, h + 0.3), layout=None)
    _draw(ax, attr, img, cmap, alpha, m)
    if title is not None:
        ax.set_title(str(title))
    _colour_bar(plt, fig, ax, cmap, m, what)
    finish(show, fig)
    return fig, ax


def _scale(maps) -> float:
    m = max((float(np.nanmax(np.abs(a))) for a in maps if a.size), default=0.0)
    return m if m > 0 else 1.0


def _colour_bar(plt, fig, ax, cmap, m, what, cax=None):
    # The colour bar shows the colours at full strength, not faded.
    mappable = plt.cm.ScalarMappable(norm=plt.Normalize(-m, m), cmap=cmap)
    if cax is not None:
        cb = fig.colorbar(mappable, cax=cax)
    else:
        cb = fig.colorbar(mappable, ax=ax, shrink=0.9, pad=0.02)
    cb.set_label(what)
    cb.outline.set_visible(False)


def _grid(attributions, images, show, cmap, alpha, channels, labels, ax):
    """Rows of images, columns of outputs: shap's ``image_plot`` layout."""
    if ax is not None:
        raise ValueError("ax= draws one image's map; a batch or a list of outputs needs a grid.")
    outputs = list(attributions) if isinstance(attributions, (list, tuple)) else [attributions]
    outputs = [to_numpy(a) for a in outputs]
    N = outputs[0].shape[0]
    if any(a.shape != outputs[0].shape for a in outputs):
        raise ValueError("every output's attributions need the same shape (N, ...).")
    imgs = None if images is None else to_numpy(images)
    if imgs is not None and imgs.shape[0] != N:
        raise ValueError(f"attributions hold {N} images but image holds {imgs.shape[0]}.")
    if labels is not None and len(labels) != len(outputs):
        raise ValueError(f"labels has {len(labels)} names for {len(outputs)} outputs.")
    rows = []
    for i in range(N):
        img = None if imgs is None else _channels_last(imgs[i], "image")
        hw = None if img is None else img.shape[:2]
        maps = [_per_pixel(_channels_last(a[i].astype(float), "attributions", hw), channels)
                for a in outputs]  # fmt: skip
        rows.append((img, maps))
    m = _scale([mp for _, maps in rows for mp, _ in maps])
    plt = pyplot()
    cols = len(outputs) + (imgs is not None)
    fig, axes = plt.subplots(N, cols, figsize=(2.2 * cols + 1.0, 2.2 * N), squeeze=False)
    for i, (img, maps) in enumerate(rows):
        if img is not None:
            axes[i, 0].imshow(_display_image(img) if img.ndim == 2 or img.shape[-1] < 3
                              else _rgb(img), cmap="gray", interpolation="nearest")  # fmt: skip
            axes[i, 0].set_axis_off()
        for j, (mp, _) in enumerate(maps):
            target = axes[i, j + (imgs is not None)]
            _draw(target, mp, img, cmap, alpha, m)
            if i == 0 and labels is not None:
                target.set_title(str(labels[j]))
    # a margin of its own for the colour bar, so it never covers the last column
    fig.subplots_adjust(left=0.02, right=0.84, bottom=0.02, top=0.92, wspace=0.05, hspace=0.08)
    cax = fig.add_axes((0.87, 0.15, 0.025, 0.7))
    _colour_bar(plt, fig, axes, cmap, m, rows[0][1][0][1], cax=cax)
    finish(show)
    return fig, axes


def _rgb(img) -> np.ndarray:
    """An RGB image in [0, 1] for display."""
    rgb = img[..., :3]
    if np.issubdtype(rgb.dtype, np.integer):
        return rgb.astype(float) / 255.0
    lo, hi = float(np.nanmin(rgb)), float(np.nanmax(rgb))
    return (rgb - lo) / ((hi - lo) or 1.0) if lo < 0 or hi > 1 else rgb.astype(float)


def _superpixels(exp, show, cmap, alpha, ax, label):
    """A superpixel explanation: weights ``(M,)`` spread over ``segments`` ``(H, W)``."""
    seg = np.asarray(exp.segments)
    if label is None:
        label = exp.top_labels[0] if getattr(exp, "top_labels", None) else next(iter(exp.local_exp))
    if label not in exp.local_exp:
        raise KeyError(f"label {label} is not explained; explained: {sorted(exp.local_exp)}.")
    w = np.zeros(int(seg.max()) + 1)
    for f, v in exp.local_exp[label]:
        w[int(f)] = v
    attr = w[seg]  # (H, W)
    fig, ax = image(
        attr, np.asarray(exp.image), False, cmap, alpha=alpha, ax=ax,
        title=f"superpixel weights for label {label}",
    )  # fmt: skip
    edge = np.zeros(seg.shape, dtype=bool)  # pixels on a superpixel's border
    edge[1:, :] |= seg[1:, :] != seg[:-1, :]
    edge[:, 1:] |= seg[:, 1:] != seg[:, :-1]
    outline = np.zeros(seg.shape + (4,))
    outline[edge] = (0.1, 0.1, 0.1, 0.6)
    ax.imshow(outline, interpolation="nearest")
    finish(show)
    return fig, ax
