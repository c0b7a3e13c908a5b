"""ImageExplanation: lime's explanation of an image by its superpixels."""

from __future__ import annotations

import numpy as np

__all__ = ["ImageExplanation"]


class ImageExplanation:
    """The superpixel weights of one image, with lime's ``get_image_and_mask``.

    Attributes
    ----------
    image : ndarray, shape (H, W, C)
    segments : ndarray of int, shape (H, W)
        Superpixel of each pixel, ``0 .. M - 1``.
    local_exp : dict[int, list of (int, float)]
        Per label, superpixels and their weights, largest ``|weight|`` first.
    intercept, scores, local_preds : dict[int, float]
    score : float
        Weighted R^2 of the last label fitted (the most probable one with ``top_labels``).
    local_pred : ndarray, shape (1,)
    top_labels : list of int or None
        Most probable first.
    predict_proba : ndarray, shape (k,)
        The classifier's output on the image.
    """

    def __init__(self, image, segments):
        self.image = image
        self.segments = segments
        self.intercept: dict = {}
        self.local_exp: dict = {}
        self.scores: dict = {}
        self.local_preds: dict = {}
        self.score = None
        self.local_pred = None
        self.top_labels = None
        self.predict_proba = None

    def __repr__(self) -> str:
        M = int(self.segments.max()) + 1
        return f"ImageExplanation(superpixels={M}, labels={list(self.local_exp)})"

    def weights(self, label) -> np.ndarray:
        """Weight of every superpixel for ``label``: ``(M,)`` (0 where not selected)."""
        w = np.zeros(int(self.segments.max()) + 1)
        for f, v in self._exp(label):
            w[f] = v
        return w

    def _exp(self, label):
        if label not in self.local_exp:
            raise KeyError(
                f"label {label} is not in the explanation; explained labels: "
                f"{sorted(self.local_exp)}. Pass labels=(...) or top_labels=k."
            )
        return self.local_exp[label]

    def get_image_and_mask(
        self,
        label,
        positive_only=True,
        negative_only=False,
        hide_rest=False,
        num_features=5,
        min_weight=0.0,
    ):
        """The image with the explaining superpixels shown, and their mask (lime's).

        Parameters
        ----------
        label : int
        positive_only, negative_only : bool
            Only superpixels that raise (lower) the label's probability; neither: both, the
            mask holding +1 and -1 and the superpixels tinted (channel 1 for positive, 0 for
            negative) with the image's maximum.
        hide_rest : bool
            Zero the pixels outside the chosen superpixels (the image is then float64).
        num_features : int
            How many superpixels (among the largest ``|weight|``).
        min_weight : float
            Superpixels with a smaller weight (``|weight|``) are left out.

        Returns
        -------
        image : ndarray, shape (H, W, C)
        mask : ndarray, shape (H, W), dtype of ``segments``
            For ``skimage.segmentation.mark_boundaries``.
        """
        exp = self._exp(label)
        if positive_only and negative_only:
            raise ValueError("positive_only and negative_only cannot both be True.")
        ids = np.array([f for f, _ in exp], dtype=np.int64)
        ws = np.array([w for _, w in exp], dtype=np.float64)
        seg, image = self.segments, self.image
        temp = np.zeros(image.shape) if hide_rest else image.copy()
        sign = np.zeros(int(seg.max()) + 1, dtype=np.int64)  # per superpixel: -1, 0 or 1
        if positive_only or negative_only:
            keep = (ws > 0) & (ws > min_weight) if positive_only else (ws < 0)
            if negative_only:
                keep &= np.abs(ws) > min_weight
            sign[ids[keep][:num_features]] = 1
        else:
            top, wt = ids[:num_features], ws[:num_features]
            big = np.abs(wt) >= min_weight
            sign[top[big]] = np.where(wt[big] < 0, -1, 1)
        s = sign[seg]  # (H, W)
        on = s != 0
        temp[on] = image[on]
        if not (positive_only or negative_only):
            top_value = np.max(image)
            temp[s > 0, 1] = top_value
            temp[s < 0, 0] = top_value
        return temp, s.astype(seg.dtype)
