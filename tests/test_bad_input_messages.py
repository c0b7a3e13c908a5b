"""Bad input to the tabular, LIME and tensor front doors gets an error that says what was
expected and how to fix it (never a raw numpy/torch/re error, never NaN values)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xai_fast as xf


def _proba(A):
    p = 1 / (1 + np.exp(-np.asarray(A, dtype=np.float64).sum(1)))
    return np.stack([1 - p, p], 1)


def _with_nan(rng, n, d, row):
    A = rng.normal(size=(n, d))
    A[row, 1] = np.nan
    return A


def test_nan_in_the_data_is_named_as_the_cause(rng):
    def f(A):
        return np.asarray(A) @ np.ones(4)

    B = rng.normal(size=(8, 4))
    with pytest.raises(ValueError, match=r"for 1 of 8 rows \(first rows: \[5\]\), whose inputs "):
        xf.KernelExplainer(f, _with_nan(rng, 8, 4, 5))
    with pytest.raises(
        ValueError, match=r"1 of 3 rows \(first rows: \[2\]\), whose inputs contain"
    ):
        xf.KernelExplainer(f, B).shap_values(_with_nan(rng, 3, 4, 2), silent=True)
    net = torch.nn.Linear(4, 1)
    with pytest.raises(ValueError, match=r"\[2\]\), whose inputs contain NaN"):
        xf.KernelExplainer(net, B).shap_values(_with_nan(rng, 3, 4, 2), silent=True)
    # a model that makes NaN itself is still told to fix the model
    with pytest.raises(ValueError, match="Fix the model or its inputs"):
        xf.KernelExplainer(lambda A: np.where(np.asarray(A)[:, 0] > 0, np.nan, 1.0), B)
    with pytest.raises(ValueError, match=r"training_data contains NaN .* 1 of 20 rows .*\[7\]"):
        xf.LimeTabularExplainer(_with_nan(rng, 20, 4, 7))
    # without bins, the statistics skip NaN (lime's StandardScaler); infinity is refused
    ok = xf.LimeTabularExplainer(_with_nan(rng, 20, 4, 7), discretize_continuous=False)
    assert np.isfinite(ok.explain_instance(np.zeros(4), _proba, num_samples=50).intercept[1])
    inf = _with_nan(rng, 20, 4, 3)
    inf[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"training_data contains infinity in 1 of 20 rows"):
        xf.LimeTabularExplainer(inf, discretize_continuous=False)


def test_nan_aware_models_still_explain_rows_with_nan(rng):
    def f(A):  # NaN counts as 0, as a model trained with missing values might
        return np.nan_to_num(np.asarray(A, dtype=np.float64)) @ np.arange(1.0, 5.0)

    B = rng.normal(size=(8, 4))
    X = _with_nan(rng, 2, 4, 1)
    phi = xf.KernelExplainer(f, B).shap_values(X, silent=True)
    np.testing.assert_allclose(phi[0], (X[0] - B.mean(0)) * np.arange(1.0, 5.0), atol=1e-10)
    assert np.isfinite(phi).all()


@pytest.mark.parametrize("labels", [1, ("a",), [None], (1.7,), "12", (True,), np.array([1.0])])
def test_lime_tabular_labels_must_be_class_indices(rng, labels):
    B = rng.normal(size=(20, 4))
    with pytest.raises(TypeError, match=r"labels must be a sequence of class indices, e\.g\."):
        xf.LimeTabularExplainer(B).explain_instance(B[0], _proba, labels=labels, num_samples=50)


def test_lime_text_misuse_is_explained():
    def fn(strings):
        return np.full((len(strings), 2), 0.5)

    assert xf.LimeTextExplainer().explain_instances([], fn) == []
    with pytest.raises(ValueError, match=r"split_expression '\(' is not a valid regular"):
        xf.LimeTextExplainer(split_expression="(")
    ex = xf.LimeTextExplainer(class_names=["a"])
    with pytest.raises(ValueError, match="class_names has 1 names but classifier_fn returned 2"):
        ex.explain_instance("good plot bad acting", fn, num_samples=20)
    more = xf.LimeTextExplainer(class_names=["a", "b", "c"])  # lime takes extra names
    assert more.explain_instance("good plot bad acting", fn, num_samples=20).class_names[:2] == [
        "a", "b",
    ]  # fmt: skip


def test_lime_image_hide_color_is_one_value_or_one_per_channel(rng):
    img = rng.random((8, 8, 3))

    def seg(im):
        return np.arange(64).reshape(8, 8) // 16

    def fn(ims):
        ims = np.asarray(ims)
        return np.stack([ims.mean((1, 2, 3)), 1 - ims.mean((1, 2, 3))], 1)

    ex = xf.LimeImageExplainer(random_state=0)
    with pytest.raises(ValueError, match=r"one value per channel \(3 here\); got \(1, 2\)"):
        ex.explain_instance(img, fn, hide_color=(1, 2), segmentation_fn=seg, num_samples=20)
    for color in (0.5, (0.5, 0.5, 0.5)):  # the same fill either way
        e = ex.explain_instance(img, fn, hide_color=color, segmentation_fn=seg, num_samples=20,
                                random_seed=0)  # fmt: skip
        assert len(e.local_exp[1]) == 4


def test_model_adapter_device_and_empty_rows():
    net = torch.nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r"device='bogus' is not a torch device; pass e\.g\."):
        xf.ModelAdapter(net, device="bogus")
    out = xf.ModelAdapter(net)(np.zeros((0, 4)))
    assert out.shape == (0, 2) and out.dtype == np.float64
    assert xf.ModelAdapter(lambda A: np.asarray(A)[:, 0])(np.zeros((0, 4))).shape == (0, 1)


@pytest.mark.parametrize("cls", ["KernelShap", "FeatureAblation", "ShapleyValueSampling"])
def test_tuple_inputs_with_different_example_counts_are_explained(cls):
    net = torch.nn.Linear(4, 1)

    def two(a, b):
        return net(torch.cat([a, b], 1))

    a, b = torch.rand(3, 2), torch.rand(2, 2)
    with pytest.raises(ValueError, match=r"hold \[3, 2\] examples on axis 0.*same examples"):
        getattr(xf, cls)(two).attribute((a, b), target=0)
    out = getattr(xf, cls)(two).attribute((a, torch.rand(3, 2)), target=0)
    assert out[0].shape == (3, 2) and out[1].shape == (3, 2)


def test_noise_tunnel_and_feature_permutation_misuse():
    with pytest.raises(TypeError, match=r"instance, e\.g\. NoiseTunnel\(Saliency\(model\)\)"):
        xf.NoiseTunnel(xf.Saliency)
    with pytest.raises(TypeError, match="feature_mask must be an integer tensor"):
        xf.FeaturePermutation(lambda x: x.sum(1)).attribute(torch.rand(4, 3), feature_mask="abc")


def test_convergence_delta_names_its_own_arguments():
    ig = xf.IntegratedGradients(torch.nn.Linear(4, 1))
    x = torch.rand(4, 4)
    with pytest.raises(ValueError, match=r"start_point of shape \(2, 4\) does not match end_point"):
        ig.compute_convergence_delta(ig.attribute(x), torch.rand(2, 4), x)


def test_a_channels_first_image_is_pointed_out(rng):
    def fn(ims):
        m = np.asarray(ims).mean(axis=(1, 2, 3))
        return np.stack([m, 1 - m], 1)

    def seg(im):
        return np.zeros(im.shape[:2], dtype=int)

    ex = xf.LimeImageExplainer(random_state=0)
    with pytest.warns(UserWarning, match=r"looks channels-first .*np\.moveaxis") as seen:
        ex.explain_instance(rng.random((3, 16, 16)), fn, segmentation_fn=seg, num_samples=10)
    assert len(seen) == 1 and seen[0].filename == __file__  # once, at the caller's line
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # channels-last RGB and grey images: no warning
        ex.explain_instance(rng.random((16, 16, 3)), fn, segmentation_fn=seg, num_samples=10)
        ex.explain_instance(rng.random((16, 16)), fn, segmentation_fn=seg, num_samples=10)


def test_a_perm_func_of_the_wrong_shape_is_explained():
    ex = xf.FeaturePermutation(lambda x: x.sum(1), perm_func=lambda x, mask: x[:2])
    with pytest.raises(ValueError, match=r"perm_func returned \(2, 3\) for an input of shape"):
        ex.attribute(torch.rand(4, 3))


def test_swapped_or_missing_columns_are_named(rng):
    pd = pytest.importorskip("pandas")
    cols = [f"c{i}" for i in range(8)]
    bg = pd.DataFrame(rng.normal(size=(10, 8)), columns=cols)
    ex = xf.KernelExplainer(lambda A: np.asarray(A).sum(1), bg)
    swapped = bg.iloc[:2][cols[:6] + ["c7", "c6"]]
    with pytest.raises(ValueError, match=r"at position 6, X has 'c7' where the background has"):
        ex.shap_values(swapped, silent=True)
    renamed = bg.iloc[:2].rename(columns={"c3": "z"})
    with pytest.raises(ValueError, match=r"missing: \['c3'\]; extra: \['z'\]"):
        ex.shap_values(renamed, silent=True)


@pytest.mark.parametrize(
    "make, takes",
    [
        (lambda m: xf.IntegratedGradients(m, bogus=1), "forward_func, multiply_by_inputs"),
        (lambda m: xf.LayerConductance(m, m, None, 4), "forward_func, layer, device_ids"),
        (lambda m: xf.NeuronGradient(m, m, bogus=1), "forward_func, layer, device_ids"),
        (lambda m: xf.DeepExplainer(m, torch.rand(3, 2), bogus=1), "model, data, session"),
        (lambda m: xf.ModelAdapter(m, batchsize=3), "model, batch_size, device"),
        (lambda m: xf.NoiseTunnel(xf.Saliency(m), sed=1), "attribution_method, seed"),
        (lambda m: xf.LimeTextExplainer(kernelwidth=3), "kernel_width, kernel, verbose"),
    ],
    ids=[
        "ig",
        "layer-conductance",
        "neuron-gradient",
        "deep-explainer",
        "model-adapter",
        "noise-tunnel",
        "lime-text",
    ],  # fmt: skip
)
def test_unknown_constructor_arguments_list_the_ones_taken(make, takes):
    with pytest.raises(TypeError, match=rf"\(\): .*\. It takes {takes}"):
        make(torch.nn.Linear(2, 1))
    import inspect

    # the signature seen by help() and IDEs is the constructor's own
    assert "forward_func" in str(inspect.signature(xf.IntegratedGradients.__init__))
