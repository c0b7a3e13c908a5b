"""Image LIME, a drop-in for ``lime.lime_image.LimeImageExplainer``, batched over images.

Data flow: segmentation (scikit-image through :class:`SegmentationAlgorithm`, or the user's
function) -> lime's binary samples of the superpixels, drawn from lime's ``RandomState`` stream
(:mod:`xai_fast.sampling.lime_draws`) -> the perturbed images, built a batch at a time without
a loop over samples (:mod:`xai_fast.masking.lime_image`) -> the classifier, ``batch_size``
images per call, batches running on from one image to the next -> each image's weighted ridge
(the tabular explainer's compiled selection and ridge kernels).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._runtime.heap_warmup import warm_heap
from .._runtime.progress import Progress
from .._validation import check_int, check_no_kwargs, check_positive_int, explained_init
from ..backends import get_backend
from ..compat.lime_explanation import fill_labels
from ..compat.lime_image_explanation import ImageExplanation
from ..compat.lime_segmentation import SegmentationAlgorithm
from ..masking.lime_image import (
    as_rgb,
    check_segments,
    fudged_image,
    perturbed_images,
    warn_if_channels_first,
)
from ..masking.quickshift import quickshift
from ..sampling.lime_draws import image_masks
from ._lime_binary import (
    call_classifier,
    chosen_labels,
    fit_instance,
    lime_random_state,
    resolve_kernel,
)

__all__ = ["LimeImageExplainer"]

CALL_ARGS = (
    "labels", "hide_color", "top_labels", "num_features", "num_samples", "batch_size",
    "segmentation_fn", "distance_metric", "model_regressor", "random_seed", "silent",
)  # fmt: skip


@explained_init
class LimeImageExplainer:
    """LIME for images with ``lime``'s arguments, defaults and samples.

    Parameters
    ----------
    kernel_width : float, default 0.25
        Width of the kernel on the cosine distance between a sample and the image (in the
        space of superpixels kept).
    kernel : callable, optional
        ``kernel(distances, kernel_width) -> weights`` on an array of distances; default
        ``sqrt(exp(-d**2 / width**2))``.
    verbose : bool
        Print each surrogate's intercept, local prediction and the classifier's value.
    feature_selection : {"auto", "forward_selection", "highest_weights", "lasso_path", "none"}
    random_state : int, numpy RandomState or None
        An int seeds a generator of the explainer's own and a RandomState is used as it is:
        either way every call advances it and draws exactly lime's numbers (the same samples,
        so the same explanation as lime's explainer with the same ``random_state`` making the
        same calls). ``None``: a generator seeded from numpy's global one (read, not advanced).
    """

    def __init__(
        self, kernel_width=0.25, kernel=None, verbose=False, feature_selection="auto",
        random_state=None,
    ):  # fmt: skip
        self.kernel, self.kernel_width, self.feature_selection = resolve_kernel(
            kernel, kernel_width, feature_selection
        )
        self.verbose = bool(verbose)
        self.random_state = lime_random_state(random_state)

    def explain_instance(
        self, image, classifier_fn, labels=(1,), hide_color=None, top_labels=5,
        num_features=100000, num_samples=1000, batch_size=10, segmentation_fn=None,
        distance_metric="cosine", model_regressor=None, random_seed=None, *, silent=False,
        **kwargs,
    ) -> ImageExplanation:  # fmt: skip
        """Explain one image (lime's ``explain_instance``); see :meth:`explain_instances`."""
        check_no_kwargs(kwargs, "explain_instance()", CALL_ARGS)
        return self.explain_instances(
            [as_rgb(image)], classifier_fn, labels, hide_color, top_labels, num_features,
            num_samples, batch_size, segmentation_fn, distance_metric, model_regressor,
            random_seed, silent=silent,
        )[0]  # fmt: skip

    def explain_instances(
        self, images, classifier_fn, labels=(1,), hide_color=None, top_labels=5,
        num_features=100000, num_samples=1000, batch_size=10, segmentation_fn=None,
        distance_metric="cosine", model_regressor=None, random_seed=None, *, silent=False,
        **kwargs,
    ) -> list:  # fmt: skip
        """Explain many images, their perturbed images sharing the classifier's calls.

        The images draw from ``random_state`` in order, so the result equals calling
        :meth:`explain_instance` on each in turn.

        Parameters
        ----------
        images : sequence of arrays (H, W) or (H, W, C), or ndarray (n, H, W, C)
            Channels last; grey images get three channels (lime's ``gray2rgb``).
        classifier_fn : callable
            ``(m, H, W, C)`` array -> ``(m, k)`` class probabilities.
        labels : sequence of int, default (1,)
            Used when ``top_labels`` is None.
        hide_color : scalar or sequence, optional
            Colour of switched-off superpixels; default each superpixel's mean colour.
        top_labels : int or None, default 5
            Explain the ``top_labels`` most probable classes of each image.
        num_features : int, default 100000
        num_samples : int, default 1000
            Samples per image, the image itself included.
        batch_size : int, default 10
            Images per classifier call (lime's meaning).
        segmentation_fn : callable, optional
            ``(H, W, C) -> (H, W)`` labels; default lime's quickshift (``kernel_size=4,
            max_dist=200, ratio=0.2``). It runs on worker threads, at the same time as
            ``classifier_fn`` on earlier images: the two must not share state that is unsafe
            across threads.
        distance_metric : str, default "cosine"
        model_regressor : scikit-learn regressor, optional
            Fitted with ``sample_weight`` instead of ``Ridge(alpha=1)``.
        random_seed : int, optional
            lime's seed of the segmentation; None draws one from ``random_state`` per image.
        silent : bool, default False, keyword-only
            Hide the progress bar (shown once the call has taken 2 s).

        Returns
        -------
        list of ImageExplanation
        """
        check_no_kwargs(kwargs, "explain_instances()", CALL_ARGS)
        if not callable(classifier_fn):
            raise TypeError(
                f"classifier_fn must be callable (m, H, W, C) -> (m, k); got "
                f"{type(classifier_fn).__name__}."
            )
        S = check_int(num_samples, "num_samples", 2)
        n_feat = check_int(num_features, "num_features", 1)
        batch = check_positive_int(batch_size, "batch_size")
        warm_heap()  # the classifier's batches of images are large temporaries
        if isinstance(images, np.ndarray) and images.ndim in (3, 4):
            images = list(images)  # (n, H, W) grey or (n, H, W, C)
        rgb = [as_rgb(im) for im in images]
        for im in rgb:
            warn_if_channels_first(im)
        if not rgb:
            return []
        prepared, Y = self._outputs(
            self._prepared(rgb, segmentation_fn, hide_color, random_seed, S), len(rgb) * S,
            classifier_fn, batch, silent,
        )  # fmt: skip
        out = []
        for (img, seg, _, Z), y in zip(prepared, Y, strict=True):
            chosen, top = chosen_labels(y[0], labels, top_labels)
            fits = fit_instance(Z, y, chosen, self, n_feat, 1.0, distance_metric, model_regressor)
            exp = ImageExplanation(img, seg)
            exp.top_labels, exp.predict_proba = top, y[0].copy()
            fill_labels(exp, fits, 0, chosen, chosen, self.verbose, y[0])
            out.append(exp)
        return out

    # ------------------------------------------------------------------ internals
    def _prepared(self, images, segmentation_fn, hide_color, random_seed, S):
        """Every image's ``(image, segments, fudged, Z)`` in turn, drawing from
        ``random_state`` in lime's order (per image: the segmentation's seed when not given,
        then the ``(S, M)`` samples). The segmentations need no seed (a user's function gets
        only the image, and scikit-image's quickshift no longer takes one), so they run on
        threads ahead: image ``i`` is sampled and sent to the classifier while later images
        are being segmented."""
        rs = self.random_state
        default = SegmentationAlgorithm(
            "quickshift", kernel_size=4, max_dist=200, ratio=0.2, random_seed=0
        ) if segmentation_fn is None else None  # fmt: skip
        if default is not None and "random_seed" in default.target_params:  # old scikit-image
            for im in images:
                yield self._prepare_one(im, None, hide_color, random_seed, S)
            return
        fns = [segmentation_fn or default] * len(images)
        if default is not None and default.target_fn is quickshift:
            # the first image on every core (nothing else runs yet), the rest on one thread
            # each beside the classifier (8% less time per image, in one process, than every
            # image on every core)
            rest = SegmentationAlgorithm("quickshift", **default.target_params, threads=1)
            fns[1:] = [rest] * (len(images) - 1)
        # one core is left to the classifier; the others segment the images ahead
        workers = max(1, min(len(images), (os.cpu_count() or 1) - 1))
        ex = ThreadPoolExecutor(max_workers=workers)
        try:
            for im, seg in zip(images, ex.map(lambda f, im: f(im), fns, images), strict=True):
                if random_seed is None:
                    rs.randint(0, high=1000)
                seg = check_segments(seg, im.shape)
                yield (im, seg, fudged_image(im, seg, hide_color),
                       image_masks(rs, S, int(seg.max()) + 1))  # fmt: skip
        finally:  # an error or an interrupt: drop the segmentations not begun
            ex.shutdown(wait=True, cancel_futures=True)

    def _prepare_one(self, image, segmentation_fn, hide_color, random_seed, S):
        """One image's ``(image, segments, fudged, Z)``, the seed drawn before segmenting."""
        rs = self.random_state
        seed = rs.randint(0, high=1000) if random_seed is None else random_seed
        if segmentation_fn is None:
            segmentation_fn = SegmentationAlgorithm(
                "quickshift", kernel_size=4, max_dist=200, ratio=0.2, random_seed=seed
            )
        seg = check_segments(segmentation_fn(image), image.shape)
        fudged = fudged_image(image, seg, hide_color)
        return image, seg, fudged, image_masks(rs, S, int(seg.max()) + 1)

    @staticmethod
    def _outputs(prepared, total, classifier_fn, batch, silent):
        """The prepared images as a list, and the classifier's outputs on each image's
        samples: one ``(S, k)`` per image.

        Batches of ``batch`` perturbed images go to the classifier in sample order, running on
        from one image to the next while the images have one shape."""
        bar = Progress(total, "LIME image", enabled=not silent)
        done, ys, k, pending, shape = [], [], None, [], None
        blocks = _perturbed_blocks(prepared, done, batch)

        def send(parts):
            nonlocal k
            x = parts[0] if len(parts) == 1 else np.concatenate(parts)
            ys.append(call_classifier(classifier_fn, x, k))
            k = ys[-1].shape[1]
            bar.update(len(x))

        try:
            for x in blocks:  # (b, H, W, C)
                if x.shape[1:] != shape and pending:
                    send(pending)
                    pending = []
                shape = x.shape[1:]
                pos = 0
                if pending:  # complete the batch begun by the previous image
                    pos = min(batch - sum(map(len, pending)), len(x))
                    pending.append(x[:pos])
                    if sum(map(len, pending)) < batch:
                        continue
                    send(pending)
                    pending = []
                for b in range(pos, len(x) - batch + 1, batch):
                    send([x[b : b + batch]])
                rest = pos + (len(x) - pos) // batch * batch
                if rest < len(x):
                    pending = [x[rest:]]
            if pending:
                send(pending)
        finally:
            bar.close()
            blocks.close()
            prepared.close()
        ends = np.cumsum([len(p[3]) for p in done])
        Yall = np.concatenate(ys) if ys else np.zeros((0, 0))
        return done, np.split(Yall, ends[:-1])


#: Perturbed images are built in blocks of about this many bytes, to be read from the cache.
BLOCK_BYTES = 2**21


def _perturbed_blocks(prepared, done, batch):
    """The perturbed images of each prepared image (appended to ``done`` as it comes), in
    blocks of about 2 MB, so that the classifier reads them from the cache. The next block is
    built on a thread while the caller classifies this one (the kernel releases the GIL; in
    one process, alternating: 8-12% faster than building them in turn)."""
    fill = get_backend().fill_superpixel_images
    with ThreadPoolExecutor(max_workers=1) as builder:
        ahead = None
        for img, seg, fud, Z in prepared:
            done.append((img, seg, fud, Z))
            size = max(batch, (BLOCK_BYTES // max(img.nbytes, 1)) // batch * batch)
            for c in range(0, len(Z), size):
                job = builder.submit(perturbed_images, img, fud, seg, Z[c : c + size], fill)
                if ahead is not None:
                    yield ahead.result()
                ahead = job
        if ahead is not None:
            yield ahead.result()
