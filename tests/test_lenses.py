"""Grad-CAM, Guided Grad-CAM, occlusion and the sanity cascade against hand-written versions."""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

import keras
import numpy as np
import pytest

from deconv_widgets import Projector, zoo
from deconv_widgets.projection.lenses import spearman


# ----------------------------------------------------------------------------- models
def chain_model() -> keras.Model:
    """conv-relu, pool, conv-relu, flatten, dense-relu, dense-softmax (a Sequential)."""
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((20, 20, 3)),
            keras.layers.Conv2D(6, 3, activation="relu", name="c1"),
            keras.layers.MaxPooling2D(2, name="p1"),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="c2"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(10, activation="relu", name="fc"),
            keras.layers.Dense(5, activation="softmax", name="out"),
        ],
        name="chain",
    )


def residual_model() -> keras.Model:
    """conv, BN, relu, a residual Add, GAP, Dense logits and a separate Softmax layer."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((16, 16, 2))
    x = keras.layers.Conv2D(6, 3, padding="same", name="c1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU(name="r1")(x)
    y = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c2")(x)
    x = keras.layers.Add(name="add")([x, y])
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c3")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(3, name="logits")(x)
    outputs = keras.layers.Softmax(name="softmax")(x)
    model = keras.Model(inputs, outputs, name="residual")
    bn = model.get_layer("bn1")  # non-trivial statistics, so BN is not the identity
    rng = np.random.default_rng(0)
    bn.moving_mean.assign(rng.normal(0, 0.2, 6).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 6).astype(np.float32))
    bn.gamma.assign(rng.uniform(0.5, 1.5, 6).astype(np.float32))
    return model


MODELS = {"chain": chain_model, "residual": residual_model, "zoo": zoo.shapes_model}
# (layer, a channel target above it) per model
LAYERS = {
    "chain": ("c1", ("c2", 3)),
    "residual": ("c2", ("c3", 1)),
    "zoo": ("conv2_2", ("conv3_2", 3)),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request):
    model = MODELS[request.param]()
    if request.param == "zoo":
        image = zoo.shapes_images(1, random_seed=5)[0][0]  # a shape the CNN was trained on
    else:
        image = np.random.default_rng(5).uniform(0, 1, model.input_shape[1:]).astype(np.float32)
    return request.param, model, Projector(model), image


def logits_of(model: keras.Model, x: tf.Tensor) -> tf.Tensor:
    """Hand-written: the output before its softmax, from the last layers' own weights."""
    last = model.layers[-1]
    if isinstance(last, keras.layers.Softmax):
        return x  # x is already the Softmax layer's input
    return tf.matmul(x, last.kernel) + last.bias


def head_input(model: keras.Model) -> keras.KerasTensor:
    """The tensor `logits_of` starts from."""
    return model.layers[-1].input


def tape_gradcam(model, image, layer, target) -> np.ndarray:
    """The usual Keras recipe: one GradientTape over a model with two outputs."""
    source = head_input(model) if isinstance(target, int) else model.get_layer(target[0]).output
    grad_model = keras.Model(model.inputs[0], [model.get_layer(layer).output, source])
    with tf.GradientTape() as tape:
        activation, value = grad_model(image[None])
        if isinstance(target, int):
            score = logits_of(model, value)[0, target]
        else:
            score = tf.reduce_sum(value[0, :, :, target[1]])
    grads = tape.gradient(score, activation)[0]
    weights = tf.reduce_mean(grads, axis=(0, 1))
    return tf.nn.relu(tf.reduce_sum(activation[0] * weights, axis=-1)).numpy()


def class_score(model, images: np.ndarray, c: int) -> np.ndarray:
    """Hand-written class score of each image, one forward pass each."""
    head = keras.Model(model.inputs[0], head_input(model))
    return np.array([float(logits_of(model, head(im[None]))[0, c]) for im in images])


# --------------------------------------------------------------------------- Grad-CAM
def test_gradcam_equals_a_hand_written_tape_version(case) -> None:
    name, model, projector, image = case
    layer, channel_target = LAYERS[name]
    top = int(np.argmax(projector.class_scores(image)))
    for target in (top, channel_target):
        got = projector.gradcam(image, layer, target)
        want = tape_gradcam(model, image, layer, target)
        assert got.shape == projector.layer_info(layer).output_shape[:2]
        assert got.min() >= 0 and got.max() > 0, (name, target)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * want.max())


