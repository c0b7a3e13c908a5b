"""The parts of captum's ``Attribution`` interface every captum-style method here answers."""

from __future__ import annotations

__all__ = ["CaptumSurface"]


class CaptumSurface:
    """captum's queries and its asynchronous entry point, the same for every method."""

    multiplies_by_inputs = False  # captum's flag: whether attributions scale with the inputs

    def has_convergence_delta(self) -> bool:
        """Whether ``attribute`` can return convergence deltas (captum's query)."""
        return False

    def attribute_future(self, *args, **kwargs):
        """captum's asynchronous variant of ``attribute`` (forwards returning futures): not
        implemented, as in captum's methods of this kind; call ``attribute``."""
        raise NotImplementedError(
            f"{type(self).__name__}.attribute_future is not implemented; call attribute(...) "
            "with a forward that returns tensors."
        )
