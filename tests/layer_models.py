"""Small float64 models for the layer tests: an MLP, a CNN, a two-input model with an extra
forward argument, and two token models (embedding + LSTM, embedding + tanh + mean)."""

from __future__ import annotations

import torch
from torch import nn


def init(module, rng):
    """Fresh weights from ``rng``, in float64."""
    module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.as_tensor(rng.normal(scale=0.6, size=tuple(p.shape))))
    return module.eval()


def mlp(rng):
    return init(
        nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3)),
        rng,
    )


class CNN(nn.Module):
    def __init__(self, pool="max"):
        super().__init__()
        self.conv1, self.relu1 = nn.Conv2d(2, 4, 3), nn.ReLU()
        self.conv2, self.relu2 = nn.Conv2d(4, 5, 3), nn.ReLU()
        self.pool = nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)
        self.fc = nn.Linear(5 * 2 * 2, 3)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        x = self.pool(self.relu2(self.conv2(x)))
        return self.fc(x.flatten(1))


def cnn(rng, pool="max"):
    """Max pooling, or average pooling (where captum's DeepLift rules are right)."""
    return init(CNN(pool), rng)


class TwoInput(nn.Module):
    """f(a, b, scale): two branches added at ``mix``, which takes two tensors."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 6), nn.Linear(3, 6)
        self.tanh, self.sigmoid = nn.Tanh(), nn.Sigmoid()
        self.mix = Mix()
        self.head = nn.Linear(6, 3)

    def forward(self, a, b, scale):
        return self.head(self.mix(self.tanh(self.a(a)), self.sigmoid(self.b(b))) * scale)


class Mix(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()

    def forward(self, u, v):
        return self.relu(u + v)


def two_input(rng):
    return init(TwoInput(), rng)


class LSTMText(nn.Module):
    def __init__(self, vocab=20):
        super().__init__()
        self.emb = nn.Embedding(vocab, 6)
        self.lstm = nn.LSTM(6, 5, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, ids):
        out, _ = self.lstm(self.emb(ids))
        return self.fc(out[:, -1])


class BagText(nn.Module):
    """Embedding, a tanh layer per token, the mean over tokens, a linear head."""

    def __init__(self, vocab=20):
        super().__init__()
        self.emb = nn.Embedding(vocab, 6)
        self.proj, self.act = nn.Linear(6, 7), nn.Tanh()
        self.fc = nn.Linear(7, 3)

    def forward(self, ids):
        return self.fc(self.act(self.proj(self.emb(ids))).mean(1))


def lstm_text(rng):
    return init(LSTMText(), rng)


def bag_text(rng):
    return init(BagText(), rng)


def t(rng, *shape):
    return torch.as_tensor(rng.normal(size=shape))


def ids(rng, n, length=7, vocab=20):
    return torch.as_tensor(rng.integers(1, vocab, size=(n, length)))


def no_hooks(model) -> bool:
    """Whether no forward hook or pre-hook is left on any module of ``model``."""
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