def test_class_scores_are_the_output_before_the_softmax(case) -> None:
    _, model, projector, image = case
    scores = projector.class_scores(image)
    probabilities = model(image[None]).numpy()[0]
    np.testing.assert_allclose(tf.nn.softmax(scores).numpy(), probabilities, rtol=1e-4, atol=1e-6)
    assert projector.class_count == len(probabilities)


def test_gradcam_on_a_gap_dense_head_is_the_closed_form_cam() -> None:
    model = zoo.shapes_model()  # ... pool3 -> GlobalAveragePooling2D -> Dense(softmax)
    projector = Projector(model)
    image = zoo.shapes_images(1, random_seed=4)[0][0]
    activation = projector.activations(image, "pool3")  # A: (H', W', K)
    weights = model.get_layer("classes").kernel.numpy()  # W: (K, classes)
    area = activation.shape[0] * activation.shape[1]
    for c in range(projector.class_count):
        cam = np.maximum(activation @ weights[:, c] / area, 0)  # relu(sum_k W[k, c] A_k / H'W')
        np.testing.assert_allclose(
            projector.gradcam(image, "pool3", c), cam, rtol=1e-4, atol=1e-6 * max(cam.max(), 1)
        )


def test_gradcam_at_input_size_is_the_bilinear_resize(case) -> None:
    name, _, projector, image = case
    layer, target = LAYERS[name]
    small = projector.gradcam(image, layer, target)
    big = projector.gradcam(image, layer, target, size="input")
    want = tf.image.resize(small[None, ..., None], image.shape[:2], method="bilinear")
    assert big.shape == image.shape[:2]
    np.testing.assert_allclose(big, want.numpy()[0, ..., 0], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- Guided Grad-CAM
def test_guided_gradcam_is_the_guided_projection_times_the_resized_cam(case) -> None:
    name, _, projector, image = case
    layer, (target_layer, channel) = LAYERS[name]
    guided = projector.project(image, target_layer, channel, "guided", seed="ones")
    cam = projector.gradcam(image, layer, (target_layer, channel), size="input")
    got = projector.guided_gradcam(image, layer, (target_layer, channel))
    np.testing.assert_allclose(got, guided * cam[..., None], rtol=1e-5, atol=1e-7)


@tf.custom_gradient
def guided_relu(x):
    """ReLU forward; backward passes only positive gradients where the input was positive."""

    def backward(dy):
        return tf.nn.relu(dy) * tf.cast(x > 0, dy.dtype)

    return tf.nn.relu(x), backward


def guided_class_oracle(model: keras.Model, image: np.ndarray, c: int) -> np.ndarray:
    """Guided backprop of the zoo CNN's class c, written out with TensorFlow's ops."""
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for layer in model.layers:
            if isinstance(layer, keras.layers.Conv2D):
                h = guided_relu(tf.nn.conv2d(h, layer.kernel, 1, "SAME") + layer.bias)
            elif isinstance(layer, keras.layers.MaxPooling2D):
                h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
                h = tf.reduce_mean(h, axis=[1, 2])
            elif isinstance(layer, keras.layers.Dense):
                h = tf.matmul(h, layer.kernel) + layer.bias  # the score before the softmax
        score = h[0, c]
    return tape.gradient(score, x).numpy()[0]


def test_guided_gradcam_of_a_class_passes_the_head_with_the_guided_rule() -> None:
    model = zoo.shapes_model()
    projector = Projector(model)
    image = zoo.shapes_images(1, random_seed=6)[0][0]
    top = int(np.argmax(projector.class_scores(image)))
    guided = guided_class_oracle(model, image, top)
    assert np.abs(guided).max() > 0
    cam = projector.gradcam(image, "conv3_2", top, size="input")
    got = projector.guided_gradcam(image, "conv3_2", top)
    np.testing.assert_allclose(got, guided * cam[..., None], rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------- occlusion
def brute_force_occlusion(model, image, target, patch, stride, fill) -> np.ndarray:
    """One forward pass per position, written out."""
    rows = range(0, image.shape[0] - patch + 1, stride)
    cols = range(0, image.shape[1] - patch + 1, stride)
    out = np.zeros((len(rows), len(cols)), np.float32)
    for i, y in enumerate(rows):
        for j, x in enumerate(cols):
            copy = image.copy()
            copy[y : y + patch, x : x + patch, :] = fill
            if isinstance(target, int):
                out[i, j] = class_score(model, copy[None], target)[0]
            else:
                sub = keras.Model(model.inputs[0], model.get_layer(target[0]).output)
                out[i, j] = float(np.sum(sub(copy[None]).numpy()[0, :, :, target[1]]))
    return out


def test_occlusion_equals_single_forward_passes_with_its_defaults() -> None:
    model = chain_model()
    projector = Projector(model)
    image = np.random.default_rng(1).uniform(0, 1, (20, 20, 3)).astype(np.float32)
    got = projector.occlusion(image, 2, batch_size=7, progress=False)
    patch = max(1, round(20 / 8))  # 2 (Python rounds 2.5 to even), stride 1
    want = brute_force_occlusion(model, image, 2, patch, max(1, patch // 2), image.mean((0, 1)))
    assert got.shape == (19, 19)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_occlusion_with_explicit_patch_stride_fill_and_a_channel_target() -> None:
    model = zoo.shapes_model()
    projector = Projector(model)
    image = zoo.shapes_images(1, random_seed=8)[0][0]
    calls: list[tuple[int, int]] = []
    target = ("conv2_2", 5)
    report = calls.append
    got = projector.occlusion(
        image, target, patch=12, stride=10, fill=0.25, batch_size=4, progress=lambda *a: report(a)
    )
    want = brute_force_occlusion(model, image, target, 12, 10, 0.25)
    assert got.shape == (6, 6)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    assert calls[-1] == (36, 36) and len(calls) == 9  # one report per batch of 4


# ------------------------------------------------------------------ the sanity cascade
def test_the_sanity_cascade_is_deterministic_and_leaves_the_model_alone(case) -> None:
    name, model, projector, image = case
    layer, _ = LAYERS[name]
    channel = 1
    weights = [w.copy() for w in model.get_weights()]
    before = projector.project(image, layer, channel, "guided")
    steps = projector.sanity_cascade(image, layer, channel)
    again = projector.sanity_cascade(image, layer, channel)
    assert [s.layer for s in steps] == [s.layer for s in again]
    for a, b in zip(steps, again, strict=True):
        np.testing.assert_array_equal(a.projection, b.projection)
        assert a.rho == b.rho
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    np.testing.assert_array_equal(projector.project(image, layer, channel, "guided"), before)
    assert steps[0].layer is None and steps[0].rho == 1.0
    np.testing.assert_array_equal(steps[0].projection, before)
    assert all(-1.0 <= s.rho <= 1.0 for s in steps)
    assert not np.allclose(steps[-1].projection, before)  # fully randomised: different
    # one step per layer with weights on the way down, the top one first
    names = [info.name for info in projector.layers]
    below = names[: names.index(layer) + 1]
    with_weights = [n for n in below if model.get_layer(n).weights][::-1]
    assert [s.layer for s in steps[1:]] == with_weights
    other = projector.sanity_cascade(image, layer, channel, random_seed=1)
    assert not np.array_equal(other[-1].projection, steps[-1].projection)


def test_spearman_matches_scipy_with_ties() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 200).astype(float)  # many ties
    b = a + rng.normal(0, 2, 200)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(np.ones(5), b[:5]) == 0.0  # a constant map has no ranking


# ------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def zoo_projector():
    return Projector(zoo.shapes_model()), zoo.shapes_images(1, random_seed=2)[0][0]


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda p, im: p.gradcam(im, "conv3_2", 8), ValueError, ["class 8", "0..7"]),
        (lambda p, im: p.gradcam(im, "conv3_2", -1), ValueError, ["0..7"]),
        (
            lambda p, im: p.gradcam(im, "conv3_2", ("conv1_1", 0)),
            ValueError,
            ["does not depend on layer 'conv3_2'", "conv3_2, pool3 or a class"],
        ),
        (lambda p, im: p.gradcam(im, "conv3_2", ("conv3_2", 99)), ValueError, ["0..63"]),
        (lambda p, im: p.gradcam(im, "conv3_2", "cat"), TypeError, ["(layer, channel)"]),
        (lambda p, im: p.gradcam(im, "conv3_2", 1, size="big"), ValueError, ["layer, input"]),
        (lambda p, im: p.occlusion(im, 1, patch=65), ValueError, ["1..64"]),
        (lambda p, im: p.occlusion(im, 1, stride=0), ValueError, ["stride 0", ">= 1"]),
        (lambda p, im: p.occlusion(im, 1, fill=float("inf")), ValueError, ["finite"]),
        (lambda p, im: p.occlusion(im, 1, fill=[0.1, 0.2]), ValueError, ["1 (one per channel)"]),
        (lambda p, im: p.occlusion(im, 1, batch_size=0), ValueError, ["batch_size"]),
        (lambda p, im: p.sanity_cascade(im, "conv3_2", 64), ValueError, ["0..63"]),
        (lambda p, im: p.sanity_cascade(im, "conv3_2", 1, method="x"), ValueError, ["guided"]),
    ],
)
def test_bad_lens_input_names_the_valid_choices(zoo_projector, call, error, words) -> None:
    projector, image = zoo_projector
    with pytest.raises(error) as raised:
        call(projector, image)
    for word in words:
        assert word in str(raised.value)


