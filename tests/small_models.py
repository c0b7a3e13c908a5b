"""Small models several test files share."""

from __future__ import annotations

import torch


def small_cnn(seed: int) -> torch.nn.Module:
    """A conv net on ``(n, 3, H, W)`` images with 4 outputs, weights from ``seed``."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(24, 4),
    ).eval()
