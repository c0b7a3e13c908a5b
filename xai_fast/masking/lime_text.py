"""lime's views of a text as features (``IndexedString``: words, ``IndexedCharacters``:
characters) and the perturbed strings of many samples at once.

With ``bow=True`` a feature is a distinct word (removing it removes every occurrence); with
``bow=False`` it is one position, replaced by ``mask_string``. Separators (what
``split_expression`` matches) are never features and always kept.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["IndexedCharacters", "IndexedString", "perturbed_strings"]


class _Indexed:
    """Shared by both views; subclasses set ``raw``, ``as_list``, ``mask_string`` and call
    :meth:`_index` with which tokens are words."""

    def _index(self, is_word, bow: bool) -> None:
        self.as_np = np.array(self.as_list)
        lengths = np.fromiter(map(len, self.as_list), dtype=np.int64, count=len(self.as_list))
        self.string_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.bow = bool(bow)
        words = np.nonzero(is_word)[0]  # token positions of the words
        self.token_feature = np.full(len(self.as_list), -1, dtype=np.int64)  # (T,)
        if len(words) == 0:
            self.inverse_vocab, self.positions = [], [] if bow else np.zeros(0, np.int64)
            return
        if bow:  # a feature per distinct word, numbered by first appearance
            _, first, inv = np.unique(self.as_np[words], return_index=True, return_inverse=True)
            rank = np.empty(len(first), dtype=np.int64)
            rank[np.argsort(first, kind="stable")] = np.arange(len(first))
            feat = rank[inv.ravel()]
            self.token_feature[words] = feat
            order = np.sort(first)
            self.inverse_vocab = [self.as_list[words[f]] for f in order]
            grouped = np.argsort(feat, kind="stable")
            cuts = np.cumsum(np.bincount(feat, minlength=len(first)))[:-1]
            self.positions = [words[g].tolist() for g in np.split(grouped, cuts)]
        else:
            self.token_feature[words] = np.arange(len(words))
            self.inverse_vocab = [self.as_list[i] for i in words]
            self.positions = words

    def raw_string(self) -> str:
        """The original text."""
        return self.raw

    def num_words(self) -> int:
        """Number of features."""
        return len(self.inverse_vocab)

    def word(self, id_) -> str:
        """The word (or character) of feature ``id_``."""
        return self.inverse_vocab[id_]

    def string_position(self, id_) -> np.ndarray:
        """Character offsets of feature ``id_``'s occurrences: ``(occurrences,)``."""
        pos = self.positions[id_]
        return self.string_start[np.atleast_1d(pos)]

    def inverse_removing(self, words_to_remove) -> str:
        """The text without the features ``words_to_remove`` (masked when ``bow=False``)."""
        Z = np.ones((1, self.num_words()))
        Z[0, np.asarray(words_to_remove, dtype=np.int64)] = 0
        return perturbed_strings(self, Z)[0]


class IndexedString(_Indexed):
    """A text split into words and separators, as lime's ``IndexedString``.

    Parameters
    ----------
    raw_string : str
    split_expression : str or callable, default r"\\W+"
        A regular expression matching separators, or ``f(text) -> list of tokens`` (the text
        between tokens becomes separators).
    bow : bool, default True
    mask_string : str, optional
        Replacement of removed words when ``bow=False`` (default ``"UNKWORDZ"``).
    """

    def __init__(self, raw_string, split_expression=r"\W+", bow=True, mask_string=None):
        if not isinstance(raw_string, str):
            raise TypeError(f"the text must be a str; got {type(raw_string).__name__}.")
        self.raw = raw_string
        self.mask_string = "UNKWORDZ" if mask_string is None else mask_string
        if callable(split_expression):
            tokens = list(split_expression(raw_string))
            self.as_list = _segment_with_tokens(raw_string, tokens)
            vocab = set(tokens)
            is_word = np.fromiter((t in vocab for t in self.as_list), bool, len(self.as_list))
        else:
            splitter = re.compile(f"({split_expression})|$")
            self.as_list = [s for s in splitter.split(raw_string) if s]
            is_word = np.fromiter(
                (splitter.match(t) is None for t in self.as_list), bool, len(self.as_list)
            )
        self._index(is_word, bow)


class IndexedCharacters(_Indexed):
    """A text as characters, as lime's ``IndexedCharacters`` (``mask_string`` default
    ``chr(0)``)."""

    def __init__(self, raw_string, bow=True, mask_string=None):
        if not isinstance(raw_string, str):
            raise TypeError(f"the text must be a str; got {type(raw_string).__name__}.")
        self.raw = raw_string
        self.as_list = list(raw_string)
        self.mask_string = chr(0) if mask_string is None else mask_string
        self._index(np.ones(len(self.as_list), dtype=bool), bow)


def _segment_with_tokens(text: str, tokens) -> list:
    """``text`` cut into the tokens (in order) and the text between them."""
    out, at = [], 0
    for tok in tokens:  # the user's tokenizer: one find per token
        j = text.find(tok, at)
        if j < 0:
            raise ValueError(
                f"the tokenizer returned {tok!r}, which is not in the text after position "
                f"{at}; split_expression must return the text's tokens in order."
            )
        if j > at:
            out.append(text[at:j])
        out.append(tok)
        at = j + len(tok)
    if at < len(text):
        out.append(text[at:])
    return out


def perturbed_strings(indexed, Z) -> list:
    """The texts of the samples ``Z`` ``(S, d)`` (1: feature kept): a list of ``S`` str."""
    tf = indexed.token_feature  # (T,), -1 for separators
    keep = np.ones((len(Z), len(tf)), dtype=bool)
    keep[:, tf >= 0] = np.asarray(Z)[:, tf[tf >= 0]] > 0  # (S, T)
    tokens = np.array(indexed.as_list, dtype=object)
    gone = np.empty((), dtype=object)  # an object scalar: numpy's str type would drop "\0"
    gone[()] = "" if indexed.bow else indexed.mask_string
    pieces = np.where(keep, tokens[None, :], gone)  # (S, T) of str
    return list(map("".join, pieces.tolist()))
