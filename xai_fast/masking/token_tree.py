"""A hierarchy of a sentence's tokens: neighbours merged by a heuristic score (shap's).

Adjacent groups of tokens are merged greedily, the best-scoring pair first: pieces of one word
first, then apostrophe endings, short groups before long ones, and across commas, connectors
("and", "but", "or"), brackets and sentence ends last. The result is a linkage matrix whose
heights are the groups' sizes over the largest (the scores only order the merges), so that
Owen values on it are shap's for the same tokens.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["token_tree", "tree_tokens"]

_OPENERS = {"(": ")"}
_CLOSERS = {")": "("}
_CONNECTORS = ("but", "and", "or")
_ENDS = (".", "?", "!")
_SPACE_END = re.compile(r"^.*\W$")
_LETTER_START = re.compile(r"^[A-Za-z]")


class _Token:
    """A token's text and whether its bracket is matched (shared by every group holding it)."""

    __slots__ = ("s", "balanced")

    def __init__(self, s: str):
        self.s = s
        self.balanced = s not in _OPENERS and s not in _CLOSERS


def tree_tokens(segments) -> list[str]:
    """The tokens the merge scores read: segments stripped, a segment that continues a word
    (a letter right after a non-space character) marked ``"##"``."""
    out: list[str] = []
    for i, seg in enumerate(segments):
        joined = (
            i > 0
            and _SPACE_END.match(segments[i - 1]) is None
            and _LETTER_START.match(seg) is not None
            and out[i - 1] != ""
        )
        out.append("##" + seg.strip() if joined else seg.strip())
    return out


def _score(g1: list, g2: list, special: tuple) -> float:
    """How much the adjacent groups ``g1`` and ``g2`` should merge (higher first)."""
    score = 0.0
    first, last = g2[0].s, g1[-1].s
    if special and last in special and first in special:
        score -= math.inf  # separators join last: one subtree per segment
    if first.startswith("##"):
        score += 20
    if first == "'" and (len(g2) == 1 or (len(g2) == 2 and g2[1].s in ("t", "s"))):
        score += 15
    if last == "'" and first in ("t", "s"):
        score += 15
    start_ctrl = g1[0].s.startswith("[") and g1[0].s.endswith("]")
    end_ctrl = g2[-1].s.startswith("[") and g2[-1].s.endswith("]")
    if start_ctrl != end_ctrl:
        score -= 1000
    if first in _OPENERS and not g2[0].balanced:
        score -= 100
    if last in _CLOSERS and not g1[-1].balanced:
        score -= 100
    if g1[0].s in _OPENERS:  # around an opener: a little later
        score -= 2
    if last in _CONNECTORS or first in _CONNECTORS:
        score -= 2
    if last == ",":
        score -= 10
    if first == ",":
        score -= 10 if len(g2) > 1 else 1
    if last in _ENDS:
        score -= 20
    if first in _ENDS:
        score -= 20 if len(g2) > 1 else 1
    return score - len(g1) - len(g2)


def token_tree(tokens, special_tokens=()) -> np.ndarray:
    """The merge hierarchy of ``tokens``.

    Parameters
    ----------
    tokens : list of str, length M
        As :func:`tree_tokens` gives them.
    special_tokens : sequence of str
        Separators, merged with each other last.

    Returns
    -------
    ndarray of float64, shape (M - 1, 4)
        Linkage matrix; heights are group sizes over the largest group's.
    """
    special = tuple(special_tokens)
    groups = [[_Token(t)] for t in tokens]
    ids = list(range(len(tokens)))
    M = len(tokens)
    Z = np.zeros((max(M - 1, 0), 4))
    sizes = [1] * M
    for new in range(M, 2 * M - 1):
        scores = [_score(groups[i], groups[i + 1], special) for i in range(len(groups) - 1)]
        i = int(np.argmax(scores))
        a, b = ids[i], ids[i + 1]
        Z[new - M, :2] = a, b
        sizes.append(sizes[a] + sizes[b])
        Z[new - M, 3] = sizes[-1]
        right = groups[i + 1]
        groups[i] = groups[i] + right
        if groups[i][0].s in _OPENERS and right[-1].s == _OPENERS[groups[i][0].s]:
            groups[i][0].balanced = True
            right[-1].balanced = True
        ids[i] = new
        del groups[i + 1], ids[i + 1]
    if M > 1:
        Z[:, 2] = Z[:, 3] / Z[:, 3].max()
    return Z
