"""The widgets read the method registry; configured methods; nested models' outer/inner layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import floats, floats_at
from projection_models import transfer_model

from deconv_widgets import methods
from deconv_widgets.methods import NAMES
from deconv_widgets.projection import Projector
from deconv_widgets.widgets import ChannelPicker, DeconvView, Explorer, ModelInspector

SIZE = 16
INNER = ["base/conv1", "base/pool", "base/conv2"]
LRP = [name for name in NAMES if "ones" not in methods.get(name).seeds]


@pytest.fixture(scope="module")
def nested() -> keras.Model:
    """The transfer-learning shape (see projection_models.transfer_model)."""
    return transfer_model(SIZE, random_seed=1)


@pytest.fixture(scope="module")
def pictures() -> np.ndarray:
    """Four random RGB images in [0, 1]."""
    return np.random.default_rng(2).uniform(size=(4, SIZE, SIZE, 3)).astype(np.float32)


@pytest.fixture()
def explorer(nested, pictures):
    """An Explorer on the nested model at its inner base/conv2, closed after the test."""
    widget = Explorer(nested, pictures, layer="base/conv2", classes=["a", "b", "c"])
    yield widget
    widget.close()


def test_every_widget_lists_the_registrys_methods(nested, pictures, explorer) -> None:
    assert explorer.methods == list(NAMES) == explorer.proj_methods
    view = DeconvView(nested, pictures[0], "base/conv1", 0)
    picker = ChannelPicker(nested, pictures[0], "base/conv1")
    try:
        assert view.methods == picker.methods == list(NAMES)
        assert view.proj_methods == list(NAMES) and view.proj_shape[0] == len(NAMES)
    finally:
        view.close()
        picker.close()


def test_a_configured_method_takes_its_names_place_and_projects_with_its_configuration(
    explorer, nested, pictures
) -> None:
    projector = Projector(nested)
    index = NAMES.index("lrp_epsilon")
    unit = explorer.channel  # the strongest on the image
    explorer.method = methods.lrp_epsilon(5.0)
    assert explorer.status == "" and explorer.method == "lrp_epsilon(epsilon=5.0)"
    assert explorer.methods == [*NAMES[:index], "lrp_epsilon(epsilon=5.0)", *NAMES[index + 1 :]]
    assert explorer.proj_methods == explorer.methods
    got = floats(explorer.projections, explorer.proj_shape)[index, unit]
    want = projector.project(pictures[0], "base/conv2", unit, method=methods.lrp_epsilon(5.0))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    default = projector.project(pictures[0], "base/conv2", unit, method="lrp_epsilon")
    assert not np.allclose(got, default, rtol=1e-3, atol=1e-6)  # the configuration counts
    # its key does the same (written any way get() reads); the default's key is its name
    explorer.method = "lrp_alpha_beta( alpha = 2, beta = 1 )"
    assert explorer.method == "lrp_alpha_beta(alpha=2.0, beta=1.0)"
    assert explorer.methods[-1] == explorer.method and explorer.methods[index] != "lrp_epsilon"
    explorer.method = "lrp_epsilon(epsilon=0.25)"
    assert explorer.method == "lrp_epsilon" and explorer.methods[index] == "lrp_epsilon"
    got = floats(explorer.projections, explorer.proj_shape)[index, unit]
    np.testing.assert_allclose(got, default, rtol=1e-5, atol=1e-6)
    explorer.method = "guided"  # the configured alpha-beta stays in the list
    assert explorer.methods[-1] == "lrp_alpha_beta(alpha=2.0, beta=1.0)"
    explorer.wait()  # waits for every entry of the list


@pytest.mark.slow("a fresh Explorer for each bad method (~2 s each)")
@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("backprop", ["unknown method 'backprop'", ", ".join(NAMES)]),
        ("lrp_epsilon(epsilon=-1)", ["epsilon must be > 0"]),
        ("lrp_epsilon(eps=1)", ["no parameter 'eps'", "epsilon"]),
        ("lrp_epsilon(epsilon=big)", ["name=number"]),
        (5, ["method must be a name (str) or a deconv_widgets.methods.Method", "int 5"]),
        (
            methods.Method("mine", "mine", "", lambda g, _vjp: g, "g"),
            ["unknown method 'mine'", ", ".join(NAMES)],
        ),
    ],
)
def test_a_bad_method_reverts_and_names_the_choices(explorer, bad, words) -> None:
    explorer.method = methods.lrp_epsilon(0.5)
    before, listed, request = explorer.method, list(explorer.methods), explorer.proj_key["request"]
    explorer.method = bad
    assert explorer.method == before and explorer.methods == listed
    assert explorer.status.startswith("error")
    for word in words:
        assert word in explorer.status
    assert explorer.proj_key["request"] == request
    explorer.channel = 1  # and it keeps working
    assert explorer.channel == 1 and explorer.status == ""


def test_the_constructors_take_a_configured_method_and_refuse_an_unknown_one(
    nested, pictures
) -> None:
    view = DeconvView(nested, pictures[1], "base/conv1", 0, method=methods.lrp_alpha_beta(2, 1))
    try:
        assert view.method == "lrp_alpha_beta(alpha=2.0, beta=1.0)" == view.methods[-1]
        want = Projector(nested).project(pictures[1], "base/conv1", 0, view.method)
        got = floats(view.projections, view.proj_shape)[len(NAMES) - 1, 0]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    finally:
        view.close()
    with pytest.raises(ValueError, match=", ".join(NAMES)):
        Explorer(nested, pictures, method="fancy")
    with pytest.raises(TypeError, match="method must be a name"):
        DeconvView(nested, pictures[1], "base/conv1", 0, method=3)


def test_a_seed_lrp_does_not_take_is_its_error_and_the_other_methods_draw(explorer) -> None:
    assert LRP  # the registry has methods that start from a relevance, not from "ones"
    unit = explorer.channel  # the strongest on the image
    explorer.seed = "ones"
    assert explorer.seed == "ones"
    assert set(explorer.proj_errors) == set(LRP)
    for name in LRP:
        assert f"{name}: method" in explorer.status
        assert "does not start from seed 'ones'" in explorer.proj_errors[name]
    proj = floats(explorer.projections, explorer.proj_shape)
    for index, name in enumerate(explorer.proj_methods):
        drawn = np.abs(proj[index, unit]).sum()
        assert (drawn == 0) if name in LRP else (drawn > 0), name
    explorer.method = LRP[0]  # shown: its error is the status, the widget stays alive
    assert explorer.method == LRP[0] and LRP[0] in explorer.status
    explorer.seed = "max"  # a seed it takes: it draws
    assert explorer.proj_errors == {} and explorer.status == ""
    drawn = floats(explorer.projections, explorer.proj_shape)[NAMES.index(LRP[0]), unit]
    assert np.abs(drawn).sum() > 0


def test_the_page_budget_counts_every_method(nested, pictures, monkeypatch) -> None:
    from deconv_widgets.widgets import _picks

    info = Projector(nested).layer_info("base/conv2")
    per_method = 6 * SIZE * SIZE * 3 * 4  # channels x H x W x C float32
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", per_method * (len(NAMES) - 1))
    assert not _picks.sends_all_channels(info, (SIZE, SIZE, 3))
    assert _picks.sends_all_channels(info, (SIZE, SIZE, 3), method_count=len(NAMES) - 1)
    widget = Explorer(nested, pictures, layer="base/conv2", channel=2)
    try:
        assert widget.proj_channels == [2] and widget.proj_shape[0] == len(NAMES)
    finally:
        widget.close()


# ---------------------------------------------------------------- nested models
@pytest.mark.slow("traces every inner layer of a nested model, widget and Projector (~5 s)")
def test_a_nested_models_inner_layers_are_listed_and_projected(explorer, nested, pictures) -> None:
    names = [row["name"] for row in explorer.layers]
    assert names[:3] == INNER and names == [info.name for info in Projector(nested).layers]
    assert [row["name"] for row in ModelInspector(nested).layers] == names
    projector = Projector(nested)
    for layer in INNER:
        explorer.layer = layer
        assert explorer.layer == layer and explorer.status == "", explorer.status
        explorer.channel = 1
        act = floats(explorer.activations, explorer.act_shape)
        np.testing.assert_allclose(act, projector.activations(pictures[0], layer), rtol=1e-6)
        proj = floats(explorer.projections, explorer.proj_shape)
        for index, method in enumerate(explorer.proj_methods):
            want = projector.project(pictures[0], layer, 1, method=method)
            at = explorer.proj_channels.index(1)
            np.testing.assert_allclose(proj[index, at], want, rtol=1e-5, atol=1e-6)
    explorer.layer = "base/nope"
    assert explorer.layer == INNER[-1] and "base/conv1" in explorer.status


def test_class_lenses_top_k_and_the_ladder_on_an_inner_layer(explorer, nested, pictures) -> None:
    projector = Projector(nested)
    unit = explorer.channel  # the strongest on the image
    explorer.lens_target = 1  # class "b"
    explorer.show_lenses()
    assert explorer.status == "Grad-CAM of class b on base/conv2"
    cam, guided = (floats_at(explorer.lenses, entry) for entry in explorer.lenses_index)
    assert [e["layer"] for e in explorer.lenses_index] == ["base/conv2"] * 2
    np.testing.assert_allclose(
        cam, projector.gradcam(pictures[0], "base/conv2", 1, size="input"), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        guided, projector.guided_gradcam(pictures[0], "base/conv2", 1), rtol=1e-4, atol=1e-6
    )
    explorer.lens_target = -1  # the channel
    assert explorer.lenses_index[0]["target"] == f"channel {unit}"
    explorer.show_occlusion()
    assert [e["kind"] for e in explorer.occlusion_index] == ["unit", "probability", "most_probable"]
    explorer.show_top_k(2)
    found = projector.top_k(pictures, "base/conv2", k=2, channels=[unit], progress=False)
    hits = found.hits[unit]
    assert [(h["image"], h["y"], h["x"]) for h in explorer.topk_index] == [
        (h.image, h.y, h.x) for h in hits
    ]
    explorer.show_ladder()
    assert explorer.ladder_index[0]["layer"] == "base/conv2", explorer.status


def test_the_channel_picker_and_deconv_view_on_an_inner_layer(nested, pictures) -> None:
    picker = ChannelPicker(nested, pictures[2], layer="base/pool")
    view = DeconvView(nested, pictures[2], "base/conv1", 2, method="saliency")
    try:
        assert picker.layer == "base/pool" and picker.act_shape == [7, 7, 4]
        picker.layer = "base/conv2"
        assert picker.act_shape == [5, 5, 6] and picker.status == ""
        want = Projector(nested).project(pictures[2], "base/conv1", 2, method="saliency")
        got = floats(view.projections, view.proj_shape)[NAMES.index("saliency")]
        np.testing.assert_allclose(got[view.proj_channels.index(2)], want, rtol=1e-5, atol=1e-6)
    finally:
        picker.close()
        view.close()
