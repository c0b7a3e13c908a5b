"""LimeImageExplainer and LimeTextExplainer next to lime's, side by side in one run.

Image: 10 random smooth 64x64 RGB images (floats in 0..255, as lime is often given them),
lime's default quickshift segmentation (scikit-image's for lime, our compiled one with the same
segments for us), a small torch CNN, 1000 samples, lime's ``batch_size=10``. Text: 10
sentences, a TF-IDF + LogisticRegression pipeline trained on 400 generated sentences, 5000
samples. Rounds alternate ours and lime's; reported are medians, their ratio, the time spent
segmenting (one image at a time, apart) and in the model (for both), and agreement (top-5
superpixels, correlation of the text weights).

Run: ``python benchmarks/bench_lime_image_text.py [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from common import alternating_rounds


class Timed:
    """A callable that adds up the time spent inside it."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, 0.0

    def __call__(self, x):
        t = time.perf_counter()
        out = self.fn(x)
        self.seconds += time.perf_counter() - t
        return out


def _rounds(fns: dict, repeats: int) -> dict:
    """Median seconds of each function, the functions alternating within each round."""
    times, _ = alternating_rounds(fns, repeats)
    return {k: statistics.median(v) for k, v in times.items()}


def smooth_images(n, size=64, seed=0):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    raw = rng.uniform(0, 255, size=(n, size, size, 3))
    return np.stack([gaussian_filter(im, sigma=(3, 3, 0)) for im in raw]) * 3 - 255


def small_cnn():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 4, stride=4), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32, 10),
    ).eval()  # fmt: skip

    def fn(imgs):  # (m, H, W, 3) -> (m, 10) probabilities
        x = torch.from_numpy(np.ascontiguousarray(imgs, dtype=np.float32)).permute(0, 3, 1, 2)
        with torch.inference_mode():
            return torch.softmax(net(x / 64.0) * 4, 1).numpy()

    return fn


def image_vs_lime(rounds: int) -> dict:
    from lime.lime_image import LimeImageExplainer as LimeRef
    from skimage.segmentation import quickshift as skimage_quickshift

    from xai_fast import LimeImageExplainer
    from xai_fast.masking.quickshift import quickshift

    images = np.clip(smooth_images(10), 0, 255)
    model = small_cnn()
    seg_time = {}
    for name, fn in (("ours", quickshift), ("scikit-image", skimage_quickshift)):
        fn(images[0], kernel_size=4, max_dist=200, ratio=0.2)  # warm
        seg_t = time.perf_counter()
        for im in images:
            fn(im, kernel_size=4, max_dist=200, ratio=0.2)
        seg_time[name] = (time.perf_counter() - seg_t) / len(images)
    res = {}
    timed = {"ours": Timed(model), "lime": Timed(model)}

    def ours():
        ex = LimeImageExplainer(random_state=0)
        res["ours"] = ex.explain_instances(images, timed["ours"], silent=True)

    def ref():
        ex = LimeRef(random_state=0)
        res["lime"] = [ex.explain_instance(im, timed["lime"]) for im in images]

    ours()  # warm: Numba kernels, torch
    timed["ours"].seconds = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        med = _rounds({"ours": ours, "lime": ref}, rounds)
    same_segments = same_top5 = 0
    for a, b in zip(res["ours"], res["lime"], strict=True):
        same_segments += bool(np.array_equal(a.segments, b.segments))
        label = b.top_labels[0]
        same_top5 += [f for f, _ in a.local_exp[label][:5]] == [
            int(f) for f, _ in b.local_exp[label][:5]
        ]
    n = len(images)
    return {
        "per image ours (s)": med["ours"] / n,
        "per image lime (s)": med["lime"] / n,
        "speed-up": med["lime"] / med["ours"],
        "segmentation per image ours (s)": seg_time["ours"],
        "segmentation per image lime (s, scikit-image)": seg_time["scikit-image"],
        "model per image ours (s)": timed["ours"].seconds / rounds / n,
        "model per image lime (s)": timed["lime"].seconds / rounds / n,
        "superpixels (mean)": float(np.mean([a.segments.max() + 1 for a in res["ours"]])),
        "same segments": f"{same_segments}/{n}",
        "same top-5 superpixels": f"{same_top5}/{n}",
    }


def sentences(rng, n):
    pos = "good great excellent love wonderful fine happy superb".split()
    neg = "bad awful terrible hate poor sad boring worst".split()
    neu = "the movie film plot actor was is a and it this very story scene music".split()
    labels = rng.integers(0, 2, n)
    out = []
    for lab in labels:
        words = list(rng.choice(neu, 9)) + list(rng.choice(pos if lab else neg, 2))
        words += list(rng.choice(pos + neg, 1))
        rng.shuffle(words)
        out.append(" ".join(words) + ".")
    return out, labels


def text_vs_lime(rounds: int) -> dict:
    from lime.lime_text import LimeTextExplainer as LimeRef
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from xai_fast import LimeTextExplainer

    rng = np.random.default_rng(0)
    X, y = sentences(rng, 400)
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(X, y)
    texts, _ = sentences(rng, 10)
    res = {}
    timed = {"ours": Timed(pipe.predict_proba), "lime": Timed(pipe.predict_proba)}

    def ours():
        ex = LimeTextExplainer(random_state=0)
        res["ours"] = ex.explain_instances(texts, timed["ours"], silent=True)

    def ref():
        ex = LimeRef(random_state=0)
        res["lime"] = [ex.explain_instance(t, timed["lime"]) for t in texts]

    ours()
    timed["ours"].seconds = 0.0
    med = _rounds({"ours": ours, "lime": ref}, rounds)
    corr = []
    for a, b in zip(res["ours"], res["lime"], strict=True):
        wa, wb = dict(a.as_list(1)), {str(k): v for k, v in b.as_list(1)}
        keys = sorted(set(wa) | set(wb))
        corr.append(np.corrcoef([wa.get(k, 0) for k in keys], [wb.get(k, 0) for k in keys])[0, 1])
    return {
        "10 sentences ours (s)": med["ours"],
        "10 sentences lime (s)": med["lime"],
        "speed-up": med["lime"] / med["ours"],
        "classifier ours (s)": timed["ours"].seconds / rounds,
        "classifier lime (s)": timed["lime"].seconds / rounds,
        "weight correlation (min over sentences)": float(min(corr)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name, fn in (("image", image_vs_lime), ("text", text_vs_lime)):
        print(f"== {name} ==")
        for k, v in fn(args.rounds).items():
            print(f"  {k:40s} {v:.4g}" if isinstance(v, float) else f"  {k:40s} {v}")


if __name__ == "__main__":
    main()
