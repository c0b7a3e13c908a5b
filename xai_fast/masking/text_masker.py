"""The text masker (shap's ``shap.maskers.Text``): hidden tokens become a mask token.

A string is cut into segments, one per token (the token and the text up to the next one); a
coalition keeps some segments and replaces the others by ``" " + mask_token`` (a run of hidden
tokens by one mask token when ``collapse_mask_token``), spaces squeezed, or, with
``output_type="token_ids"``, the token ids with hidden ones replaced by the mask token's id.
The hierarchy of each string is :func:`~xai_fast.masking.token_tree.token_tree`.
"""

from __future__ import annotations

import re

import numpy as np

from .masker_io import SavableMasker
from .token_tree import token_tree, tree_tokens

__all__ = ["RegexTokenizer", "Text"]


class RegexTokenizer:
    """Tokens are the text between matches of ``split_pattern`` (default ``\\W+``).

    Called as a Hugging Face tokenizer: ``tok(s)`` gives ``{"input_ids": [token strings],
    "offset_mapping": [(start, end)]}``.
    """

    def __init__(self, split_pattern=r"\W+"):
        self.split_pattern = re.compile(split_pattern)

    def __call__(self, s, return_offsets_mapping=True):
        cuts = [m.span() for m in self.split_pattern.finditer(s)]
        starts = [0] + [end for _, end in cuts]
        ends = [start for start, _ in cuts] + [len(s)]
        spans = [(a, b) for i, (a, b) in enumerate(zip(starts, ends, strict=True))
                 if i < len(cuts) or a != len(s)]  # fmt: skip
        out = {"input_ids": [s[a:b] for a, b in spans]}
        if return_offsets_mapping:
            out["offset_mapping"] = spans
        return out


