"""The Projector's engine: equivalence with GradientTape references, seeds, caching, errors.

Tolerance everywhere: max |engine - reference| <= 1e-5 * max |reference|.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from projection_models import (
    SEEDS,
    RuleActivation,
    RuleReLU,
    assert_close,
    model_and_twins,
    random_image,
    seed_tensor,
    tape_projection,
)

from deconv_widgets._tf import tf
from deconv_widgets.projection import LayerInfo, Projector

MODELS = ("fused_chain", "standalone_chain", "residual_dag")
RNG = np.random.default_rng(0)


def _target_layers(projector):
    return [info.name for info in projector.layers]


@pytest.fixture(scope="module", params=MODELS)
def setup(request):
    model, twins = model_and_twins(request.param)
    return request.param, model, twins, Projector(model)


@pytest.mark.slow("two channels of every layer, every seed, against GradientTape (~4 s a model)")
def test_saliency_equals_gradient_tape(setup):
    _, model, _, projector = setup
    image = random_image(model)
    for layer in _target_layers(projector):
        channels = projector.layer_info(layer).output_shape[-1]
        for channel in {0, channels - 1}:
            for seed in SEEDS:
                expected = tape_projection(model, image, layer, channel, seed)
                actual = projector.project(image, layer, channel, method="saliency", seed=seed)
                assert actual.shape == image.shape
                assert_close(actual, expected)


@pytest.mark.slow(
    "every channel of every layer against a custom-gradient twin model (~6 s a model)"
)
@pytest.mark.parametrize("method", ["deconvnet", "guided"])
def test_deconvnet_and_guided_equal_custom_gradient_twin(setup, method):
    _, model, twins, projector = setup
    cases = nonzero = 0
    for image_seed in (1, 2):
        image = random_image(model, image_seed)
        for layer in _target_layers(projector):
            channels = projector.layer_info(layer).output_shape[-1]
            for channel in range(channels):
                seed = SEEDS[channel % 3]
                expected = tape_projection(twins[method], image, layer, channel, seed)
                actual = projector.project(image, layer, channel, method=method, seed=seed)
                assert_close(actual, expected)
                cases += 1
                nonzero += bool(np.abs(expected).max() > 0)
    assert nonzero >= 0.7 * cases  # the comparison is not between zeros


def test_methods_differ_on_a_real_model(setup):
    _, model, _, projector = setup
    image = random_image(model, 3)
    layer = _target_layers(projector)[-1]
    results = {m: projector.project(image, layer, 0, method=m) for m in ("deconvnet", "guided")}
    assert not np.allclose(results["deconvnet"], results["guided"])


def test_project_many_equals_single_projections(setup):
    _, model, _, projector = setup
    image = random_image(model, 4)
    layer = _target_layers(projector)[-1]
    many = projector.project_many(image, layer, method="guided", seed="max")
    channels = projector.layer_info(layer).output_shape[-1]
    assert many.shape == (channels, *image.shape)
    for channel in range(channels):
        single = projector.project(image, layer, channel, method="guided", seed="max")
        assert_close(many[channel], single)
    subset = projector.project_many(image, layer, [2, 0], method="guided", seed="max")
    np.testing.assert_array_equal(subset, many[[2, 0]])


def test_project_many_chunks_large_channel_counts():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Conv2D(150, 3, activation="relu", name="wide")]
    )
    projector = Projector(model)
    image = random_image(model)
    many = projector.project_many(image, "wide", method="saliency")
    assert many.shape == (150, 6, 6, 1)
    assert_close(many[149], tape_projection(model, image, "wide", 149, "activation"))


def test_channel_and_seed_switch_runs_no_forward_and_traces_nothing():
    model, _ = model_and_twins("residual_dag")
    projector = Projector(model)
    image = random_image(model)
    projector.project(image, "head", 0)
    projector.project_many(image, "head")
    traces, forwards = projector.trace_count, projector.forward_count
    for channel in range(20):
        projector.project(image, "head", channel % 6, seed=SEEDS[channel % 3])
    projector.project_many(image, "head", [1, 2, 3])
    assert projector.trace_count == traces
    assert projector.forward_count == forwards
    projector.project(image + 1.0, "head", 0)  # a new image: one forward, still no trace
    assert projector.forward_count == forwards + 1
    assert projector.trace_count == traces


def test_forward_cache_is_bounded_lru():
    model, _ = model_and_twins("fused_chain")
    projector = Projector(model)
    images = [random_image(model, s) for s in range(6)]
    for image in images:
        projector.activations(image, "conv_b")
    count = projector.forward_count
    projector.activations(images[-1], "conv_b")
    assert projector.forward_count == count
    projector.activations(images[0], "conv_b")  # evicted long ago
    assert projector.forward_count == count + 1
    projector.clear_cache()
    projector.activations(images[0], "conv_b")
    assert projector.forward_count == count + 2


def test_activations_match_keras_and_accept_batch_of_one_and_tensors():
    model, _ = model_and_twins("standalone_chain")
    projector = Projector(model)
    image = random_image(model)
    expected = keras.Model(model.inputs[0], model.get_layer("bn_a").output)(image[None])[0]
    assert_close(projector.activations(image, "bn_a"), expected.numpy())
    assert_close(projector.activations(tf.constant(image[None]), "bn_a"), expected.numpy())
    info = projector.layer_info("bn_a")
    assert_close(projector.activations(image, info), expected.numpy())


def test_max_seed_ties_pick_first_in_row_major_order():
    model = keras.Sequential(
        [
            keras.Input((4, 6, 1)),
            keras.layers.Conv2D(1, 1, use_bias=False, activation="relu", name="copy"),
        ]
    )
    model.get_layer("copy").set_weights([np.ones((1, 1, 1, 1), "float32")])
    image = np.zeros((4, 6, 1), "float32")
    image[2, 1] = image[1, 5] = image[3, 0] = 7.0  # three tied maxima
    projector = Projector(model)
    for method in ("deconvnet", "guided", "saliency"):
        result = projector.project(image, "copy", 0, method=method, seed="max")[..., 0]
        expected = np.zeros((4, 6), "float32")
        expected[1, 5] = 1.0
        np.testing.assert_array_equal(result, expected)
    ones = projector.project(image, "copy", 0, method="deconvnet", seed="ones")
    np.testing.assert_array_equal(ones, np.ones_like(image))
    saliency_ones = projector.project(image, "copy", 0, method="saliency", seed="ones")
    np.testing.assert_array_equal(saliency_ones, (image > 0).astype("float32"))


def test_seed_tensor_helper_matches_numpy_argmax():
    activation = np.zeros((1, 3, 3, 2), "float32")
    activation[0, 2, 0, 1] = activation[0, 0, 2, 1] = 5.0
    seed = seed_tensor(activation, 1, "max")
    assert seed[0, 0, 2, 1] == 1.0 and seed.sum() == 1.0


def test_receptive_field_and_layer_infos():
    model, _ = model_and_twins("fused_chain")
    projector = Projector(model)
    infos = {info.name: info for info in projector.layers}
    assert list(infos) == ["conv_a", "pool_a", "conv_b", "conv_c", "pool_b"]
    assert infos["conv_a"] == LayerInfo("conv_a", "Conv2D", (15, 15, 4), 2 * 9 * 4 + 4, 3, 1)
    assert (infos["pool_a"].receptive_field, infos["pool_a"].jump) == (5, 2)
    assert (infos["conv_b"].receptive_field, infos["conv_b"].jump) == (9, 4)
    assert (infos["conv_c"].receptive_field, infos["conv_c"].jump) == (13, 4)
    assert (infos["pool_b"].receptive_field, infos["pool_b"].jump) == (17, 8)
    assert infos["pool_b"].output_shape == (1, 1, 5)


def test_dilation_in_receptive_field():
    model = keras.Sequential(
        [
            keras.Input((20, 20, 1)),
            keras.layers.Conv2D(2, 3, dilation_rate=2, name="dilated"),
            keras.layers.Conv2D(2, 3, strides=2, name="strided"),
            keras.layers.Conv2D(2, 3, dilation_rate=2, name="after"),
        ]
    )
    infos = {i.name: i for i in Projector(model).layers}
    assert (infos["dilated"].receptive_field, infos["dilated"].jump) == (5, 1)
    assert (infos["strided"].receptive_field, infos["strided"].jump) == (7, 2)
    assert (infos["after"].receptive_field, infos["after"].jump) == (15, 2)


NON_RELU_CASES = {  # the layer; its rectifier function (None: not a rectifier, exact VJP)
    "conv tanh": (lambda: keras.layers.Conv2D(3, 3, activation="tanh", name="bad"), None),
    "gelu": (lambda: keras.layers.Activation("gelu", name="bad"), keras.activations.gelu),
    "sigmoid": (lambda: keras.layers.Activation("sigmoid", name="bad"), None),
    "leaky relu": (
        lambda: keras.layers.LeakyReLU(name="bad"),
        lambda t: keras.activations.leaky_relu(t, negative_slope=0.3),
    ),
    "relu6": (lambda: keras.layers.ReLU(max_value=6.0, name="bad"), keras.activations.relu6),
    "swish": (lambda: keras.layers.Activation("swish", name="bad"), keras.activations.silu),
    "lambda": (lambda: keras.layers.Lambda(lambda t: t * 2.0, name="bad"), None),
}


def _first_bad_top(make_bad, rectifier=None, twin=None):
    """First (conv, relu) -> bad -> top (conv, relu); the twin's rectifiers follow a rule."""
    if twin is None:
        first = [keras.layers.Conv2D(3, 3, activation="relu", padding="same", name="first")]
        bad = make_bad()
    else:
        first = [
            keras.layers.Conv2D(3, 3, padding="same", name="first"),
            RuleReLU(twin, name="first_relu"),
        ]
        bad = make_bad() if rectifier is None else RuleActivation(twin, rectifier, name="bad")
    top = keras.layers.Conv2D(2, 3, name="top")
    layers = [keras.Input((8, 8, 1)), *first, bad, top]
    if twin is not None:
        layers.append(RuleReLU(twin, name="top_relu"))
    else:
        layers.append(keras.layers.ReLU(name="top_relu"))
    return keras.Sequential(layers)


