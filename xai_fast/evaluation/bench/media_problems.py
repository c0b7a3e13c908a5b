"""The superpixel and text problems of the suite, for the explainers that take raw images and
strings (lime's image and text explainers, shap's Partition with its Image and Text maskers).

* ``digits-rgb-<S>``: the 8x8 ``load_digits`` images resized (bilinear) to ``S x S`` and
  coloured to three channels in [0, 1], channels last, with a small torch CNN trained on them
  for a fixed number of epochs; the model is a numpy callable ``(m, S, S, 3) -> (m, 10)`` class
  probabilities, as users hand it to lime and shap. The explained class is the predicted one.
* ``text-tfidf``: a scikit-learn ``TfidfVectorizer`` + ``LogisticRegression`` pipeline trained
  on synthetic reviews; the model is its ``predict_proba`` on a list of strings. The explained
  reviews share one template, so every one has the same tokens and distinct words.

Everything is seeded (``np.random.default_rng``, a ``torch.Generator``); nothing is downloaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SuperpixelProblem", "TextProblem", "build_superpixel", "build_text", "init_uniform_"]

#: Channel mixing of the coloured digits: ink and paper colours of every channel.
INK = np.array([0.9, 0.55, 0.1])
PAPER = np.array([0.1, 0.35, 0.85])


def init_uniform_(module, gen) -> None:
    """Re-initialise every parameter uniformly in +-1/sqrt(fan_in), from ``gen``."""
    import torch

    with torch.no_grad():
        for p in module.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            p.uniform_(-1.0, 1.0, generator=gen).mul_(1.0 / math.sqrt(fan_in))


@dataclass
class SuperpixelProblem:
    """A classifier on RGB images ``(n, S, S, 3)`` (channels last, float64 in [0, 1]).

    Attributes
    ----------
    name, description : str
    model : callable
        ``(m, S, S, 3)`` array -> ``(m, 10)`` class probabilities.
    images : ndarray, shape (n, S, S, 3)
        Images to explain.
    target : list of int
        The predicted class of every image.
    n_segments : int
        SLIC's ``n_segments`` (``compactness=10``, ``start_label=0``) for the LIME runs.
    lime_samples : int
        LIME samples per image (the image itself included).
    batch_size : int
        Images per classifier call of the LIME runs (lime's meaning).
    max_evals : int
        Model evaluations per image of the Partition runs.
    mask_value : float
        The Image masker's value of a hidden pixel.
    """

    name: str
    description: str
    model: object
    images: np.ndarray
    target: list
    n_segments: int
    lime_samples: int
    batch_size: int
    max_evals: int
    mask_value: float = 0.0
    kind: str = field(default="superpixel", init=False)

    @property
    def n_features(self) -> int:
        return int(np.prod(self.images.shape[1:]))

    @property
    def n_background(self) -> int:
        return 1

    def alone_inputs(self, n: int, seed: int) -> np.ndarray:
        """``n`` random images of the problem's shape, for the model-alone timing."""
        rng = np.random.default_rng(seed)
        return rng.random((n, *self.images.shape[1:]), dtype=np.float32)


@dataclass
class TextProblem:
    """A text classifier on lists of strings.

    Attributes
    ----------
    name, description : str
    model : callable
        List or array of ``m`` str -> ``(m, 2)`` class probabilities.
    texts : list of str
        Texts to explain (class 1, "positive", is explained).
    train : list of str
        Training texts (the model-alone timing draws from them).
    n_words : int
        Distinct words of every explained text (LIME's features).
    lime_samples : int
        LIME samples per text (the text itself included).
    max_evals : int
        Model evaluations per text of the Partition runs.
    """

    name: str
    description: str
    model: object
    texts: list
    train: list
    n_words: int
    lime_samples: int
    max_evals: int
    kind: str = field(default="text", init=False)

    @property
    def n_features(self) -> int:
        return self.n_words

    @property
    def n_background(self) -> int:
        return 1

    def alone_inputs(self, n: int, seed: int) -> np.ndarray:
        """``n`` training texts drawn at random, for the model-alone timing."""
        rng = np.random.default_rng(seed)
        return np.asarray(self.train, dtype=object)[rng.integers(0, len(self.train), n)]


# ---------------------------------------------------------------------------- images
def _rgb_digits(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``load_digits`` as ``(n, size, size, 3)`` float64 images in [0, 1] and their labels."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    grey = torch.tensor(X / 16.0, dtype=torch.float64).reshape(-1, 1, 8, 8)
    grey = torch.nn.functional.interpolate(grey, size=(size, size), mode="bilinear")
    g = grey.clamp(0.0, 1.0).numpy()[:, 0, :, :, None]  # (n, S, S, 1)
    return g * INK + (1.0 - g) * PAPER, y


class _Probabilities:
    """A channel-first torch CNN as a numpy callable on channel-last images: softmax outputs."""

    def __init__(self, net):
        self.net = net

    def __call__(self, images):
        import torch

        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        with torch.inference_mode():
            p = torch.softmax(self.net(x.permute(0, 3, 1, 2)), dim=1)
        return p.numpy().astype(np.float64)


def build_superpixel(name: str, s: dict, seed: int) -> SuperpixelProblem:
    """Train the CNN of a ``digits-rgb-<S>`` problem and pick the images to explain."""
    import torch

    size, n, epochs = s["size"], s["n_images"], s["epochs"]
    X, y = _rgb_digits(size)
    idx = np.random.default_rng(seed).permutation(len(X))
    test, train = idx[:n], idx[n:]
    gen = torch.Generator().manual_seed(seed)
    flat = 8 * (size // 4) ** 2
    with torch.random.fork_rng(devices=[]):  # the layers' default init: torch's state restored
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(4),
            torch.nn.Flatten(),
            torch.nn.Linear(flat, 32),
            torch.nn.ReLU(),
            torch.nn.Linear(32, 10),
        )
    init_uniform_(net, gen)
    Xt = torch.tensor(X[train], dtype=torch.float32).permute(0, 3, 1, 2).contiguous()
    yt = torch.tensor(y[train])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(epochs):  # a fixed count: the same model on any machine
        perm = torch.randperm(len(Xt), generator=gen)
        for b in range(0, len(Xt), 64):
            i = perm[b : b + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[i]), yt[i]).backward()
            opt.step()
    net.eval()
    model = _Probabilities(net)
    images = X[test]
    target = model(images).argmax(1).tolist()
    return SuperpixelProblem(
        name=name,
        description=f"CNN on {size}x{size} RGB digits ({epochs} epochs), {n} images, "
        f"predicted class; LIME: SLIC ~{s['n_segments']} superpixels, {s['lime']} samples; "
        f"Partition: masker Image(0), max_evals {s['max_evals']}",
        model=model,
        images=images,
        target=target,
        n_segments=s["n_segments"],
        lime_samples=s["lime"],
        batch_size=s.get("batch_size", 100),
        max_evals=s["max_evals"],
    )


# ---------------------------------------------------------------------------- texts
POSITIVE = ("good", "great", "excellent", "wonderful", "superb", "charming", "lovely", "fun")
NEGATIVE = ("bad", "awful", "boring", "terrible", "dull", "poor", "weak", "bland")
NOUNS = ("plot", "acting", "music", "story", "cast", "ending", "script", "camera", "pace")
DEGREES = {"very": 1.5, "really": 1.3, "quite": 1.0, "slightly": 0.5, "rather": 0.8}
#: Templates of the training reviews; the explained reviews use the first one.
TEMPLATES = (
    "the {n0} was {d0} {a0} but the {n1} was {a1} and the {n2} felt {d1} {a2}",
    "the {n0} was {a0}",
    "{d0} {a0} {n0} and {a1} {n1}",
    "the {n0} felt {d0} {a0} while the {n1} was {d1} {a1}",
    "a {a0} film with a {a1} {n0}",
)
#: Distinct words of the first template (its tokens less the repeated "the" and "was").
N_WORDS = 14


def _review(rng, template: str) -> tuple[str, float]:
    """One review from ``template`` and its sentiment score."""
    adjectives = POSITIVE + NEGATIVE
    a = [adjectives[i] for i in rng.choice(len(adjectives), 3, replace=False)]
    n = [NOUNS[i] for i in rng.choice(len(NOUNS), 3, replace=False)]
    d = [list(DEGREES)[i] for i in rng.choice(len(DEGREES), 2, replace=False)]
    words = {f"a{i}": w for i, w in enumerate(a)}
    words |= {f"n{i}": w for i, w in enumerate(n)} | {f"d{i}": w for i, w in enumerate(d)}
    text = template.format(**words)
    score, degree = 0.0, 1.0
    for w in text.split():
        if w in DEGREES:
            degree = DEGREES[w]
        elif w in adjectives:
            score += degree * (1.0 if w in POSITIVE else -1.0)
            degree = 1.0
    return text, score


def build_text(name: str, s: dict, seed: int) -> TextProblem:
    """Train the pipeline of ``text-tfidf`` on synthetic reviews and pick the ones to explain."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(seed)
    n_train, n = s["n_train"], s["n_texts"]
    train, labels = [], []
    for i in range(n_train):
        text, score = _review(rng, TEMPLATES[i % len(TEMPLATES)])
        train.append(text)
        labels.append(int(score + rng.logistic(scale=0.5) > 0))
    texts = [_review(rng, TEMPLATES[0])[0] for _ in range(n)]
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(train, labels)
    return TextProblem(
        name=name,
        description=f"TF-IDF + LogisticRegression on {n_train} synthetic reviews, {n} texts "
        f"of 16 tokens ({N_WORDS} distinct words), class 1; LIME {s['lime']} samples; "
        f"Partition: masker Text(), max_evals {s['max_evals']}",
        model=pipe.predict_proba,
        texts=texts,
        train=train,
        n_words=N_WORDS,
        lime_samples=s["lime"],
        max_evals=s["max_evals"],
    )
