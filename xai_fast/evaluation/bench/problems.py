"""The benchmark problems: models, backgrounds, rows to explain and budgets.

Every problem is built from scikit-learn data (nothing is downloaded) and seeded explicitly:
torch initialisation and shuffling draw from a ``torch.Generator``, data splits from
``np.random.default_rng``.

* ``mlp-<d>f-<N>bg``: a ReLU MLP ``d -> 64 -> 64 -> 1`` (float32) trained briefly on
  ``make_classification`` data with ``d`` features; background of ``N`` held-out rows.
* ``gbr-diabetes``: scikit-learn's ``GradientBoostingRegressor`` on ``load_diabetes``
  (10 features), handed to the explainers as the plain callable ``predict``.
* ``cnn-digits``: a small CNN trained on the 8x8 ``load_digits`` images; the features are the
  16 patches of 2x2 pixels, the baseline is a blank image and the target the predicted class.
* ``digits-rgb-<S>`` and ``text-tfidf``: raw RGB images and strings, for the superpixel and
  text explainers (see :mod:`.media_problems`).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import numpy as np

from .media_problems import (
    SuperpixelProblem,
    TextProblem,
    build_superpixel,
    build_text,
    init_uniform_,
)

__all__ = [
    "ImageProblem",
    "Spec",
    "SuperpixelProblem",
    "TabularProblem",
    "TextProblem",
    "build",
    "kernel_budget",
    "specs",
]

#: Modes of the suite: every problem, a subset for ``--quick``, and a tiny one for tests.
MODES = ("full", "quick", "smoke")
#: Hidden widths of the tabular MLPs.
MLP_HIDDEN = (64, 64)
#: Neighbourhood size per row of the tabular LIME runs (lime's default).
LIME_SAMPLES = 5000
#: Points on the integrated-gradients path.
IG_STEPS = 50


def kernel_budget(d: int) -> int:
    """Coalitions per row: ``2 * d + 2048`` (shap's ``"auto"``), at most ``2**d - 2``."""
    return int(min(2 * d + 2048, 2**d - 2))


@dataclass
class TabularProblem:
    """A model on ``(n, d)`` float64 rows.

    Attributes
    ----------
    name, description : str
    model : torch.nn.Module or callable
        ``(n, d) -> (n, 1)`` tensor (module) or ``(n,)`` array (callable).
    background : ndarray, shape (N, d)
    rows : ndarray, shape (n, d)
        Rows to explain.
    train : ndarray, shape (m, d)
        Training data, for LIME's statistics.
    nsamples : int
        Coalitions per row for Kernel SHAP (and ``max_evals`` of shap's Permutation).
    lime_samples : int
        Neighbourhood size per row for LIME.
    """

    name: str
    description: str
    model: object
    background: np.ndarray
    rows: np.ndarray
    train: np.ndarray
    nsamples: int
    lime_samples: int
    kind: str = field(default="tabular", init=False)

    @property
    def n_features(self) -> int:
        return self.rows.shape[1]

    @property
    def n_background(self) -> int:
        return self.background.shape[0]

    @property
    def is_module(self) -> bool:
        import torch

        return isinstance(self.model, torch.nn.Module)


@dataclass
class ImageProblem:
    """A torch classifier on images ``(n, 1, H, W)`` with patch features.

    Attributes
    ----------
    name, description : str
    model : torch.nn.Module
        ``(n, 1, H, W) -> (n, classes)`` logits.
    inputs : torch.Tensor, shape (n, 1, H, W)
    baselines : torch.Tensor, shape (1, 1, H, W)
    target : list of int
        Class explained per image (the predicted one).
    feature_mask : torch.Tensor of int64, shape (1, 1, H, W)
        Patch id of every pixel, ``0..M-1``.
    n_samples : int
        Coalitions (Kernel SHAP, besides the empty and full ones) or perturbations (LIME) per
        image.
    ig_steps : int
    """

    name: str
    description: str
    model: object
    inputs: object
    baselines: object
    target: list
    feature_mask: object
    n_samples: int
    ig_steps: int
    kind: str = field(default="image", init=False)

    @property
    def n_features(self) -> int:
        return int(self.feature_mask.max()) + 1

    @property
    def n_background(self) -> int:
        return 1


@dataclass(frozen=True)
class Spec:
    """A problem to build: its name, kind and settings (building trains the model)."""

    name: str
    kind: str
    settings: dict

    def matches(self, patterns) -> bool:
        """True when ``patterns`` is None or the name matches one of the glob patterns."""
        return patterns is None or any(fnmatch.fnmatch(self.name, p) for p in patterns)


def _mlp_spec(d, N, n_rows, **extra) -> Spec:
    settings = dict(d=d, N=N, n_rows=n_rows, nsamples=kernel_budget(d), lime=LIME_SAMPLES)
    settings.update(extra)
    return Spec(f"mlp-{d}f-{N}bg", "mlp", settings)


def _superpixel_spec(size, n_images, **settings) -> Spec:
    s = dict(size=size, n_images=n_images, epochs=3, n_segments=25, lime=1000, max_evals=500)
    s.update(settings)
    return Spec(f"digits-rgb-{size}", "superpixel", s)


def _text_spec(n_texts, **settings) -> Spec:
    s = dict(n_train=400, n_texts=n_texts, lime=LIME_SAMPLES, max_evals=500)
    s.update(settings)
    return Spec("text-tfidf", "text", s)


def specs(mode: str = "full") -> list[Spec]:
    """The problems of a mode: ``"full"``, ``"quick"`` or ``"smoke"``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}; got {mode!r}.")
    if mode == "smoke":  # tiny: every method once, seconds in all
        return [
            _mlp_spec(6, 2, 2, nsamples=32, lime=64, steps=20),
            _mlp_spec(20, 2, 2, nsamples=64, lime=64, steps=20),
            Spec("cnn-digits", "cnn", dict(n_images=2, patch=4, n_samples=32, epochs=1)),
            _superpixel_spec(16, 2, epochs=1, n_segments=8, lime=40, batch_size=20, max_evals=40),
            _text_spec(2, n_train=200, lime=40, max_evals=40),
        ]
    if mode == "quick":
        out = [_mlp_spec(d, 10, 5) for d in (10, 16, 50)] + [_mlp_spec(50, 100, 3)]
        out.append(Spec("gbr-diabetes", "gbr", dict(N=10, n_rows=5, lime=LIME_SAMPLES)))
        out.append(Spec("cnn-digits", "cnn", dict(n_images=4, patch=2, n_samples=2080, epochs=10)))
        out += [_superpixel_spec(32, 2), _text_spec(5)]
        return out
    out = [_mlp_spec(d, N, 10 if N < 100 else 4) for d in (10, 16, 50, 100) for N in (1, 10, 100)]
    out.append(Spec("gbr-diabetes", "gbr", dict(N=10, n_rows=10, lime=LIME_SAMPLES)))
    out.append(Spec("cnn-digits", "cnn", dict(n_images=8, patch=2, n_samples=2080, epochs=10)))
    out += [_superpixel_spec(32, 8), _text_spec(20)]
    return out


def build(spec: Spec, *, seed: int = 0):
    """Train the model of ``spec`` and return its :class:`TabularProblem`,
    :class:`ImageProblem`, :class:`SuperpixelProblem` or :class:`TextProblem`."""
    s = spec.settings
    if spec.kind == "mlp":
        return _build_mlp(spec.name, s, seed)
    if spec.kind == "gbr":
        return _build_gbr(spec.name, s, seed)
    if spec.kind == "cnn":
        return _build_cnn(spec.name, s, seed)
    if spec.kind == "superpixel":
        return build_superpixel(spec.name, s, seed)
    if spec.kind == "text":
        return build_text(spec.name, s, seed)
    raise ValueError(f"unknown problem kind {spec.kind!r}")


# ---------------------------------------------------------------------------- models
def _build_mlp(name, s, seed) -> TabularProblem:
    import torch
    from sklearn.datasets import make_classification

    d, N, n = s["d"], s["N"], s["n_rows"]
    X, y = make_classification(
        n_samples=1000 + N + n,
        n_features=d,
        n_informative=max(2, d // 2),
        n_redundant=min(d // 4, d - max(2, d // 2)),
        random_state=seed,
    )
    X = (X - X.mean(0)) / X.std(0)
    idx = np.random.default_rng(seed).permutation(len(X))
    train, held = idx[:1000], idx[1000:]
    gen = torch.Generator().manual_seed(seed)
    layers, width = [], d
    for h in MLP_HIDDEN:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    init_uniform_(net, gen)
    Xt = torch.tensor(X[train], dtype=torch.float32)
    yt = torch.tensor(y[train], dtype=torch.float32)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(s.get("steps", 200)):  # full batch: no shuffling to seed
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(Xt), yt).backward()
        opt.step()
    net.eval()
    return TabularProblem(
        name=name,
        description=f"torch MLP {d}-64-64-1 (make_classification), {N}-row background, "
        f"{n} rows, {s['nsamples']} coalitions",
        model=net,
        background=X[held[:N]],
        rows=X[held[N : N + n]],
        train=X[train],
        nsamples=s["nsamples"],
        lime_samples=s["lime"],
    )


def _build_gbr(name, s, seed) -> TabularProblem:
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = load_diabetes(return_X_y=True)
    N, n = s["N"], s["n_rows"]
    idx = np.random.default_rng(seed).permutation(len(X))
    held, train = idx[: N + n], idx[N + n :]
    gbr = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=seed)
    gbr.fit(X[train], y[train])
    d = X.shape[1]
    return TabularProblem(
        name=name,
        description=f"GradientBoostingRegressor (load_diabetes) as a callable, {N}-row "
        f"background, {n} rows, {kernel_budget(d)} coalitions",
        model=gbr.predict,
        background=X[held[:N]],
        rows=X[held[N:]],
        train=X[train],
        nsamples=kernel_budget(d),
        lime_samples=s["lime"],
    )


def _build_cnn(name, s, seed) -> ImageProblem:
    import torch
    from sklearn.datasets import load_digits

    from ...explainers.feature_mask import grid_feature_mask

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    idx = np.random.default_rng(seed).permutation(len(X))
    n = s["n_images"]
    test, train = idx[:n], idx[n:]
    gen = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(128, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 10),
    )
    init_uniform_(net, gen)
    Xt = torch.tensor(X[train], dtype=torch.float32)
    yt = torch.tensor(y[train])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    epochs = s["epochs"]  # a fixed count, not a time limit: the same model on any machine
    for _ in range(epochs):
        perm = torch.randperm(len(Xt), generator=gen)
        for b in range(0, len(Xt), 64):
            i = perm[b : b + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[i]), yt[i]).backward()
            opt.step()
    net.eval()
    inputs = torch.tensor(X[test], dtype=torch.float32)
    with torch.no_grad():
        target = net(inputs).argmax(1).tolist()
    mask = grid_feature_mask(tuple(inputs.shape), patch_size=s["patch"])
    M = int(mask.max()) + 1
    return ImageProblem(
        name=name,
        description=f"CNN on 8x8 digits ({epochs} epochs), {M} patches of "
        f"{s['patch']}x{s['patch']} pixels, blank baseline, {n} images, {s['n_samples']} "
        f"samples, {IG_STEPS}-step IG",
        model=net,
        inputs=inputs,
        baselines=torch.zeros(1, 1, 8, 8),
        target=target,
        feature_mask=mask,
        n_samples=s["n_samples"],
        ig_steps=IG_STEPS,
    )
