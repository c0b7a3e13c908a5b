"""Feature masks for tensors: the default grid, broadcasting to the inputs, compact ids.

A feature mask holds an integer feature id per input element; elements with the same id form one
feature (a superpixel, a token, a column).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validation import is_int

__all__ = ["MAX_GRID", "compact_ids", "grid_feature_mask", "per_example", "rows_of"]

#: The default image segmentation has at most ``MAX_GRID x MAX_GRID`` patches.
MAX_GRID = 8


def _check_patch_size(patch_size, H: int, W: int) -> tuple[int, int]:
    """``(ph, pw)`` from an int, a pair or ``None`` (the smallest square patch giving at most
    ``MAX_GRID`` patches along each side)."""
    if patch_size is None:
        p = max(1, math.ceil(H / MAX_GRID), math.ceil(W / MAX_GRID))
        return p, p
    pair = (patch_size, patch_size) if not isinstance(patch_size, (tuple, list)) else patch_size
    ok = len(pair) == 2 and all(is_int(p) and p >= 1 for p in pair)
    if not ok:
        raise ValueError(
            f"patch_size must be a positive int or a pair (height, width) of positive ints; "
            f"got {patch_size!r}."
        )
    return int(pair[0]), int(pair[1])


def grid_feature_mask(shape, patch_size=None) -> torch.Tensor:
    """The default feature mask for inputs of shape ``shape``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the inputs, batch first: ``(N, d)``, ``(N, L, E)`` or ``(N, C, H, W)``.
    patch_size : int or (int, int), optional
        Patch height and width for ``(N, C, H, W)`` inputs. Default: the smallest square patch
        that gives at most 8 x 8 = 64 patches (patches at the right and bottom edges may be
        smaller).

    Returns
    -------
    torch.Tensor of int64
        Broadcastable to ``shape`` and shared by every example:

        - ``(N, d)``: ``(1, d)``, one feature per column;
        - ``(N, L, E)``: ``(1, L, 1)``, one feature per position (token) ``L``;
        - ``(N, C, H, W)``: ``(1, 1, H, W)``, square patches numbered row by row and shared
          across channels.

    Raises
    ------
    ValueError
        For other ranks, or ``patch_size`` with inputs that are not images.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 4:
        H, W = shape[2], shape[3]
        ph, pw = _check_patch_size(patch_size, H, W)
        rows = torch.arange(H) // ph
        cols = torch.arange(W) // pw
        per_row = -(-W // pw)
        return (rows[:, None] * per_row + cols[None, :]).reshape(1, 1, H, W)
    if patch_size is not None:
        raise ValueError(
            f"patch_size applies to images (N, C, H, W) only; got inputs of shape {shape}. "
            "Drop patch_size or pass a feature_mask."
        )
    if len(shape) == 2:
        return torch.arange(shape[1]).reshape(1, shape[1])
    if len(shape) == 3:
        return torch.arange(shape[1]).reshape(1, shape[1], 1)
    raise ValueError(
        f"there is no default feature mask for inputs of shape {shape}; the default covers "
        "(N, d), (N, L, E) and (N, C, H, W). Pass feature_mask=... (integer ids broadcastable "
        "to the inputs)."
    )


def _broadcasts_to(shape, target) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``target`` unchanged (each trailing axis
    1 or equal), without torch's general broadcasting of two shapes."""
    if len(shape) > len(target):
        return False
    return all(a in (1, b) for a, b in zip(reversed(shape), reversed(target), strict=False))


def per_example(t: torch.Tensor, inputs: torch.Tensor, name: str, allowed: str) -> torch.Tensor:
    """``t`` broadcast to ``inputs`` as ``(1, D)`` when it has no batch axis, else ``(N, D)``."""
    if not _broadcasts_to(t.shape, inputs.shape):
        raise ValueError(
            f"{name} of shape {tuple(t.shape)} does not broadcast to the inputs' shape "
            f"{tuple(inputs.shape)}; pass {allowed}."
        )
    N, example = inputs.shape[0], inputs.shape[1:]
    shared = t.dim() < inputs.dim() or t.shape[0] == 1
    if shared:
        t = t[0] if t.dim() == inputs.dim() else t
        return t.expand(example).reshape(1, -1)
    return t.expand(inputs.shape).reshape(N, math.prod(example))  # N may be 0


def compact_ids(mask: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """Map each row's feature ids to ``0..M-1`` in increasing order.

    Parameters
    ----------
    mask : torch.Tensor of int64, shape (R, D)

    Returns
    -------
    ids : torch.Tensor of int64, shape (R, D)
    M : ndarray of int64, shape (R,)
    """
    ordered, order = torch.sort(mask, dim=1)
    new = torch.ones_like(ordered, dtype=torch.int64)
    new[:, 1:] = (ordered[:, 1:] != ordered[:, :-1]).to(torch.int64)
    rank = torch.cumsum(new, dim=1) - 1
    ids = torch.empty_like(rank).scatter_(1, order, rank)
    return ids, (rank[:, -1] + 1).cpu().numpy()


def rows_of(T: torch.Tensor, i: torch.Tensor, r: int | None = None) -> torch.Tensor:
    """Rows ``i`` of ``T`` ``(1 or N, D)``; a shared row, or the row ``r`` when every ``i`` is
    ``r``, is broadcast without a copy."""
    if T.shape[0] == 1:
        return T.expand(len(i), -1)
    if r is not None:
        return T[r : r + 1].expand(len(i), -1)
    return T.index_select(0, i)
