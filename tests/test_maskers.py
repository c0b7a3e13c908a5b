"""The Partition, Image and Text maskers: shap's hierarchies and masked inputs, blur against a
direct computation, errors."""

from __future__ import annotations

import numpy as np
import pytest

import xai_fast as xf
from xai_fast.masking.image_masker import box_blur, image_partition_tree
from xai_fast.masking.partition_rows import unique_pairs
from xai_fast.masking.token_tree import token_tree, tree_tokens

WORDS = "the movie was n't good , and ( really ) bad . it's fun but plot-wise awful ! [SEP]".split()


def _sentence(rng):
    """Random words, the first two alphabetic: on punctuation alone shap's text masker has no
    tokens to cluster and fails."""
    plain = [w for w in WORDS if w.isalpha()]
    head = list(rng.choice(plain, size=2))
    return " ".join(head + list(rng.choice(WORDS, size=int(rng.integers(1, 12)))))


# ---------------------------------------------------------------------------- image
@pytest.mark.parametrize("shape", [(8, 8, 1), (5, 7, 3), (1, 6, 2), (16, 16, 3)])
def test_image_tree_is_shaps(shape):
    shap = pytest.importorskip("shap")
    np.testing.assert_array_equal(
        image_partition_tree(shape), shap.maskers.Image(0.0, shape).clustering
    )


def test_image_masking_is_shaps(rng):
    shap = pytest.importorskip("shap")
    shape = (4, 5, 3)
    x = rng.random(shape).astype(np.float32)
    mv = rng.random(shape)
    mask = rng.random(60) < 0.5
    for value in (0.3, mv):
        (ours,) = xf.maskers.Image(value, shape)(mask, x)
        (theirs,) = shap.maskers.Image(value, shape)(mask, x)
        np.testing.assert_array_equal(ours, theirs)