def test_an_int_target_without_a_class_head_says_what_to_pass() -> None:
    inputs = keras.Input((12, 12, 1))
    outputs = keras.layers.Conv2D(3, 3, activation="relu", name="only")(inputs)
    projector = Projector(keras.Model(inputs, outputs))
    image = np.zeros((12, 12, 1), np.float32)
    assert projector.class_count is None
    for call in (
        lambda: projector.gradcam(image, "only", 0),
        lambda: projector.occlusion(image, 0),
        lambda: projector.class_scores(image),
    ):
        with pytest.raises(ValueError, match=r"no class head.*\('only', 0\)"):
            call()
    assert projector.occlusion(image, ("only", 2), patch=4).shape == (5, 5)


def test_occlusion_by_windows_covers_chains_and_falls_back_on_other_graphs() -> None:
    from deconv_widgets.projection import lenses

    chain, residual = Projector(chain_model()), Projector(residual_model())
    image = np.zeros((1, 20, 20, 3), np.float32)
    assert lenses._by_windows(chain, lenses.resolve_target(chain, 2), image) is not None
    assert lenses._by_windows(chain, lenses.resolve_target(chain, ("c2", 1)), image) is not None
    target = lenses.resolve_target(residual, 1)  # an Add: full forward passes instead
    assert lenses._by_windows(residual, target, np.zeros((1, 16, 16, 2), np.float32)) is None


def test_occlusion_with_full_passes_equals_single_forward_passes() -> None:
    model = residual_model()
    image = np.random.default_rng(2).uniform(0, 1, (16, 16, 2)).astype(np.float32)
    got = Projector(model).occlusion(image, 1, patch=5, stride=3, fill=[0.0, 1.0], progress=False)
    want = brute_force_occlusion(model, image, 1, 5, 3, np.array([0.0, 1.0]))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_occlusion_by_windows_on_same_padding_strides_and_borders() -> None:
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((23, 19, 2)),
            keras.layers.Conv2D(4, 5, strides=2, padding="same", activation="relu", name="a"),
            keras.layers.MaxPooling2D(3, strides=2, padding="same", name="p"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Conv2D(5, 3, dilation_rate=2, padding="same", name="b"),
            keras.layers.ReLU(name="r"),
        ]
    )
    projector = Projector(model)
    image = np.random.default_rng(3).uniform(0, 1, (23, 19, 2)).astype(np.float32)
    for patch, stride in ((4, 3), (7, 5), (1, 6)):
        got = projector.occlusion(image, ("r", 2), patch=patch, stride=stride, progress=False)
        want = brute_force_occlusion(model, image, ("r", 2), patch, stride, image.mean((0, 1)))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
