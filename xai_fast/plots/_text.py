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


def _in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def text(tokens, values=None, show=False, *, label=None, output="auto"):
    """Tokens highlighted by value: red raises the output, blue lowers it, stronger for larger
    ``|value|``; hovering a token shows its value.

    Parameters
    ----------
    tokens : sequence of str, length T, or a text explanation
        The tokens, in order. When none of them carries its own whitespace they are joined by
        spaces; otherwise they are joined as they are (whitespace is kept). A
        :class:`~xai_fast.TextExplanation` gives its text's tokens and their words' weights.
    values : array or torch.Tensor, shape (T,) or (1, T)
        One value per token (e.g. ``KernelShap`` attributions of a token sequence); not with
        an explanation.
    show : bool
        Display the HTML in a notebook (``IPython.display``); print it when IPython is missing.
    label : int, optional, keyword-only
        The label of an explanation (default its most probable label explained).
    output : {"auto", "html", "figure"}, keyword-only
        ``"figure"``: a matplotlib figure of the coloured tokens (for PNG files). ``"auto"``:
        HTML for tokens and values, and for an explanation inside a notebook; a figure for an
        explanation elsewhere.

    Returns
    -------
    HTMLText or (fig, ax)
        HTML: a ``str`` with ``_repr_html_``, one ``<span>`` per token, then a line giving the
        colour scale.
    """
    if output not in ("auto", "html", "figure"):
        raise ValueError(f"output must be 'auto', 'html' or 'figure'; got {output!r}.")
    if hasattr(tokens, "token_values") and hasattr(tokens, "indexed_string"):
        if values is not None:
            raise TypeError("pass either an explanation or tokens and values, not both.")
        exp = tokens
        if label is None:
            label = exp.top_labels[0] if exp.top_labels else next(iter(exp.local_exp))
        tokens, values = list(exp.indexed_string.as_list), exp.token_values(label)
        if output == "auto":
            output = "html" if _in_notebook() else "figure"
    elif values is None:
        raise TypeError("text() needs values, one per token (or a text explanation).")
    tokens = [str(t) for t in tokens]
    if output == "figure":
        from ._text_figure import text_figure

        return text_figure(tokens, to_numpy(values).astype(float).ravel(), show)
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