def test_box_blur_equals_a_direct_window_mean(rng):
    imgs = rng.random((2, 6, 7, 2))
    kx, ky = 3, 4
    out = box_blur(imgs, (kx, ky))

    def reflect(i, n):  # reflection without repeating the edge
        i = abs(i)
        return 2 * (n - 1) - i if i >= n else i

    want = np.zeros_like(imgs)
    for r in range(6):
        for c in range(7):
            rows = [reflect(r + d, 6) for d in range(-(ky // 2), ky - ky // 2)]
            cols = [reflect(c + d, 7) for d in range(-(kx // 2), kx - kx // 2)]
            want[:, r, c] = imgs[:, rows][:, :, cols].mean(axis=(1, 2))
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)


def test_blurred_images_explained_efficiently(rng):
    shape = (6, 6, 1)
    w = rng.normal(size=36)
    images = rng.random((2,) + shape)

    def f(X):
        return np.tanh(X.reshape(len(X), -1) @ w)

    exp = xf.PartitionExplainer(f, xf.maskers.Image("blur(3,3)", shape))(images, max_evals=80)
    blurred = box_blur(images, (3, 3))
    np.testing.assert_allclose(exp.values.reshape(2, -1).sum(1), f(images) - f(blurred), atol=1e-10)
    np.testing.assert_allclose(exp.base_values, f(blurred), rtol=0, atol=1e-12)


def test_image_masker_errors():
    with pytest.raises(TypeError, match="shape must be given"):
        xf.maskers.Image(0.0)
    with pytest.raises(TypeError, match="shape must be given"):
        xf.maskers.Image("blur(3,3)")
    with pytest.raises(ValueError, match="OpenCV"):
        xf.maskers.Image("inpaint_telea", (4, 4, 3))
    with pytest.raises(ValueError, match="blur"):
        xf.maskers.Image("blur(3)", (4, 4, 3))
    with pytest.raises(ValueError, match="partition_scheme"):
        xf.maskers.Image(0.0, (4, 4, 3), partition_scheme=1)
    with pytest.raises(ValueError, match="one value per pixel"):
        xf.maskers.Image(np.zeros(5), (4, 4, 3))
    ex = xf.PartitionExplainer(lambda X: X.sum((1, 2, 3)), xf.maskers.Image(0.0, (4, 4, 3)))
    with pytest.raises(ValueError, match=r"images of shape \(4, 4, 3\)"):
        ex(np.zeros((2, 4, 4, 2)))


def test_unique_pairs_finds_equal_pairs(rng):
    rows = rng.integers(0, 3, size=40)
    Z = rng.random((40, 5)) < 0.3
    first, inverse = unique_pairs(rows, Z)
    np.testing.assert_array_equal(rows[first][inverse], rows)
    np.testing.assert_array_equal(Z[first][inverse], Z)
    assert len({(r, z.tobytes()) for r, z in zip(rows, Z, strict=True)}) == len(first)


# ---------------------------------------------------------------------------- text
def test_text_tokens_segments_and_tree_are_shaps(rng):
    shap = pytest.importorskip("shap")
    theirs, ours = shap.maskers.Text(), xf.maskers.Text()
    for _ in range(20):
        s = _sentence(rng)
        assert ours.feature_names(s) == theirs.feature_names(s)
        np.testing.assert_array_equal(ours.tree_of(s), theirs.clustering(s))


@pytest.mark.parametrize(("mask_token", "collapse"), [(None, "auto"), ("[MASK]", False),
                                                      ("<x>", True)])  # fmt: skip
def test_masked_strings_are_shaps(rng, mask_token, collapse):
    shap = pytest.importorskip("shap")
    theirs = shap.maskers.Text(mask_token=mask_token, collapse_mask_token=collapse)
    ours = xf.maskers.Text(mask_token=mask_token, collapse_mask_token=collapse)
    for _ in range(20):
        s = _sentence(rng)
        T = theirs.shape(s)[1]
        mask = rng.random(T) < 0.5
        assert ours(mask, s)[0].tolist() == theirs(mask, s)[0].tolist()


def test_separators_merge_last_and_stay_shown(rng):
    class Tok:  # a Hugging Face style tokenizer on words, with a separator token
        sep_token = "[SEP]"

        def __call__(self, s, return_offsets_mapping=True):
            spans = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", s)]
            return {"input_ids": [s[a:b] for a, b in spans], "offset_mapping": spans}

    m = xf.maskers.Text(Tok())
    s = "good fun [SEP] bad plot"
    Z = m.tree_of(s)
    M = 5
    root = Z[-1]
    halves = sorted(int(Z[int(c) - M, 3]) if c >= M else 1 for c in root[:2])
    assert halves == [2, 3]  # "good fun" | "[SEP] bad plot"
    # a segment that is the separator itself is never hidden
    assert m(np.zeros(3, dtype=bool), "good fun [SEP]")[0].tolist() == ["...[SEP]"]


def test_callable_tokenizers_and_deletion():
    m = xf.maskers.Text(str.split, mask_token="")
    assert m.feature_names("a  bb c") == [["a", "bb", "c"]]
    assert m(np.array([True, False, True]), "a  bb c")[0].tolist() == ["a c"]
    ids = xf.maskers.Text(None, mask_token=-1, output_type="token_ids")
    with pytest.raises(ValueError, match="integer token ids"):
        ids(np.array([True, False]), "a b")


def test_token_tree_scores_order_merges():
    Z = token_tree(tree_tokens(["I ", "did", "n't ", "go", ", ", "ok"]))
    assert Z.shape == (5, 4)
    assert Z[-1, 3] == 6 and np.isclose(Z[:, 2].max(), 1.0)


def test_text_masker_errors():
    with pytest.raises(TypeError, match="tokenizer"):
        xf.maskers.Text(tokenizer=5)
    with pytest.raises(ValueError, match="output_type"):
        xf.maskers.Text(output_type="ids")
    with pytest.raises(ValueError, match="collapse_mask_token"):
        xf.maskers.Text(collapse_mask_token="yes")
    with pytest.raises(ValueError, match="no tokens"):
        xf.maskers.Text().segments("")
    ex = xf.PartitionExplainer(lambda s: np.zeros(len(s)), xf.maskers.Text())
    with pytest.raises(TypeError, match="list of str"):
        ex([1, 2])


# ---------------------------------------------------------------------------- tabular
def test_partition_clustering_is_shaps_on_continuous_data(rng):
    shap = pytest.importorskip("shap")
    from sklearn.datasets import load_diabetes

    X = load_diabetes().data[rng.permutation(442)[:80]]
    ours = xf.maskers.Partition(X).clustering
    theirs = shap.maskers.Partition(X).clustering
    np.testing.assert_array_equal(ours[:, [0, 1, 3]], theirs[:, [0, 1, 3]])
    np.testing.assert_allclose(ours[:, 2], theirs[:, 2], rtol=0, atol=1e-6)


def test_partition_masker_keeps_shaps_background_rows(rng):
    shap = pytest.importorskip("shap")
    X = rng.normal(size=(150, 4))
    ours = xf.maskers.Partition(X, max_samples=20)
    np.testing.assert_array_equal(ours.data, shap.maskers.Partition(X, max_samples=20).data)
    (rows,) = ours(np.array([True, False, True, False]), X[0])
    np.testing.assert_array_equal(rows[:, 0], np.full(20, X[0, 0]))
    np.testing.assert_array_equal(rows[:, 1], ours.data[:, 1])


def test_partition_masker_errors(rng):
    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="metric"):
        xf.maskers.Partition(X, clustering="nope")
    with pytest.raises(ValueError, match="at least 2 features"):
        xf.maskers.Partition(X[:, :1])
    with pytest.raises(TypeError, match="linkage"):
        xf.maskers.Partition(X, clustering=object())


def test_maskers_save_and_load(rng, tmp_path):
    X = rng.normal(size=(12, 3))
    for masker in (xf.maskers.Partition(X), xf.maskers.Image(0.5, (3, 3, 1)), xf.maskers.Text()):
        path = tmp_path / "m.bin"
        with open(path, "wb") as f:
            masker.save(f)
        with open(path, "rb") as f:
            back = type(masker).load(f)
        assert type(back) is type(masker)
    np.testing.assert_array_equal(back.tree_of("a b c"), masker.tree_of("a b c"))
    with open(path, "rb") as f, pytest.raises(TypeError, match="holds a Text"):
        xf.maskers.Image.load(f)


def test_a_partition_masker_without_hierarchy_is_refused(rng):
    masker = xf.maskers.Partition(rng.normal(size=(5, 3)), clustering=None)
    with pytest.raises(ValueError, match="no hierarchy"):
        xf.PartitionExplainer(lambda A: A.sum(1), masker)
