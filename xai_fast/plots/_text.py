"""Tokens highlighted by their attribution, as HTML."""

from __future__ import annotations

import html

import numpy as np

from ._common import to_numpy

__all__ = ["HTMLText", "text"]

# Positive red, negative blue (the plots' colours) as RGB; opacity grows with |value|.
_RED = (255, 0, 81)
_BLUE = (0, 139, 251)
_MAX_ALPHA = 0.75  # keeps black text readable on the strongest colour


class HTMLText(str):
    """An HTML string that notebooks render (it has ``_repr_html_``)."""

    def _repr_html_(self) -> str:
        return str(self)


def text(tokens, values, show=False) -> HTMLText:
    """Tokens highlighted by value: red raises the output, blue lowers it, stronger for larger
    ``|value|``; hovering a token shows its value.

    Parameters
    ----------
    tokens : sequence of str, length T
        The tokens, in order. When none of them carries its own whitespace they are joined by
        spaces; otherwise they are joined as they are (whitespace is kept).
    values : array or torch.Tensor, shape (T,) or (1, T)
        One value per token (e.g. ``KernelShap`` attributions of a token sequence).
    show : bool
        Display the HTML in a notebook (``IPython.display``); print it when IPython is missing.

    Returns
    -------
    HTMLText
        A ``str`` of HTML with ``_repr_html_``: one ``<span>`` per token, then a line giving the
        colour scale.
    """
    tokens = [str(t) for t in tokens]
    v = to_numpy(values).astype(float)
    if v.ndim == 2 and v.shape[0] == 1:
        v = v[0]
    if v.ndim != 1 or len(v) != len(tokens):
        raise ValueError(
            f"values must have one value per token: {len(tokens)} tokens but values of shape "
            f"{to_numpy(values).shape}."
        )
    finite = np.abs(v[np.isfinite(v)])
    m = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    spans = []
    for t, x in zip(tokens, v, strict=True):
        strength = 0.0 if not np.isfinite(x) else _MAX_ALPHA * min(abs(x) / m, 1.0)
        r, g, b = _RED if x >= 0 else _BLUE
        spans.append(
            f'<span title="{x:+.3g}" style="background-color: rgba({r}, {g}, {b}, '
            f'{strength:.3f}); padding: 1px 2px; border-radius: 3px; white-space: pre-wrap">'
            f"{html.escape(t)}</span>"
        )
    own_space = any(t[:1].isspace() or t[-1:].isspace() for t in tokens)
    body = ("" if own_space else " ").join(spans)
    legend = (
        '<div style="font-size: 0.8em; color: #555; margin-top: 4px">'
        f"red raises the output, blue lowers it; strongest |value| = {m:.3g}</div>"
    )
    out = HTMLText(
        f'<div class="xai-fast-text" style="line-height: 1.9; color: black">{body}{legend}</div>'
    )
    if show:
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(out)
        else:
            display(HTML(out))
    return out
