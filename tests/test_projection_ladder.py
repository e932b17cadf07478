"""The explicit ladder (ops-based) equals the engine's deconvnet projection; VGG16 coverage.

Tolerance: max |ladder - engine| <= 1e-5 * max |engine|.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from projection_models import SEEDS, assert_close, model_and_twins, random_image, tape_projection

from deconv_widgets import zoo
from deconv_widgets.projection import RUNG_OPS, Projector


def _check_ladder_equals_engine(projector, image, layers=None):
    checked = 0
    for info in projector.layers:
        if layers is not None and info.name not in layers:
            continue
        for channel in sorted({0, info.output_shape[-1] - 1}):
            for seed in SEEDS:
                rungs = projector.ladder(image, info.name, channel, seed=seed)
                assert rungs and all(r.op in RUNG_OPS for r in rungs)
                assert rungs[-1].array.shape == image.shape
                engine = projector.project(image, info.name, channel, seed=seed)
                assert_close(rungs[-1].array, engine)
                checked += 1
    return checked


@pytest.mark.parametrize("name", ["fused_chain", "standalone_chain"])
def test_ladder_equals_engine_on_chain_models(name):
    model, _ = model_and_twins(name)
    projector = Projector(model)
    for image_seed in (0, 1):
        assert _check_ladder_equals_engine(projector, random_image(model, image_seed)) > 0


def test_ladder_equals_engine_on_zoo_model():
    projector = Projector(zoo.shapes_model())
    images, _ = zoo.shapes_images(2, random_seed=21)
    for image in images:
        _check_ladder_equals_engine(projector, image, layers={"conv1_1", "pool2", "pool3"})


def test_ladder_rungs_name_each_step():
    model, _ = model_and_twins("standalone_chain")
    rungs = Projector(model).ladder(random_image(model), "pool_b", 1)
    steps = [(r.layer, r.op) for r in rungs]
    assert steps == [
        ("pool_b", "unpool"),
        ("crop_b", "identity"),
        ("relu_b", "rectify"),
        ("conv_b", "transpose_conv"),
        ("drop_a", "identity"),
        ("avg_a", "unpool"),
        ("bn_a", "scale"),
        ("relu_a", "rectify"),
        ("conv_a", "transpose_conv"),
        ("pad", "identity"),
    ]
    assert "crop" in rungs[-1].note
    assert rungs[0].array.shape == (5, 5, 4)  # unpooled to crop_b's output size
    assert all(np.all(r.array >= 0) for r in rungs if r.op == "rectify")


def test_fused_relu_conv_gives_rectify_then_transpose_conv():
    model, _ = model_and_twins("fused_chain")
    rungs = Projector(model).ladder(random_image(model), "conv_b", 0)
    assert [(r.layer, r.op) for r in rungs] == [
        ("conv_b", "rectify"),
        ("conv_b", "transpose_conv"),
        ("pool_a", "unpool"),
        ("conv_a", "rectify"),
        ("conv_a", "transpose_conv"),
    ]


def test_ladder_rejects_branching_paths_and_dilation():
    model, _ = model_and_twins("residual_dag")
    projector = Projector(model)
    image = random_image(model)
    with pytest.raises(ValueError, match=r"chain .*'stem'.*feeds several layers"):
        projector.ladder(image, "res_add", 0)
    projector.ladder(image, "stem", 0)  # the stem alone is a chain
    dilated = keras.Sequential(
        [keras.Input((9, 9, 1)), keras.layers.Conv2D(2, 3, dilation_rate=2, name="dil")]
    )
    with pytest.raises(ValueError, match=r"'dil'.*dilation"):
        Projector(dilated).ladder(np.zeros((9, 9, 1), "float32"), "dil", 0)
    with pytest.raises(ValueError, match="unknown seed"):
        projector.ladder(image, "stem", 0, seed="nope")


@pytest.fixture(scope="module")
def vgg16():
    keras.utils.set_random_seed(0)
    # 32x32x3 input keeps the test fast; the receptive field does not depend on input size.
    model = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    return model, Projector(model)


def test_vgg16_receptive_field(vgg16):
    _, projector = vgg16
    info = projector.layer_info("block5_conv3")
    assert (info.receptive_field, info.jump) == (196, 16)
    assert projector.layer_info("block1_pool").receptive_field == 6
    assert len([i for i in projector.layers if i.kind == "Conv2D"]) == 13


@pytest.mark.slow("13 VGG16 layers x 3 methods, each traced (~12 s)")
def test_vgg16_every_conv_layer_projects(vgg16):
    model, projector = vgg16
    image = np.random.default_rng(0).uniform(0, 255, (32, 32, 3)).astype("float32")
    convs = [info for info in projector.layers if info.kind == "Conv2D"]
    for info in convs:
        channel = int(np.argmax(projector.activations(image, info).max(axis=(0, 1))))
        for method in ("deconvnet", "guided", "saliency"):
            result = projector.project(image, info, channel, method=method)
            assert result.shape == image.shape and np.all(np.isfinite(result))
            assert np.abs(result).max() > 0, (info.name, method)
    last = convs[-1].name
    channel = int(np.argmax(projector.activations(image, last).max(axis=(0, 1))))
    expected = tape_projection(model, image, last, channel, "activation")
    assert_close(projector.project(image, last, channel, method="saliency"), expected)
    rungs = projector.ladder(image, last, channel)
    assert_close(rungs[-1].array, projector.project(image, last, channel))


@pytest.mark.slow(
    "ResNet50 (175 layers) traced for two methods and its custom-gradient twin (~10 s)"
)
def test_resnet50_deconvnet_and_guided_equal_custom_gradient_twin():
    from projection_models import RuleReLU

    keras.utils.set_random_seed(0)
    # weights=None, 32x32x3 input: residual Add, BN, ZeroPadding2D, Activation("relu") layers.
    model = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    projector = Projector(model)
    image = np.random.default_rng(0).uniform(0, 1, (32, 32, 3)).astype("float32")
    layers = ["conv2_block1_out", "conv3_block4_out"]
    for method in ("deconvnet", "guided"):

        def swap_relu(layer, method=method):
            if (
                isinstance(layer, keras.layers.Activation)
                and layer.get_config()["activation"] == "relu"
            ):
                return RuleReLU(method, name=layer.name)
            return layer.__class__.from_config(layer.get_config())

        twin = keras.models.clone_model(model, clone_function=swap_relu)
        twin.set_weights(model.get_weights())
        for layer in layers:
            expected = tape_projection(twin, image, layer, 5, "activation")
            assert np.abs(expected).max() > 0
            assert_close(projector.project(image, layer, 5, method=method), expected)
    expected = tape_projection(model, image, layers[-1], 5, "max")
    assert_close(projector.project(image, layers[-1], 5, method="saliency", seed="max"), expected)


def test_same_padding_pools_and_strided_valid_conv_on_odd_sizes():
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((11, 13, 2)),
            keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="c1"),
            keras.layers.AveragePooling2D(3, strides=2, padding="same", name="avg_same"),
            keras.layers.Conv2D(4, 3, strides=2, padding="valid", activation="relu", name="c2"),
            keras.layers.MaxPooling2D(2, padding="same", name="max_same"),
        ]
    )
    projector = Projector(model)
    for image_seed in (0, 1, 2):
        image = random_image(model, image_seed)
        assert _check_ladder_equals_engine(projector, image) == 4 * 2 * 3
        for layer in ("avg_same", "max_same"):
            for seed in SEEDS:
                expected = tape_projection(model, image, layer, 1, seed)
                assert_close(projector.project(image, layer, 1, "saliency", seed), expected)