class Text(SavableMasker):
    """Hide tokens of strings, for :class:`~xai_fast.PartitionExplainer`.

    Parameters
    ----------
    tokenizer : None, str or callable
        ``None``: tokens between runs of non-word characters (:class:`RegexTokenizer`); a str:
        that splitting regex; a callable: a Hugging Face style tokenizer (``tok(s)`` returns a
        dict with ``"input_ids"`` and, given ``return_offsets_mapping=True``,
        ``"offset_mapping"``; or ``convert_ids_to_tokens`` / ``decode``), or any function that
        returns the list of token strings (``str.split``), found in the string in turn.
    mask_token : str, int or None
        What a hidden token becomes; ``None``: the tokenizer's ``mask_token`` if it has one,
        else ``"..."``. ``""`` deletes hidden tokens.
    collapse_mask_token : bool or "auto"
        One mask token for a run of hidden tokens; ``"auto"``: ``True`` unless the tokenizer's
        own mask token is used.
    output_type : {"string", "token_ids"}
        What the model gets: masked strings, or ``(n, T)`` arrays of token ids (integer ids
        and an integer mask token id needed).
    """

    default_batch_size = 5

    def __init__(self, tokenizer=None, mask_token=None, collapse_mask_token="auto",
                 output_type="string"):  # fmt: skip
        if tokenizer is None:
            tokenizer = RegexTokenizer()
        elif isinstance(tokenizer, str):
            try:
                tokenizer = RegexTokenizer(tokenizer)
            except re.error as err:
                raise ValueError(f"tokenizer {tokenizer!r} is not a valid regex: {err}.") from None
        elif not callable(tokenizer):
            raise TypeError(
                "tokenizer must be None, a splitting regex (str) or a callable tokenizer; got "
                f"{type(tokenizer).__name__}."
            )
        if output_type not in ("string", "token_ids"):
            raise ValueError(f"output_type must be 'string' or 'token_ids'; got {output_type!r}.")
        if collapse_mask_token not in (True, False, "auto"):
            raise ValueError(
                f"collapse_mask_token must be True, False or 'auto'; got {collapse_mask_token!r}."
            )
        if mask_token is not None and not isinstance(mask_token, (str, int, np.integer)):
            raise TypeError(f"mask_token must be a str, an int or None; got {mask_token!r}.")
        self.tokenizer = tokenizer
        self.output_type = output_type
        self.input_mask_token = mask_token
        empty = self._encode("")[1]
        self.keep_prefix, self.keep_suffix = _boundary_tokens(tokenizer, empty)
        self.mask_token_id = mask_token if isinstance(mask_token, (int, np.integer)) else None
        own = getattr(tokenizer, "mask_token", None)
        if mask_token is None and own is not None:
            self.mask_token = own
            self.mask_token_id = getattr(tokenizer, "mask_token_id", None)
            collapse = False if collapse_mask_token == "auto" else collapse_mask_token
        else:
            self.mask_token = "..." if mask_token is None else mask_token
            collapse = collapse_mask_token
        if self.mask_token_id is None and isinstance(self.mask_token, str):
            ids = self._encode(self.mask_token)[1]
            self.mask_token_id = ids[self.keep_prefix] if len(ids) > self.keep_prefix else None
        self.collapse_mask_token = True if collapse == "auto" else bool(collapse)
        self.sep_token = getattr(tokenizer, "sep_token", None)
        self.fixed_background = self.mask_token_id is None
        self.clustering = self.tree_of  # shap's masker.clustering is a function of the text

    def __repr__(self) -> str:
        return f"Text(mask_token={self.mask_token!r}, output_type={self.output_type!r})"

    # ------------------------------------------------------------------ tokens
    def _encode(self, s: str):
        """``(segments or None, token ids)`` of ``s`` from the tokenizer."""
        tok = self.tokenizer
        try:
            out = tok(s, return_offsets_mapping=True)
        except TypeError:  # a plain function of the string (str.split)
            out = tok(s)
        if isinstance(out, dict) or hasattr(out, "keys"):
            ids = list(out["input_ids"])
            offsets = out.get("offset_mapping") if hasattr(out, "get") else None
            if offsets is not None:
                offsets = [(0, 0) if o is None else tuple(o) for o in offsets]
                segs = [s[offsets[i][0] : max(offsets[i][1], offsets[i + 1][0])]
                        for i in range(len(offsets) - 1)]  # fmt: skip
                if offsets:
                    segs.append(s[offsets[-1][0] : offsets[-1][1]])
                return segs, ids
            return _decoded_segments(tok, ids), ids
        if isinstance(out, (list, tuple)) and all(isinstance(t, str) for t in out):
            return _found_segments(s, list(out)), list(out)
        raise TypeError(
            "the tokenizer must return a dict with 'input_ids' (a Hugging Face tokenizer) or a "
            f"list of token strings; got {type(out).__name__}."
        )

    def segments(self, s: str) -> tuple[list, list]:
        """The segments of ``s`` and their token ids (each of length ``T``)."""
        if not isinstance(s, str):
            raise TypeError(f"the text masker explains strings; got {type(s).__name__}.")
        segs, ids = self._encode(s)
        if not segs:
            raise ValueError(f"the tokenizer found no tokens in {s!r}; nothing to explain.")
        return segs, ids

    def tree_of(self, s: str) -> np.ndarray:
        """The hierarchy of the tokens of ``s``: a linkage matrix ``(T - 1, 4)``."""
        segs, _ = self.segments(s)
        special = () if self.sep_token is None else (self.sep_token,)
        return token_tree(tree_tokens(segs), special)

    def feature_names(self, s: str) -> list[list[str]]:
        """shap's per-string feature names: the stripped segments."""
        return [[seg.strip() for seg in self.segments(s)[0]]]

    def invariants(self, segs) -> np.ndarray:
        """Tokens that are never hidden (boundary tokens, separators): ``(T,)`` bool."""
        keep = np.zeros(len(segs), dtype=bool)
        keep[: self.keep_prefix] = True
        if self.keep_suffix:
            keep[-self.keep_suffix :] = True
        if self.sep_token is not None:
            keep |= np.asarray(segs, dtype=object) == self.sep_token
        return keep

    # ------------------------------------------------------------------ masking
    def masked(self, segs, ids, Z) -> np.ndarray:
        """The model inputs of coalitions ``Z`` ``(P, T)`` of one string's tokens.

        Returns
        -------
        ndarray, shape (P,) of str, or (P, T) of token ids
        """
        Z = np.asarray(Z, dtype=bool) | self.invariants(segs)[None, :]
        if self.output_type == "token_ids":
            if self.mask_token_id is None or not all(isinstance(i, (int, np.integer)) for i in ids):
                raise ValueError(
                    "output_type='token_ids' needs integer token ids and an integer mask token "
                    "id (pass mask_token=<id> or a tokenizer with one); use output_type='string'."
                )
            return np.where(Z, np.asarray(ids)[None, :], self.mask_token_id)
        seg = np.asarray(segs, dtype=object)
        blank = " " + self.mask_token
        hidden = np.full(Z.shape, blank, dtype=object)
        if self.collapse_mask_token:  # a hidden token after a hidden one adds nothing
            hidden[:, 1:][~Z[:, :-1]] = ""
        parts = np.where(Z, seg[None, :], hidden)
        return np.array([_squeeze("".join(p)) for p in parts])  # one join per model input

    def __call__(self, mask, s):
        """shap's masker call: the masked input of string ``s`` under ``mask`` (``(T,)``)."""
        segs, ids = self.segments(s)
        return (self.masked(segs, ids, np.asarray(mask, dtype=bool)[None, :]),)


