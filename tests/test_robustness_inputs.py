"""Issue 7: bad images, bad picks and bad models given to the Projector.

Every case asserts the error type and that the message names the problem AND the valid
choices (two patterns per case). Positive controls next to the matrix show that the same
call with a good argument works, so no case passes by refusing everything.
"""

from __future__ import annotations

import tracemalloc

import keras
import numpy as np
import pytest
from helpers import expect_error

from deconv_widgets._tf import tf
from deconv_widgets.projection import MAX_IMAGE_PIXELS, Projector
from deconv_widgets.projection.checks import image_stack


@pytest.fixture(scope="module")
def small():
    """conv_a (4 ch) -> pool_a -> conv_b (3 ch) -> flat -> dense (not 4-D)."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 1), name="pixels")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_a")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool_a")(x)
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv_b")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(2, name="dense")(x)
    model = keras.Model(inputs, outputs)
    image = np.random.default_rng(0).uniform(0, 1, (12, 12, 1)).astype(np.float32)
    return Projector(model), image


@pytest.fixture(scope="module")
def gap():
    """A conv (3 ch) -> GlobalAveragePooling2D -> dense model."""
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return Projector(keras.Model(inputs, keras.layers.Dense(2, name="out")(x)))


@pytest.fixture(scope="module")
def any_size():
    """A fully convolutional model: any image size fits, so only the limit stops a huge one."""
    inputs = keras.Input((None, None, 1))
    outputs = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(inputs)
    return Projector(keras.Model(inputs, outputs))


WANT = r"model input \(12, 12, 1\)"
NUMBERS = r"float or int"

# (id, image, error, problem pattern, choices pattern)
IMAGE_CASES = [
    ("rank 2", np.zeros((12, 12)), ValueError, r"shape \(12, 12\) does not fit", WANT),
    ("rank 5", np.zeros((1, 1, 12, 12, 1)), ValueError, r"does not fit", r"rank 3 \(H, W, C\)"),
    ("batch of two", np.zeros((2, 12, 12, 1)), ValueError, r"\(2, 12, 12, 1\)", "batch of one"),
    ("wrong height", np.zeros((13, 12, 1)), ValueError, r"\(13, 12, 1\) does not fit", WANT),
    ("wrong channels", np.zeros((12, 12, 3)), ValueError, r"\(12, 12, 3\) does not fit", WANT),
    ("strings", np.full((12, 12, 1), "x"), TypeError, r"dtype <U1", NUMBERS),
    ("objects", np.full((12, 12, 1), None, dtype=object), TypeError, r"dtype object", NUMBERS),
    ("complex", np.zeros((12, 12, 1), complex), TypeError, r"dtype complex128", NUMBERS),
    ("bool", np.zeros((12, 12, 1), bool), TypeError, r"dtype bool", NUMBERS),
    ("empty", np.zeros((0, 12, 1)), ValueError, r"image is empty", r">= 1"),
    ("nan", np.full((12, 12, 1), np.nan), ValueError, r"144 NaN or infinite", r"finite pixel"),
    ("inf", np.where(np.eye(12)[..., None] > 0, np.inf, 0.0), ValueError, r"12 NaN", r"finite"),
    ("ragged list", [[0.0, 1.0], [2.0]], TypeError, r"one shape", r"\(H, W, C\)"),
    ("None", None, TypeError, r"got NoneType", r"NumPy array, tensor or nested lists"),
    ("a file name", "cat.png", TypeError, r"got str", r"NumPy array, tensor"),
    ("tensor wrong shape", tf.zeros((12, 12, 2)), ValueError, r"\(12, 12, 2\)", WANT),
]


@pytest.mark.parametrize("case", IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES])
def test_bad_images(small, case):
    projector, _ = small
    _, image, error, problem, choices = case
    expect_error(lambda: projector.project(image, "conv_a", 0), error, problem, choices)
    expect_error(lambda: projector.activations(image, "conv_b"), error, problem, choices)


def test_good_images_in_every_accepted_form(small):
    projector, image = small
    expected = projector.project(image, "conv_b", 1)
    for form in (image[None], tf.constant(image), image.tolist(), (image * 255).astype(np.uint8)):
        got = projector.project(form, "conv_b", 1)
        assert got.shape == (12, 12, 1) and np.all(np.isfinite(got))
    np.testing.assert_allclose(projector.project(image.tolist(), "conv_b", 1), expected)


def test_huge_image_refused_before_allocating(any_size):
    side = 4097  # 4097 x 4097 > MAX_IMAGE_PIXELS; a float32 copy would take 64 MiB
    huge = np.broadcast_to(np.float32(0.5), (side, side, 1))  # a view: no memory behind it
    tracemalloc.start()
    try:
        expect_error(
            lambda: any_size.project(huge, "conv", 0),
            ValueError,
            rf"{side} x {side} = {side * side} pixels is too large",
            rf"MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} \(4096 x 4096\)",
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"refusing allocated {peak} bytes"


def test_huge_image_stack_refused_before_allocating():
    stack = np.broadcast_to(np.float32(0.0), (3, 5000, 5000, 1))
    tracemalloc.start()
    try:
        expect_error(lambda: image_stack(stack), ValueError, r"each image of 5000 x 5000", "4096")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


def test_empty_image_on_a_model_of_any_size(any_size):
    expect_error(
        lambda: any_size.project(np.zeros((0, 0, 1)), "conv", 0), ValueError, "empty", ">= 1"
    )
    assert any_size.project(np.ones((5, 7, 1)), "conv", 0).shape == (5, 7, 1)


def test_top_k_refuses_a_bad_batch_in_the_stream(small):
    projector, image = small
    batches = [image[None], np.zeros((1, 12, 12, 1), complex)]
    expect_error(
        lambda: projector.top_k(batches, "conv_a", k=1, progress=False),
        TypeError,
        "complex128",
        NUMBERS,
    )


LAYERS = r"choose one of: conv_a, pool_a, conv_b$"

# (id, kwargs for project, error, problem, choices)
PICK_CASES = [
    ("unknown layer", {"layer": "nope"}, ValueError, r"unknown layer 'nope'", LAYERS),
    ("dense layer", {"layer": "dense"}, ValueError, r"'dense' \(Dense\) has output", LAYERS),
    ("flatten layer", {"layer": "flat"}, ValueError, r"no spatial \(H, W, C\) channels", LAYERS),
    ("input layer", {"layer": "pixels"}, ValueError, r"unknown layer 'pixels'", LAYERS),
    ("layer by index", {"layer": 2}, TypeError, r"layer must be a name .* got int 2", LAYERS),
    ("layer None", {"layer": None}, TypeError, r"got NoneType", LAYERS),
    ("channel -1", {"channel": -1}, ValueError, r"channel -1 is out of range", r"0\.\.3"),
    ("channel 4", {"channel": 4}, ValueError, r"'conv_a' with 4 channels", r"choose 0\.\.3"),
    ("channel 3.0", {"channel": 3.0}, TypeError, r"must be an int, got float 3\.0", r"0\.\.3"),
    ("channel '3'", {"channel": "3"}, TypeError, r"got str '3'", r"choose 0\.\.3"),
    ("channel True", {"channel": True}, TypeError, r"got bool True", r"choose 0\.\.3"),
    ("channel None", {"channel": None}, TypeError, r"got NoneType", r"choose 0\.\.3"),
    ("channel array", {"channel": np.array([1])}, TypeError, r"ndarray", r"0\.\.3"),
    ("method", {"method": "foo"}, ValueError, r"unknown method 'foo'", "deconvnet, guided, sal"),
    ("method case", {"method": "DeconvNet"}, ValueError, r"'DeconvNet'", "deconvnet, guided"),
    ("method None", {"method": None}, ValueError, r"unknown method None", "deconvnet, guided"),
    ("seed", {"seed": "big"}, ValueError, r"unknown seed 'big'", r"activation, max, ones$"),
    ("seed int", {"seed": 0}, ValueError, r"unknown seed 0", r"activation, max, ones$"),
]


@pytest.mark.parametrize("case", PICK_CASES, ids=[c[0] for c in PICK_CASES])
def test_bad_picks(small, case):
    projector, image = small
    _, change, error, problem, choices = case
    kwargs = {"layer": "conv_a", "channel": 0, "method": "deconvnet", "seed": "activation"}
    kwargs.update(change)
    expect_error(lambda: projector.project(image, **kwargs), error, problem, choices)


def test_good_picks_work_and_numpy_ints_count_as_ints(small):
    projector, image = small
    a = projector.project(image, "conv_a", np.int64(3), method="guided", seed="max")
    b = projector.project(image, projector.layers[0], 3, method="guided", seed="max")
    np.testing.assert_array_equal(a, b)


def test_flat_layers_in_activations_ladder_and_top_k(small, gap):
    projector, image = small
    for call in (
        lambda: projector.activations(image, "dense"),
        lambda: projector.ladder(image, "flat", 0),
        lambda: projector.top_k(image[None], "dense", k=1, progress=False),
    ):
        expect_error(call, ValueError, r"no spatial \(H, W, C\) channels", LAYERS)
    expect_error(
        lambda: gap.project(np.zeros((8, 8, 1)), "gap", 0),
        ValueError,
        r"'gap' \(GlobalAveragePooling2D\) has output shape \(None, 3\)",
        r"choose one of: conv$",
    )


def test_bad_k_and_channel_lists(small):
    projector, image = small
    expect_error(
        lambda: projector.top_k(image[None], "conv_a", k=0), ValueError, "k must be", r"int >= 1"
    )
    expect_error(
        lambda: projector.project_many(image, "conv_a", 3),
        TypeError,
        "channels must be a sequence",
        "ints or None",
    )
    expect_error(
        lambda: projector.project_many(image, "conv_a", [0, 9]), ValueError, "9", r"0\.\.3"
    )


# ------------------------------------------------------------------------------ models
def _sequential(*layers, shape=(8, 8, 1)):
    return keras.Sequential([keras.Input(shape), *layers])


class Doubler(keras.layers.Layer):
    """A custom layer with no DeconvNet rule (doubles its input)."""

    def call(self, x):
        return 2.0 * x


class Subclassed(keras.Model):
    """A subclassed model: no layer graph to read."""

    def __init__(self):
        super().__init__()
        self.conv = keras.layers.Conv2D(2, 3)

    def call(self, x):
        return self.conv(x)


def _two_inputs():
    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    return keras.Model([a, b], keras.layers.Add()([a, b]))


def _subclassed():
    model = Subclassed()
    model(np.zeros((1, 8, 8, 1), np.float32))
    return model


ONE_IMAGE = r"exactly one image input of shape \(H, W, C\)"

# (id, model builder, error, problem, choices)
MODEL_CASES = [
    ("two inputs", _two_inputs, ValueError, r"\[\(None, 8, 8, 1\), \(None, 8, 8, 1\)\]", ONE_IMAGE),
    (
        "dense only",
        lambda: _sequential(keras.layers.Dense(3), shape=(10,)),
        ValueError,
        r"inputs \[\(None, 10\)\]",
        ONE_IMAGE,
    ),
    (
        "conv1d",
        lambda: _sequential(keras.layers.Conv1D(2, 3), shape=(20, 3)),
        ValueError,
        r"inputs \[\(None, 20, 3\)\]",
        ONE_IMAGE,
    ),
    (
        "channels_first",
        lambda: _sequential(
            keras.layers.Conv2D(2, 3, data_format="channels_first", name="cf"), shape=(1, 8, 8)
        ),
        ValueError,
        r"'cf' \(Conv2D\) uses data_format='channels_first'",
        r"data_format='channels_last'",
    ),
    ("subclassed", _subclassed, ValueError, r"subclassed keras.Model \(Subclassed\)", "Sequential"),
    (
        "unbuilt sequential",
        lambda: keras.Sequential([keras.layers.Conv2D(2, 3)]),
        ValueError,
        "no layer graph yet",
        r"keras.Input\(\(64, 64, 1\)\)",
    ),
    ("not a model", lambda: 42, TypeError, "got int", r"keras.Model \(Sequential or Functional\)"),
    ("a layer", lambda: keras.layers.Conv2D(2, 3), TypeError, "got Conv2D", r"path of a \.keras"),
]


@pytest.mark.parametrize("case", MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_bad_models(case):
    _, build, error, problem, choices = case
    model = build()
    expect_error(lambda: Projector(model), error, problem, choices)


def _saliency_by_tape(model, layer, image, channel):
    """The plain gradient of sum(activation * stop_gradient(activation)) on one channel."""
    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        act = sub(x)[..., channel]
        target = tf.reduce_sum(act * tf.stop_gradient(act))
    return tape.gradient(target, x).numpy()[0]


RULE_CASES = [
    ("tanh", lambda: keras.layers.Conv2D(3, 3, activation="tanh", name="bad")),
    ("leaky relu", lambda: keras.layers.LeakyReLU(name="bad")),
    ("relu6", lambda: keras.layers.ReLU(max_value=6.0, name="bad")),
    ("lambda", lambda: keras.layers.Lambda(lambda t: t * 2.0, name="bad")),
    ("custom layer", lambda: Doubler(name="bad")),
]


@pytest.mark.slow("builds and traces a model for each layer kind and method (~4 s)")
@pytest.mark.parametrize("case", RULE_CASES, ids=[c[0] for c in RULE_CASES])
@pytest.mark.parametrize("method", ["deconvnet", "guided"])
def test_layers_without_a_rule_of_their_own_pass_by_their_gradient(case, method):
    """Third release (refusals became answers).

    These were refused by deconvnet and guided; now they answer (their exactness against rule
    twins is tests/test_projection.py's).
    """
    _, make = case
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="first")(inputs)
    x = make()(x)
    x = keras.layers.Conv2D(2, 3, name="top")(x)
    model = keras.Model(inputs, x)
    projector = Projector(model)
    image = np.random.default_rng(2).uniform(-1, 1, (8, 8, 1)).astype(np.float32)
    projection = projector.project(image, "top", 1, method=method)
    assert projection.shape == (8, 8, 1) and np.isfinite(projection).all()
    assert np.abs(projection).max() > 0
    saliency = projector.project(image, "top", 1, method="saliency")
    expected = _saliency_by_tape(model, "top", image, 1)
    np.testing.assert_allclose(saliency, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


class Frozen(keras.layers.Layer):
    """A custom layer TensorFlow has no gradient through (it rounds its input)."""

    def call(self, x):
        return tf.round(x * 4.0) / 4.0


def test_a_layer_with_no_gradient_is_refused_by_name_with_what_to_do():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="first")(inputs)
    x = Frozen(name="frozen")(x)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="top")(x))
    projector = Projector(model)
    image = np.random.default_rng(2).uniform(-1, 1, (8, 8, 1)).astype(np.float32)
    for method in ("deconvnet", "saliency", "lrp_epsilon"):
        expect_error(
            lambda: projector.project(image, "top", 1, method=method),  # noqa: B023
            ValueError,
            r"layer 'frozen' \(Frozen\): its output does not depend differentiably",
            r"tf\.custom_gradient.*kinds\.register.*pick a layer below it",
            hint_is="remedy",
        )
    assert projector.project(image, "first", 0).shape == (8, 8, 1)


BATCH_CASES = [
    (np.zeros((2, 12, 12, 3)), ValueError, r"\(12, 12, 3\)", WANT),
    (np.zeros((2, 12, 12, 1), complex), TypeError, "complex", NUMBERS),
    (np.full((2, 12, 12, 1), np.nan), ValueError, "NaN", "finite"),
]


@pytest.mark.parametrize("entry", ["forward_batch", "project_seeds", "top_k"])
@pytest.mark.parametrize("case", BATCH_CASES, ids=["shape", "complex", "nan"])
def test_batch_entry_points_check_their_images(small, entry, case):
    projector, image = small
    images, error, problem, choices = case
    calls = {
        "forward_batch": lambda: projector.forward_batch(images, "conv_a"),
        "project_seeds": lambda: projector.project_seeds(
            images, "conv_a", np.zeros((2, 10, 10, 4), np.float32)
        ),
        "top_k": lambda: projector.top_k(images, "conv_a", k=1, progress=False),
    }
    expect_error(calls[entry], error, problem, choices)
    assert projector.forward_batch(np.stack([image, image]), "conv_a").shape == (2, 10, 10, 4)


@pytest.mark.parametrize("field", ["layer", "method", "seed", "channel"])
def test_long_bad_values_are_cut_in_messages(small, field):
    projector, image = small
    kwargs = {"layer": "conv_a", "channel": 0, "method": "deconvnet", "seed": "activation"}
    kwargs[field] = "<script>" * 10**5
    with pytest.raises((TypeError, ValueError)) as info:
        projector.project(image, **kwargs)
    assert len(str(info.value)) < 400 and "(800002 chars)" in str(info.value)


def test_a_layer_behind_a_split_names_the_split_and_the_layers_that_work():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    left, _ = keras.ops.split(x, 2, axis=-1)
    projector = Projector(keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c2")(left)))
    for method in ("deconvnet", "saliency"):
        expect_error(
            lambda: projector.project(np.ones((8, 8, 1)), "c2", 0, method=method),  # noqa: B023
            ValueError,
            r"'c2' is reached through 'split' \(Split\), which has several outputs",
            r"choose one of: c1$",
        )
    assert projector.project(np.ones((8, 8, 1)), "c1", 3).shape == (8, 8, 1)


def test_keras_ops_in_a_functional_model_work_with_every_method():
    """Third release (refusals became answers).

    Deconvnet refused the Multiply op; now it passes by its gradient.
    """
    keras.utils.set_random_seed(4)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
    x = keras.ops.tanh(x * 2.0 - 0.5)  # operations, not layers: no count_params, no training
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c2")(x))
    projector = Projector(model)
    image = np.random.default_rng(5).uniform(0, 1, (8, 8, 1)).astype(np.float32)
    assert np.isfinite(projector.project(image, "c2", 1)).all()
    saliency = projector.project(image, "c2", 1, method="saliency")
    expected = _saliency_by_tape(model, "c2", image, 1)
    np.testing.assert_allclose(saliency, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_an_integer_input_model_takes_float_images():
    inputs = keras.Input((8, 8, 1), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(x))
    image = np.random.default_rng(6).integers(0, 256, (8, 8, 1)).astype(np.uint8)
    projection = Projector(model).project(image, "c", 0, method="saliency")
    x = tf.constant(image[None].astype(np.float32))
    with tf.GradientTape() as tape:  # the same layers on a float input
        tape.watch(x)
        act = model.get_layer("c")(model.get_layer("scale")(x))[..., 0]
        target = tf.reduce_sum(act * tf.stop_gradient(act))
    expected = tape.gradient(target, x).numpy()[0]
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(projection, expected, rtol=1e-4, atol=1e-6)
