"""One call of the Game on the torch masker, for the tests that compare sending every row
with sending each distinct one once."""

from __future__ import annotations

import xai_fast as xf
from xai_fast.backends import get_backend
from xai_fast.background import as_background
from xai_fast.masking import Game
from xai_fast.masking.background_torch import BackgroundTorchMasker


def torch_game_run(net, B, Z, X, var_idx, dedup_rows):
    """The values ``(n, S, k)`` (numpy) of a torch-masker Game on ``net`` (a module counting
    its rows in ``net.rows``) and the rows it was sent."""
    model = xf.ModelAdapter(net, dedup_rows=dedup_rows)
    masker = BackgroundTorchMasker(model, as_background(B), get_backend("torch"))
    net.rows = 0
    return Game(model, masker).evaluate(Z, X, var_idx).cpu().numpy(), net.rows
