"""``save`` / ``load`` of the hierarchical maskers, with shap's method names."""

from __future__ import annotations

import pickle

__all__ = ["SavableMasker"]

_FORMAT = "xai_fast.masker/1"


class SavableMasker:
    """shap's ``masker.save(out_file)`` and ``Masker.load(in_file)`` (pickled, so a tokenizer
    or mask value must be picklable)."""

    def save(self, out_file) -> None:
        """Write the masker to the open binary file ``out_file``."""
        pickle.dump({"format": _FORMAT, "masker": self}, out_file)

    @classmethod
    def load(cls, in_file, instantiate=True):
        """Read a masker written by :meth:`save` from the open binary file ``in_file``.

        ``instantiate=False`` returns its attributes instead (shap's constructor arguments).
        """
        saved = pickle.load(in_file)
        if not isinstance(saved, dict) or saved.get("format") != _FORMAT:
            raise ValueError("in_file does not hold a masker written by xai_fast's save().")
        masker = saved["masker"]
        if not isinstance(masker, cls):
            raise TypeError(f"the file holds a {type(masker).__name__}, not a {cls.__name__}.")
        return masker if instantiate else dict(vars(masker))