def _squeeze(s: str) -> str:
    return re.sub(r"[\s]+", " ", s).strip()


def _boundary_tokens(tok, empty) -> tuple[int, int]:
    """Tokens the tokenizer adds before and after every text (kept unmasked)."""
    if len(empty) == 0:
        return 0, 0
    if len(empty) % 2 == 0:
        return len(empty) // 2, len(empty) // 2
    if len(empty) == 1 and hasattr(tok, "special_tokens_map") and hasattr(tok, "decode"):
        st = tok.special_tokens_map
        word = tok.decode(empty[0])
        if st.get("eos_token") == word:
            return 0, 1
        if st.get("bos_token") == word:
            return 1, 0
    raise ValueError(
        f"the tokenizer adds {len(empty)} token(s) to the empty string and names neither as its "
        "bos or eos token; use a tokenizer that adds none, or matching pairs."
    )


def _decoded_segments(tok, ids) -> list[str]:
    """Segments from token ids when the tokenizer gives no offsets (shap's fallback)."""
    if hasattr(tok, "convert_ids_to_tokens"):
        tokens = list(tok.convert_ids_to_tokens(ids))
    elif hasattr(tok, "decode"):
        tokens = [tok.decode([i]) for i in ids]
    else:
        raise TypeError(
            "the tokenizer returned no 'offset_mapping' and has neither convert_ids_to_tokens "
            "nor decode, so its tokens cannot be located in the text."
        )
    out = []
    for i, t in enumerate(tokens):
        if t.startswith("##"):
            out.append(t[2:])
        else:
            out.append(" " + t if t != "" and i != 0 else t)
    return out


def _found_segments(s: str, tokens: list[str]) -> list[str]:
    """Segments of ``s`` for tokens found in it in turn (each up to the next token)."""
    if not tokens:
        return []
    starts, pos = [], 0
    for t in tokens:
        at = s.find(t, pos)
        if at < 0:
            raise ValueError(f"token {t!r} was not found in the text after position {pos}.")
        starts.append(at)
        pos = at + len(t)
    ends = starts[1:] + [len(s)]
    return [s[a:b] for a, b in zip(starts, ends, strict=True)]