@pytest.mark.parametrize("case", NON_RELU_CASES, ids=list(NON_RELU_CASES))
def test_non_relu_layers_on_the_path_take_their_rule_or_their_exact_vjp(case):
    """Third release (refusals became answers).

    These were refused by deconvnet and guided; now each method's rectifier rule applies at a
    rectifier and every other layer takes its exact VJP.
    """
    make_bad, rectifier = NON_RELU_CASES[case]
    keras.utils.set_random_seed(2)
    model = _first_bad_top(make_bad)
    projector = Projector(model)
    image = random_image(model)
    peaks = projector.activations(image, "top_relu").max(axis=(0, 1))
    channel = int(np.argmax(peaks))  # a live unit: a dead one projects to zeros
    for method in ("deconvnet", "guided"):
        twin = _first_bad_top(make_bad, rectifier, twin=method)
        twin.set_weights(model.get_weights())
        expected = tape_projection(twin, image, "top_relu", channel, "activation")
        assert np.abs(expected).max() > 1e-4
        assert_close(projector.project(image, "top_relu", channel, method=method), expected)
    saliency = projector.project(image, "top_relu", channel, method="saliency")
    assert_close(saliency, tape_projection(model, image, "top_relu", channel, "activation"))


@pytest.fixture(scope="module")
def small():
    model, _ = model_and_twins("fused_chain")
    return Projector(model), random_image(model)


