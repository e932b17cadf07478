"""Explorer and its parts: state, payloads and error routing with the real Projector."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import floats, job_row

from deconv_widgets.methods import NAMES
from deconv_widgets.projection import Projector
from deconv_widgets.widgets import ChannelPicker, DeconvView, Explorer, ModelInspector
from deconv_widgets.widgets._picks import first_channel

IMAGES = (4, 3)  # (n, random_seed) of the conftest's `images`; its `explorer` is at conv2_1


def test_default_explorer_uses_the_zoo() -> None:
    e = Explorer()
    assert e.n_images == 16
    assert e.layer == e.layers[-1]["name"]
    assert e.act_shape == list(e._projector.layer_info(e.layer).output_shape)
    assert e.status == ""


def test_small_layers_send_every_channel_for_every_method(explorer, model, images) -> None:
    channels = explorer.act_shape[-1]
    assert explorer.proj_channels == list(range(channels))
    assert explorer.proj_shape == [len(NAMES), channels, 64, 64, 1]
    assert explorer.proj_methods == list(NAMES) == explorer.methods
    proj = floats(explorer.projections, explorer.proj_shape)
    expected = Projector(model).project(images[0], "conv2_1", 7, method="guided")
    np.testing.assert_allclose(proj[1, 7], expected, rtol=1e-5, atol=1e-6)
    act = floats(explorer.activations, explorer.act_shape)
    np.testing.assert_allclose(act, Projector(model).activations(images[0], "conv2_1"), rtol=1e-6)


def test_channel_switch_on_a_small_layer_needs_no_new_payload(explorer) -> None:
    request = explorer.proj_key["request"]
    explorer.channel = 9
    assert explorer.channel == 9
    assert explorer.proj_key["request"] == request
    assert explorer.status == ""


def test_layer_image_and_seed_changes_update_buffers_and_request(explorer, model, images) -> None:
    request = explorer.proj_key["request"]
    explorer.layer = "pool1"
    assert explorer.act_shape == [32, 32, 16]
    assert explorer.proj_key["layer"] == "pool1"
    assert explorer.proj_key["request"] == request + 1
    explorer.image_index = 2
    assert explorer.proj_key["request"] == request + 2
    act = floats(explorer.activations, explorer.act_shape)
    np.testing.assert_allclose(act, Projector(model).activations(images[2], "pool1"), rtol=1e-6)
    explorer.seed = "max"
    assert explorer.proj_key["seed"] == "max"
    assert explorer.proj_key["request"] == request + 3


def test_layer_with_fewer_channels_resets_the_channel(explorer) -> None:
    explorer.channel = 30
    explorer.layer = "conv1_1"
    assert explorer.channel == 0
    assert explorer.status == ""


@pytest.mark.slow("a fresh Explorer for each case (~2 s each)")
@pytest.mark.parametrize(
    ("trait", "bad", "words"),
    [
        ("layer", "dense_9", ["dense_9", "conv1_1"]),
        ("channel", 32, ["32", "0..31"]),
        ("channel", -1, ["-1", "0..31"]),
        ("method", "backprop", ["backprop", ", ".join(NAMES)]),
        ("seed", "random", ["random", "activation"]),
        ("image_index", 4, ["4", "0..3"]),
    ],
)
def test_bad_values_go_to_status_and_keep_state(explorer, trait, bad, words) -> None:
    before = getattr(explorer, trait)
    request = explorer.proj_key["request"]
    setattr(explorer, trait, bad)
    assert getattr(explorer, trait) == before
    assert explorer.status.startswith("error")
    for word in words:
        assert word in explorer.status
    assert explorer.proj_key["request"] == request
    explorer.channel = 3  # and it keeps working
    assert explorer.channel == 3
    assert explorer.status == ""


def test_constructor_arguments_raise_clear_errors(model, images) -> None:
    with pytest.raises(ValueError, match="unknown layer 'nope'; choose one of: conv1_1"):
        Explorer(model, images, layer="nope")
    with pytest.raises(ValueError, match=r"choose 0..15"):
        Explorer(model, images, layer="conv1_1", channel=16)
    with pytest.raises(ValueError, match=", ".join(NAMES)):
        Explorer(model, images, method="fancy")
    with pytest.raises(ValueError, match="images are needed"):
        Explorer(model)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        Explorer(model, np.zeros((2, 2)))


def test_large_layers_project_on_demand(model, images, monkeypatch) -> None:
    from deconv_widgets.widgets import _picks

    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 1024)
    e = Explorer(model, images, layer="conv1_2", channel=2)
    assert e.proj_channels == [2]
    assert e.proj_shape == [len(NAMES), 1, 64, 64, 1]
    request = e.proj_key["request"]
    e.channel = 5
    assert e.proj_channels == [5]
    assert e.proj_key["request"] == request + 1
    proj = floats(e.projections, e.proj_shape)
    expected = Projector(model).project(images[0], "conv1_2", 5, method="saliency")
    np.testing.assert_allclose(proj[NAMES.index("saliency"), 0], expected, rtol=1e-5, atol=1e-6)


def test_ladder_ends_in_the_deconvnet_projection(explorer, model, images) -> None:
    explorer.channel = 4
    explorer._on_message(explorer, {"type": "ladder"}, [])
    assert explorer.ladder_index, explorer.status
    last = explorer.ladder_index[-1]
    data = np.frombuffer(explorer.ladder, "<f4")
    got = data[last["offset"] :].reshape(last["shape"])
    expected = Projector(model).project(images[0], "conv2_1", 4, method="deconvnet")
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    explorer.channel = 5  # a new pick forgets the old ladder
    assert explorer.ladder_index == []


def test_messages_never_raise(explorer) -> None:
    before = explorer.channel
    explorer._on_message(explorer, {"type": "nonsense"}, [])
    explorer._on_message(explorer, "not a dict", [])
    assert explorer.channel == before


def test_opens_on_the_strongest_channel_whose_peak_is_off_the_border(
    explorer, model, images
) -> None:
    act = Projector(model).activations(images[0], "conv2_1")
    height, width, channels = act.shape
    margin = max(1, round(0.1 * height)), max(1, round(0.1 * width))
    inside = []
    for c in range(channels):
        y, x = np.unravel_index(np.argmax(act[..., c]), (height, width))
        if margin[0] <= y < height - margin[0] and margin[1] <= x < width - margin[1]:
            inside.append((float(act[..., c].max()), -c))
    assert explorer.channel == -max(inside)[1]


def test_the_first_channel_skips_peaks_on_the_border() -> None:
    act = np.zeros((10, 10, 4), np.float32)
    act[0, 5, 0] = 9.0  # the strongest, on the top row
    act[5, 9, 1] = 8.0  # on the right column
    act[4, 4, 2] = 5.0  # inside
    act[5, 5, 3] = 6.0  # inside, stronger: chosen
    assert first_channel(act) == 3
    act[..., 3] = 0.0
    assert first_channel(act) == 2
    act[..., 2:] = 0.0  # every peak on the border (or none): the strongest
    assert first_channel(act) == 0
    assert first_channel(np.ones((2, 2, 3), np.float32)) == 0  # too small for a border rule


def test_parts_work_alone(model, images) -> None:
    inspector = ModelInspector(model)
    assert [r["name"] for r in inspector.layers][:2] == ["conv1_1", "conv1_2"]
    assert {"kind", "output_shape", "params", "receptive_field", "jump"} <= set(inspector.layers[0])
    picker = ChannelPicker(model, images[1], layer="pool2")
    assert picker.act_shape == [16, 16, 32]
    assert picker.projections == b""
    picker.channel = 40
    assert picker.channel == 0 and "0..31" in picker.status
    view = DeconvView(model, images[1], "conv1_1", 3, method="saliency")
    assert view.proj_shape[0] == len(NAMES) and view.method == "saliency"
    view.method = "guided"
    assert view.method == "guided" and view.status == ""


def test_top_k_reports_progress_and_sends_hits(explorer) -> None:
    seen: list[tuple] = []  # the top-k job's row: (done, total, state) at each change
    explorer.observe(lambda change: seen.append(job_row(change["new"], "topk")), names="jobs")
    explorer._on_message(explorer, {"type": "topk", "k": 3}, [])
    assert len(explorer.topk_index) == 3, explorer.status
    values = [hit["value"] for hit in explorer.topk_index]
    assert values == sorted(values, reverse=True)
    assert seen[0][2] == "queued" and seen[-1] == (4, 4, "done")
    last = explorer.topk_index[-1]["projection"]
    size = int(np.prod(last["shape"]))
    assert len(explorer.topk) == 4 * (last["offset"] + size)
    assert all(0 <= hit["image"] < 4 for hit in explorer.topk_index)


def test_preprocess_maps_the_shown_image_to_the_model_input(model, images) -> None:
    e = Explorer(model, images, preprocess=lambda image: image * 2.0, layer="conv1_1")
    act = floats(e.activations, e.act_shape)
    np.testing.assert_allclose(
        act, Projector(model).activations(images[0] * 2.0, "conv1_1"), rtol=1e-5, atol=1e-6
    )
    shown = floats(e.image, e.image_shape)
    np.testing.assert_allclose(shown, images[0])  # the page shows the image, not the input
    with pytest.raises(TypeError, match="preprocess must be a function"):
        Explorer(model, images, preprocess=3)


def test_wrong_images_for_the_model_raise(model) -> None:
    with pytest.raises(ValueError):
        Explorer(model, np.zeros((2, 32, 32, 1), np.float32))


@pytest.mark.slow("builds a model and traces all five methods through it (~5 s)")
def test_every_method_passes_a_tanh_layer_by_its_exact_backward() -> None:
    """Once refused by deconvnet and guided; now each method takes tanh's own VJP there."""
    import keras

    keras.utils.set_random_seed(3)  # unseeded, channel 1 could be dead: all-zero pictures
    inputs = keras.Input((12, 12, 1))
    hidden = keras.layers.Conv2D(4, 3, activation="tanh", name="tanh_conv")(inputs)
    top = keras.layers.Conv2D(3, 3, activation="relu", name="top")(hidden)
    small = keras.Model(inputs, top)
    image = np.random.default_rng(0).uniform(size=(12, 12, 1)).astype(np.float32)
    assert np.asarray(small(image[None]))[..., 1].max() > 0  # channel 1 fires
    e = Explorer(small, image[None], layer="top", channel=1)
    assert e.proj_errors == {} and e.status == ""
    assert e.proj_methods == list(NAMES)
    proj = floats(e.projections, e.proj_shape)
    projector = Projector(small)
    for index, method in enumerate(NAMES):
        expected = projector.project(image, "top", 1, method=method)
        np.testing.assert_allclose(proj[index, 1], expected, rtol=1e-5, atol=1e-6)
    assert np.abs(proj[:, 1]).sum(axis=(1, 2, 3)).min() > 0
    e.channel = 2  # the widget keeps working
    assert e.channel == 2


@pytest.mark.slow("a fresh Explorer for each of 5 cases (~2 s each)")
@pytest.mark.parametrize(
    ("trait", "bad"),
    [("channel", "3"), ("channel", 2.0), ("channel", True), ("layer", 5), ("image_index", None)],
)
def test_wrong_types_go_to_status(explorer, trait, bad) -> None:
    before = getattr(explorer, trait)
    setattr(explorer, trait, bad)
    assert getattr(explorer, trait) == before
    assert f"{trait} must be" in explorer.status
    explorer.channel = np.int64(2)  # NumPy integers are fine, and stored as int
    assert explorer.channel == 2 and type(explorer.channel) is int and explorer.status == ""


def test_wrong_types_in_the_constructor_raise(model, images) -> None:
    with pytest.raises(TypeError, match="channel must be an int"):
        Explorer(model, images, channel="3")


def test_layer_accepts_a_layer_info(explorer) -> None:
    info = explorer._projector.layer_info("pool2")
    explorer.layer = info
    assert explorer.layer == "pool2" and explorer.act_shape == [16, 16, 32]
