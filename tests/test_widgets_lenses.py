"""The Explorer's lenses: Grad-CAM, Guided Grad-CAM, occlusion and the sanity cascade traits."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import floats_at, job_row

from deconv_widgets import zoo
from deconv_widgets.widgets import Explorer

LAYER = "conv2_1"
IMAGES = (3, 3)  # (n, random_seed) of the conftest's `images`


@pytest.fixture()
def explorer(model, images):
    """An Explorer that knows the shapes CNN's class names (the conftest's has numbers)."""
    return Explorer(model, images, layer=LAYER, classes=zoo.SHAPE_CLASSES)


def unpacked(buffer: bytes, index: list[dict]) -> list[np.ndarray]:
    """The arrays of a packed buffer and its [{shape, offset}] index."""
    return [floats_at(buffer, entry) for entry in index]


def send(explorer: Explorer, kind: str) -> None:
    """A request from the page, as the button sends it."""
    explorer._on_message(explorer, {"type": kind}, [])


def no_head_model() -> keras.Model:
    """A small ReLU CNN whose output is 4-D: no class head."""
    inputs = keras.Input((16, 16, 1))
    hidden = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    top = keras.layers.Conv2D(3, 3, activation="relu", name="c2")(hidden)
    return keras.Model(inputs, top)


@pytest.mark.slow(
    "five Explorers, the zoo's default one included, each tracing its projections (~25 s)"
)
def test_classes_come_from_the_zoo_the_keyword_or_are_numbered(model, images) -> None:
    assert Explorer().classes == list(zoo.SHAPE_CLASSES)
    assert Explorer(model, images).classes == [f"class {k}" for k in range(len(zoo.SHAPE_CLASSES))]
    names = [f"shape {k}" for k in range(len(zoo.SHAPE_CLASSES))]
    e = Explorer(model, images, classes=names)
    assert e.classes == names and e.lens_target == -1
    with pytest.raises(ValueError, match="2 names, but the model has 8 classes"):
        Explorer(model, images, classes=["a", "b"])
    with pytest.raises(TypeError, match="list of class names"):
        Explorer(model, images, classes="abc")


@pytest.mark.slow(
    "traces Grad-CAM and guided Grad-CAM for a channel and a class, widget and Projector (~7 s)"
)
def test_lenses_equal_the_projector_for_the_channel_and_a_class(explorer, projector, images):
    assert explorer.lenses_index == [] and explorer.lens_version == 0
    send(explorer, "lenses")
    channel = explorer.channel
    cam, guided = unpacked(explorer.lenses, explorer.lenses_index)
    target = (LAYER, channel)
    np.testing.assert_allclose(cam, projector.gradcam(images[0], LAYER, target, size="input"))
    np.testing.assert_allclose(guided, projector.guided_gradcam(images[0], LAYER, target))
    assert [e["kind"] for e in explorer.lenses_index] == ["gradcam", "guided_gradcam"]
    assert explorer.lenses_index[0]["target"] == f"channel {channel}"
    assert explorer.lens_version == 1 and explorer.status.startswith("Grad-CAM")

    explorer.lens_target = 4  # once shown, a new target recomputes
    cam, guided = unpacked(explorer.lenses, explorer.lenses_index)
    np.testing.assert_allclose(cam, projector.gradcam(images[0], LAYER, 4, size="input"))
    np.testing.assert_allclose(guided, projector.guided_gradcam(images[0], LAYER, 4))
    assert explorer.lenses_index[0]["target"] == f"class {zoo.SHAPE_CLASSES[4]}"
    assert explorer.lens_version == 2


def test_lenses_are_in_the_shown_space(model, images, projector) -> None:
    e = Explorer(model, images, preprocess=lambda x: x * 2.0, layer=LAYER)
    send(e, "lenses")
    _, guided = unpacked(e.lenses, e.lenses_index)
    expected = projector.guided_gradcam(images[0] * 2.0, LAYER, (LAYER, e.channel))
    np.testing.assert_allclose(guided, 2.0 * expected, rtol=1e-5, atol=1e-7)  # chain rule


@pytest.mark.parametrize(("bad", "words"), [(8, ["-1", "0..7", "circle"]), (-2, ["0..7"])])
def test_bad_lens_target_goes_to_status_and_keeps_state(explorer, bad, words) -> None:
    send(explorer, "lenses")
    version = explorer.lens_version
    explorer.lens_target = bad
    assert explorer.lens_target == -1
    assert explorer.status.startswith("error")
    for word in words:
        assert word in explorer.status
    assert explorer.lens_version == version
    explorer.lens_target = "2"
    assert explorer.lens_target == -1 and "lens_target must be an int" in explorer.status


def test_occlusion_shows_fig_7_with_a_class_head_with_progress(explorer, projector, images) -> None:
    seen: list[tuple] = []  # the occlusion job's row: (done, total, state) at each change
    explorer.observe(lambda change: seen.append(job_row(change["new"], "occlusion")), "jobs")
    send(explorer, "occlusion")
    unit, probability, most_probable = unpacked(explorer.occlusion, explorer.occlusion_index)
    top = int(np.argmax(projector.class_scores(images[0])))
    expected = projector.occlusion_maps(images[0], LAYER, top, progress=False)
    np.testing.assert_allclose(unit, expected.unit, rtol=1e-5)
    np.testing.assert_allclose(probability, expected.probability, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(most_probable, expected.most_probable)
    kinds = [(e["kind"], e["target"]) for e in explorer.occlusion_index]
    assert kinds == [
        ("unit", f"strongest unit: channel {expected.channel} of {LAYER}"),
        ("probability", f"p({zoo.SHAPE_CLASSES[top]})"),
        ("most_probable", "most probable class"),
    ]
    done, total, state = seen[-1]
    assert state == "done" and done == total == expected.unit.size
    steps = [done for done, _, state in seen if state == "running"]
    assert steps == sorted(steps) and len(set(steps)) > 2  # it moves forward, batch by batch
    assert explorer.occlusion_index[0]["state"] == "done"
    assert explorer.occlusion_version == 1


def test_sanity_cascade_equals_the_projector(explorer, projector, images) -> None:
    send(explorer, "sanity")
    steps = projector.sanity_cascade(images[0], LAYER, explorer.channel, method=explorer.method)
    assert [(e["layer"], e["rho"]) for e in explorer.sanity_index] == [
        (s.layer, pytest.approx(s.rho)) for s in steps
    ]
    assert explorer.sanity_index[0]["layer"] is None
    for got, step in zip(unpacked(explorer.sanity, explorer.sanity_index), steps, strict=True):
        np.testing.assert_allclose(got, step.projection, rtol=1e-5, atol=1e-7)
    assert explorer.sanity_version == 1


def test_a_pick_clears_stale_results_and_grad_cam_follows(explorer, projector, images) -> None:
    for kind in ("lenses", "occlusion", "sanity"):
        send(explorer, kind)
    explorer.method = "guided"  # the cascade used the method; occlusion and Grad-CAM did not
    assert explorer.sanity_index == [] and explorer.sanity_version == 2
    assert explorer.occlusion_index and explorer.lens_version == 1
    explorer.channel = 3  # Grad-CAM follows the channel on a small layer; Fig. 7 does not
    assert explorer.occlusion_index and explorer.occlusion_version == 1
    cam, _ = unpacked(explorer.lenses, explorer.lenses_index)
    np.testing.assert_allclose(cam, projector.gradcam(images[0], LAYER, (LAYER, 3), size="input"))
    assert explorer.lens_version == 2 and explorer.status == ""
    explorer.lens_target = 1  # Fig. 7's class changes: its maps are stale
    assert explorer.occlusion_index == [] and explorer.occlusion_version == 2
    version = explorer.lens_version
    explorer.channel = 4  # a class target does not depend on the channel
    assert explorer.lens_version == version
    explorer.image_index = 2
    cam, _ = unpacked(explorer.lenses, explorer.lenses_index)
    np.testing.assert_allclose(cam, projector.gradcam(images[2], LAYER, 1, size="input"))


def test_on_large_layers_a_pick_clears_grad_cam(model, images, monkeypatch) -> None:
    from deconv_widgets.widgets import _picks

    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 1024)
    e = Explorer(model, images, layer=LAYER, channel=2)
    send(e, "lenses")
    assert e.lenses_index
    e.channel = 5
    assert e.lenses_index == [] and e.lenses == b"" and e.lens_version == 2
    send(e, "lenses")
    assert e.lenses_index[0]["target"] == "channel 5"


def test_a_model_without_a_class_head(images) -> None:
    image = np.random.default_rng(0).uniform(size=(2, 16, 16, 1)).astype(np.float32)
    e = Explorer(no_head_model(), image, layer="c2", channel=1)
    assert e.classes == []
    e.lens_target = 0
    assert e.lens_target == -1
    assert "no class head" in e.status and "-1" in e.status
    send(e, "occlusion")
    assert [x["kind"] for x in e.occlusion_index] == ["channel"]
    send(e, "lenses")
    assert e.lenses_index and e.status.startswith("Grad-CAM")
    with pytest.raises(ValueError, match="no class head"):
        Explorer(no_head_model(), image, classes=["a"])


def test_guided_grad_cam_passes_a_tanh_layer() -> None:
    """Once refused (guided backprop had no rule for tanh); now tanh takes its exact VJP."""
    inputs = keras.Input((12, 12, 1))
    hidden = keras.layers.Conv2D(4, 3, activation="tanh", name="tanh_conv")(inputs)
    top = keras.layers.Conv2D(3, 3, activation="relu", name="top")(hidden)
    image = np.random.default_rng(0).uniform(size=(1, 12, 12, 1)).astype(np.float32)
    e = Explorer(keras.Model(inputs, top), image, layer="top", channel=1)
    send(e, "lenses")
    assert e.status == "Grad-CAM of channel 1 on top"
    cam, guided = unpacked(e.lenses, e.lenses_index)
    expected = e._projector.guided_gradcam(image[0], "top", ("top", 1))
    np.testing.assert_allclose(guided, expected, rtol=1e-5, atol=1e-6)
    assert cam.shape == (12, 12)


def test_lens_errors_go_to_status_and_the_widget_keeps_working() -> None:
    inputs = keras.Input((12, 12, 1))
    main = keras.layers.Conv2D(4, 3, activation="relu", name="main")(inputs)
    logits = keras.layers.Dense(2, name="classes")(keras.layers.GlobalAveragePooling2D()(main))
    side = keras.layers.Conv2D(3, 3, activation="relu", name="side")(inputs)
    image = np.random.default_rng(0).uniform(size=(1, 12, 12, 1)).astype(np.float32)
    e = Explorer(keras.Model(inputs, [logits, side]), image, layer="side", channel=1)
    e.lens_target = 0
    send(e, "lenses")  # class 0 does not depend on the side branch
    assert e.status.startswith("error") and "does not depend on layer 'side'" in e.status
    assert e.lenses_index == []
    e.channel = 2
    assert e.channel == 2