def test_unknown_layer_lists_names(small):
    projector, image = small
    with pytest.raises(ValueError, match="unknown layer 'nope'; choose one of: conv_a, pool_a"):
        projector.project(image, "nope", 0)
    with pytest.raises(TypeError, match="layer must be"):
        projector.project(image, 3, 0)


def test_channel_errors(small):
    projector, image = small
    with pytest.raises(ValueError, match=r"channel 4 is out of range .* choose 0\.\.3"):
        projector.project(image, "conv_a", 4)
    with pytest.raises(ValueError, match="out of range"):
        projector.project(image, "conv_a", -1)
    for bad in (1.0, "1", True, None):
        with pytest.raises(TypeError, match="channel must be an int"):
            projector.project(image, "conv_a", bad)
    assert projector.project(image, "conv_a", np.int64(3)).shape == image.shape


def test_method_and_seed_errors(small):
    projector, image = small
    with pytest.raises(ValueError, match="unknown method 'foo'; choose one of: deconvnet, guided"):
        projector.project(image, "conv_a", 0, method="foo")
    with pytest.raises(ValueError, match="unknown seed 'big'; choose one of: activation, max"):
        projector.project(image, "conv_a", 0, seed="big")


@pytest.mark.parametrize("shape", [(15, 15), (15, 15, 3), (14, 15, 2), (2, 15, 15, 2)])
def test_wrong_image_shape(small, shape):
    projector, _ = small
    with pytest.raises(ValueError, match=r"does not fit the model input \(15, 15, 2\)"):
        projector.project(np.zeros(shape, "float32"), "conv_a", 0)


