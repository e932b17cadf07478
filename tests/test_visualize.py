"""Feature visualisation (`Projector.visualize`): what a unit wants to see."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deconv_widgets import zoo
from deconv_widgets._tf import tf
from deconv_widgets.projection import Projector
from deconv_widgets.projection.visualize import COLOR_MATRIX, Visualization, visualize_steps

LAYER, CHANNEL, STEPS = "conv2_1", 3, 40


@pytest.fixture(scope="module")
def projector() -> Projector:
    return Projector(zoo.shapes_model())


@pytest.fixture(scope="module")
def seen(projector: Projector) -> Visualization:
    found = projector.visualize(LAYER, CHANNEL, steps=STEPS, random_seed=1)
    assert isinstance(found, Visualization)
    return found


def test_the_objective_rises_and_the_image_is_in_range(seen: Visualization) -> None:
    assert seen.image.shape == (64, 64, 1) and seen.image.dtype == np.float32  # the toy's size
    assert seen.image.min() >= 0.0 and seen.image.max() <= 1.0
    assert seen.history.shape == (STEPS + 1,)
    assert seen.activation > 1.2 * seen.history[0] > 0


def test_the_reported_activation_is_the_image_re_run_through_the_model(
    projector: Projector, seen: Visualization
) -> None:
    again = projector.activations(seen.image, LAYER)[..., CHANNEL].mean()
    assert again == pytest.approx(seen.activation, rel=1e-5)


def test_a_seed_gives_the_same_image_and_another_seed_another(
    projector: Projector, seen: Visualization
) -> None:
    same = projector.visualize(LAYER, CHANNEL, steps=STEPS, random_seed=1)
    other = projector.visualize(LAYER, CHANNEL, steps=STEPS, random_seed=2)
    np.testing.assert_array_equal(same.image, seen.image)
    np.testing.assert_array_equal(same.history, seen.history)
    assert np.abs(other.image - seen.image).max() > 0.05


def test_several_units_in_one_batch_equal_their_own_runs(projector: Projector) -> None:
    batch = projector.visualize(LAYER, [3, 5, 7], steps=STEPS, random_seed=4)
    assert [v.channel for v in batch] == [3, 5, 7]
    for found in batch:
        alone = projector.visualize(LAYER, found.channel, steps=STEPS, random_seed=4)
        # the same seed, noise and transforms; a batched convolution sums in another order, so
        # the last bits differ and Adam carries them a little way
        assert found.activation == pytest.approx(alone.activation, rel=1e-3)
        assert np.abs(found.image - alone.image).mean() < 1e-3
    assert batch[0].activation != pytest.approx(batch[1].activation, rel=1e-2)


@pytest.mark.parametrize(
    ("parameterization", "transforms"),
    [("pixel", "none"), ("fourier", "none"), ("pixel", "robust")],
)
def test_every_parameterization_and_transform_runs_and_climbs(
    projector: Projector, parameterization: str, transforms: str
) -> None:
    found = projector.visualize(
        LAYER, CHANNEL, steps=20, parameterization=parameterization, transforms=transforms
    )
    assert found.activation > found.history[0]


def test_neuron_and_callable_objectives(projector: Projector) -> None:
    neuron = projector.visualize(LAYER, CHANNEL, steps=20, objective="neuron")
    act = projector.activations(neuron.image, LAYER)
    height, width = act.shape[:2]
    assert neuron.activation == pytest.approx(act[height // 2, width // 2, CHANNEL], rel=1e-5)

    def two_channels(output):  # any scalar per image, in keras.ops (or TensorFlow) terms
        ops = keras.ops
        return ops.mean(output[..., 1], axis=(1, 2)) - ops.mean(output[..., 2], axis=(1, 2))

    custom = projector.visualize(LAYER, 0, steps=20, objective=two_channels)
    act = projector.activations(custom.image, LAYER)
    want = act[..., 1].mean() - act[..., 2].mean()
    assert custom.activation == pytest.approx(want, rel=1e-4, abs=1e-6)
    assert custom.activation > custom.history[0]


def test_steps_report_progress_and_the_image_as_it_sharpens(projector: Projector) -> None:
    run = visualize_steps(projector, LAYER, CHANNEL, steps=12, every=5)
    partial = []
    while True:
        try:
            step = next(run)
        except StopIteration as end:
            final = end.value
            break
        if step.value is not None:
            partial.append((step.done, step.value[0].image.copy()))
    assert [done for done, _ in partial] == [5, 10]
    assert np.abs(partial[1][1] - final[0].image).max() > 0  # it kept changing
    assert len(final[0].history) == 13


def test_an_rgb_model_with_its_preprocess_decorrelates_colours() -> None:
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, activation="relu", name="top")(conv))
    projector = Projector(model)

    def preprocess(image):  # BGR, scaled: per-pixel affine
        return image[..., ::-1] * 2.0 - 1.0

    found = projector.visualize("top", 1, steps=15, size=24, preprocess=preprocess)
    assert found.image.shape == (24, 24, 3)
    again = projector.activations(preprocess(found.image), "top")[..., 1].mean()
    assert again == pytest.approx(found.activation, rel=1e-4)
    assert np.linalg.norm(COLOR_MATRIX, axis=0).max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layer": "nope"}, ValueError, "nope"),
        ({"channel": 99}, ValueError, "channel"),
        ({"channel": "3"}, TypeError, "channel"),
        ({"steps": 0}, ValueError, "steps"),
        ({"size": 32}, ValueError, "64 x 64 images only"),
        ({"parameterization": "wavelet"}, ValueError, "fourier, pixel"),
        ({"transforms": "some"}, ValueError, "robust, none"),
        ({"objective": "max"}, ValueError, "channel, neuron"),
        ({"learning_rate": 0}, ValueError, "learning_rate"),
        ({"decorrelate": "yes"}, TypeError, "decorrelate"),
    ],
)
def test_bad_input_is_a_clear_error(projector: Projector, kwargs, error, match) -> None:
    args = {"layer": LAYER, "channel": CHANNEL, "steps": 2, **kwargs}
    with pytest.raises(error, match=match):
        projector.visualize(args.pop("layer"), args.pop("channel"), **args)


@pytest.mark.slow("two feature visualisations run as Explorer jobs (~5 s)")
def test_the_explorer_shows_what_a_channel_wants_as_a_job(projector: Projector) -> None:
    from deconv_widgets.widgets import Explorer

    explorer = Explorer(layer=LAYER, channel=CHANNEL)
    explorer._on_message(explorer, {"type": "visualize"}, [])  # the page's button: 256 steps
    assert explorer.jobs[-1]["kind"] == "visualize" and explorer.jobs[-1]["state"] == "done"
    job = explorer.show_visualization(steps=STEPS)
    assert explorer.jobs[-1]["id"] == job and explorer.jobs[-1]["done"] == STEPS
    image, history = explorer.visualization_index
    want = projector.visualize(LAYER, CHANNEL, steps=STEPS)
    got = np.frombuffer(explorer.visualization, "<f4")
    np.testing.assert_allclose(
        got[: image["shape"][0] * image["shape"][1]].reshape(image["shape"]), want.image, atol=1e-6
    )
    assert history["shape"] == [STEPS + 1] and image["activation"] == pytest.approx(want.activation)
    assert (image["layer"], image["channel"], image["state"]) == (LAYER, CHANNEL, "done")
    assert "wants to see" in explorer.status
    explorer.channel = CHANNEL + 1  # another unit: the picture no longer applies
    assert explorer.visualization_index == [] and explorer.visualization == b""
    explorer.close()


def test_a_unit_silent_on_the_starting_noise_still_climbs(projector: Projector) -> None:
    # conv2_1's channel 20 is zero everywhere after its ReLU on the starting noise: it climbs
    # its pre-activation (lucid's pre_relu) until it fires, so it gets a gradient all the same
    found = projector.visualize("conv2_1", 20, steps=STEPS)
    assert found.history[0] == 0.0 and found.activation > 0.01


def test_batches_of_any_size_one_after_another(model) -> None:
    projector = Projector(model)  # its own compiled steps: one per batch size
    for count in (2, 4, 8, 1):
        found = projector.visualize("conv2_1", list(range(count)), steps=2)
        assert [v.channel for v in found] == list(range(count))


def test_the_pre_activation_run_leaves_the_layer_as_it_was(projector: Projector) -> None:
    graph = projector.graph
    node = graph.node_of["conv2_1"]
    images = tf.constant(zoo.shapes_images(2, random_seed=3)[0])
    before = tf.function(lambda x: graph.run(x, [node], linear=True)[0])(images).numpy()
    after = tf.function(lambda x: graph.run(x, [node])[0])(images).numpy()
    assert node.layer.activation is keras.activations.relu  # swapped back after the trace
    assert before.min() < 0 and np.array_equal(np.maximum(before, 0), after)
