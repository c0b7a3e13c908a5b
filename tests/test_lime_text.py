"""LimeTextExplainer against lime's and on its own: features, samples, weights, HTML, errors."""

from __future__ import annotations

import numpy as np
import pytest

from xai_fast import LimeTextExplainer, TextExplanation
from xai_fast.sampling.lime_draws import text_masks, text_masks_ref

WORDS = "the a film plot was is very it this story good great bad awful fine dull".split()


def _texts(rng, n, length=9):
    return [" ".join(rng.choice(WORDS, length)) + "." for _ in range(n)]


def _pipeline(rng):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X = _texts(rng, 200)
    y = np.array([("good" in t or "great" in t) and "awful" not in t for t in X], dtype=int)
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(X, y).predict_proba


def _word_model(word):
    """Class 1 is likely exactly when ``word`` is in the text."""

    def fn(texts):
        p = np.array([0.9 if word in t.split() else 0.1 for t in texts])
        return np.stack([1 - p, p], 1)

    return fn


@pytest.mark.parametrize("S, d", [(2, 1), (40, 1), (300, 2), (500, 13), (200, 70)])
def test_text_draws_are_lime_calls(S, d, rng):
    seed = int(rng.integers(0, 2**32))
    a, b = np.random.RandomState(seed), np.random.RandomState(seed)
    np.testing.assert_array_equal(text_masks(a, S, d), text_masks_ref(b, S, d))
    assert a.randint(0, 2**31) == b.randint(0, 2**31)  # both left where lime leaves them


@pytest.mark.parametrize(
    "opts",
    [{}, {"bow": False}, {"char_level": True, "bow": False}, {"feature_selection": "none"},
     {"split_expression": lambda s: s.split()}, {"bow": False, "mask_string": "##"}],
)  # fmt: skip
def test_same_as_lime(opts, rng):
    lime_text = pytest.importorskip("lime.lime_text")
    fn = _pipeline(rng)
    text = _texts(rng, 1, 7)[0]
    seed = int(rng.integers(0, 2**31))
    kw = dict(num_samples=600, num_features=6, labels=(0, 1))
    ref = lime_text.LimeTextExplainer(random_state=seed, **opts).explain_instance(text, fn, **kw)
    ours = LimeTextExplainer(random_state=seed, **opts).explain_instance(text, fn, **kw)
    for label in (0, 1):
        a, b = ref.as_list(label), ours.as_list(label)
        assert [str(n) for n, _ in a] == [n for n, _ in b]
        np.testing.assert_allclose([w for _, w in b], [w for _, w in a], rtol=1e-7, atol=1e-10)
        assert ref.as_list(label, positions=True)[0][0] == ours.as_list(label, positions=True)[0][0]
    assert abs(ref.score - ours.score) < 1e-7
    assert list(ref.available_labels()) == ours.available_labels()
    assert {k: [j for j, _ in v] for k, v in ref.as_map().items()} == {
        k: [j for j, _ in v] for k, v in ours.as_map().items()
    }


def test_one_word_model_puts_that_word_on_top(rng):
    word = str(rng.choice(WORDS))
    text = " ".join(rng.permutation([w for w in WORDS if w != word])[:8]) + f" {word} end"
    exp = LimeTextExplainer(random_state=0).explain_instance(text, _word_model(word), labels=(0, 1))
    name, w = exp.as_list(1)[0]
    assert name == word and w > 0.5
    assert exp.as_list(0)[0] == (word, pytest.approx(-w))
    vals = exp.token_values(1)
    assert vals[exp.indexed_string.as_list.index(word)] == pytest.approx(w)


def test_many_texts_equal_one_at_a_time_and_share_calls(rng):
    fn = _pipeline(rng)
    texts = _texts(rng, 4)
    calls = []

    def counted(t):
        calls.append(len(t))
        return fn(t)

    seed = int(rng.integers(0, 2**31))
    many = LimeTextExplainer(random_state=seed).explain_instances(texts, counted, num_samples=300)
    one = LimeTextExplainer(random_state=seed)
    singles = [one.explain_instance(t, fn, num_samples=300) for t in texts]
    assert len(calls) == 1 and calls[0] <= 4 * 300  # one call, each distinct string once
    for a, b in zip(many, singles, strict=True):
        assert isinstance(a, TextExplanation)
        assert [n for n, _ in a.as_list()] == [n for n, _ in b.as_list()]
        np.testing.assert_allclose([w for _, w in a.as_list()], [w for _, w in b.as_list()],
                                   rtol=1e-9, atol=1e-12)  # fmt: skip
    again = LimeTextExplainer(random_state=seed).explain_instance(texts[0], fn, num_samples=300)
    assert again.as_list() == many[0].as_list()


def test_html_and_figure(rng, tmp_path):
    fn = _pipeline(rng)
    exp = LimeTextExplainer(random_state=1).explain_instance(_texts(rng, 1)[0], fn)
    page = exp.as_html()
    assert "<script" not in page and exp.as_list()[0][0] in page
    exp.save_to_file(tmp_path / "exp.html")
    assert (tmp_path / "exp.html").read_text(encoding="utf8") == page
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from xai_fast import plots

    html = plots.text(exp, output="html")
    assert html.count("<span") == len(exp.indexed_string.as_list)
    fig, _ = plots.text(exp)  # outside a notebook: a figure
    fig.savefig(tmp_path / "exp.png")
    fig2 = exp.as_pyplot_figure(1)
    assert len(fig2.axes[0].patches) == len(exp.as_list(1))


def test_bad_inputs_raise_helpful_errors():
    ex = LimeTextExplainer(random_state=0)
    ok = _word_model("a")
    with pytest.raises(ValueError, match="shape"):
        ex.explain_instance("a b c", lambda t: np.zeros(len(t)), num_samples=20)
    with pytest.raises(ValueError, match="NaN"):
        ex.explain_instance("a b c", lambda t: np.full((len(t), 2), np.nan), num_samples=20)
    with pytest.raises(ValueError, match="distance_metric"):
        ex.explain_instance("a b c", ok, distance_metric="nope", num_samples=20)
    with pytest.raises(ValueError, match="no words"):
        ex.explain_instance("...", ok, num_samples=20)
    with pytest.raises(TypeError, match="str"):
        ex.explain_instance(["a b"], ok)
    with pytest.raises(ValueError, match="out of range"):
        ex.explain_instance("a b c", ok, labels=(5,), num_samples=20)
    with pytest.raises(KeyError, match="not explained"):
        ex.explain_instance("a b c", ok, num_samples=20).as_list(0)
    with pytest.raises(ValueError, match="kernel_width"):
        LimeTextExplainer(kernel_width=-1)


def test_explain_instance_takes_batch_size_and_silent(rng, capsys):
    fn = _pipeline(rng)
    text = " ".join(rng.permutation(WORDS)) + "."  # 16 distinct words: hundreds of strings
    sizes = []

    def counted(t):
        sizes.append(len(t))
        return fn(t)

    seed = int(rng.integers(0, 2**31))
    a = LimeTextExplainer(random_state=seed).explain_instance(
        text, counted, num_samples=300, batch_size=50, silent=True
    )
    b = LimeTextExplainer(random_state=seed).explain_instance(text, fn, num_samples=300)
    assert max(sizes) <= 50 and len(sizes) >= 2
    assert a.as_list() == b.as_list()
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="unexpected keyword"):
        LimeTextExplainer().explain_instance(text, fn, num_sample=10)