def test_bad_image_and_model_types(small):
    projector, _ = small
    with pytest.raises(TypeError, match="image must hold numbers"):
        projector.project(np.full((15, 15, 2), "x"), "conv_a", 0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        projector.project(np.full((15, 15, 2), np.nan, "float32"), "conv_a", 0)
    with pytest.raises(TypeError, match=r"keras.Model"):
        Projector(42)
    with pytest.raises(ValueError, match=r"unknown model 'not a model': give a zoo name \(shapes"):
        Projector("not a model")  # a string is a zoo name or a path to a .keras file
    with pytest.raises(ValueError, match=r"only Keras v3 \.keras files"):
        Projector("not_a_model.h5")
    with pytest.raises(ValueError, match="has no layer graph"):
        Projector(keras.Sequential([keras.layers.Conv2D(2, 3)]))


def test_a_nested_model_is_flattened_and_projects_through():
    """Third release (refusals became answers).

    A nested model was refused by deconvnet; now its layers are listed as "outer/inner" and
    every method passes through them.
    """
    keras.utils.set_random_seed(5)
    inner_input = keras.Input((10, 10, 1))
    inner_output = keras.layers.Conv2D(3, 3, activation="relu", name="inner_conv")(inner_input)
    inner = keras.Model(inner_input, inner_output, name="backbone")
    model = keras.Sequential(
        [keras.Input((10, 10, 1)), inner, keras.layers.Conv2D(2, 3, activation="relu", name="top")]
    )
    projector = Projector(model)
    image = random_image(model)
    assert [info.name for info in projector.layers] == ["backbone/inner_conv", "backbone", "top"]
    assert projector.layer_info("backbone").kind == "Functional"
    expected = tape_projection(model, image, "top", 0, "activation")
    assert_close(projector.project(image, "top", 0, method="saliency"), expected)
    alone = Projector(model.get_layer("backbone"))
    for method in ("deconvnet", "guided"):
        assert_close(
            projector.project(image, "backbone/inner_conv", 1, method=method),
            alone.project(image, "inner_conv", 1, method=method),
            rel=1e-6,
        )
    assert projector.project(image, "top", 0).shape == (10, 10, 1)


def test_depthwise_and_separable_convolutions():

    keras.utils.set_random_seed(6)
    model = keras.Sequential(
        [
            keras.Input((13, 13, 3)),
            keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
            keras.layers.ReLU(name="r1"),
            keras.layers.DepthwiseConv2D(3, dilation_rate=2, name="dw_dilated"),
            keras.layers.Activation("relu", name="r2"),
            keras.layers.SeparableConv2D(4, 3, strides=2, padding="same", name="sep"),
            keras.layers.ReLU(name="r3"),
        ]
    )
    projector = Projector(model)
    image = random_image(model)
    for method in ("deconvnet", "guided"):

        def swap(layer, method=method):
            if isinstance(layer, keras.layers.ReLU | keras.layers.Activation):
                return RuleReLU(method, name=layer.name)
            return layer.__class__.from_config(layer.get_config())

        twin = keras.models.clone_model(model, clone_function=swap)
        twin.set_weights(model.get_weights())
        for layer in ("r1", "r2", "r3"):
            for channel in (0, 3):
                expected = tape_projection(twin, image, layer, channel, "activation")
                assert_close(projector.project(image, layer, channel, method=method), expected)
    for seed in SEEDS:
        expected = tape_projection(model, image, "r3", 2, seed)
        assert_close(projector.project(image, "r3", 2, method="saliency", seed=seed), expected)
    with pytest.raises(ValueError, match=r"no explicit step for layer 'sep' \(SeparableConv2D\)"):
        projector.ladder(image, "r3", 0)


def test_layer_names_with_html_project_and_keep_their_names():
    """Keras accepts any text as a layer name; graph tracing does not: the engine copes."""
    inp = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="<img src=x onerror=window.__pwned=1>")(
        inp
    )
    x = keras.layers.MaxPooling2D(name='"><b onclick=alert(1)>')(x)
    model = keras.Model(inp, x)
    names = [layer.name for layer in model.layers]
    projector = Projector(model)
    image = np.random.default_rng(0).random((12, 12, 1), dtype=np.float32)
    for method in ("deconvnet", "guided", "saliency"):
        assert projector.project(image, projector.layers[-1].name, 1, method=method).shape == (
            12,
            12,
            1,
        )
    assert [layer.name for layer in model.layers] == names
    assert [info.name for info in projector.layers] == names[1:]
