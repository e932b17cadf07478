"""Issue 7 through the widgets: a bad value shows in `status`, and the widget goes on.

The widget keeps its last valid state and keeps working, and what the user typed (program
text, values, grids) is kept.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import floats

from deconv_widgets.methods import NAMES
from deconv_widgets.projection import MAX_IMAGE_PIXELS, Projector
from deconv_widgets.widgets import Explorer, GradientsPanel, TransposeConvView, UnpoolView

ZOO_LAYERS = "choose one of: conv1_1, conv1_2, pool1"
IMAGES = (3, 5)  # (n, random_seed) of the conftest's `images`


@pytest.fixture(scope="module")
def explorer(model, images):
    """One Explorer for the whole module (each case checks it still works after a bad value)."""
    return Explorer(model, images, layer="conv2_1", channel=2)


# (trait, bad value, words the status must contain: the problem and the valid choices)
EXPLORER_CASES = [
    ("layer", "classes", ["'classes' (Dense)", "no spatial (H, W, C) channels", ZOO_LAYERS]),
    ("layer", "gap", ["GlobalAveragePooling2D", ZOO_LAYERS]),
    ("layer", "<b>nope</b>", ["unknown layer '<b>nope</b>'", ZOO_LAYERS]),
    ("layer", 3, ["layer must be text", "int 3"]),
    ("channel", 32, ["channel 32 is out of range", "0..31"]),
    ("channel", -5, ["channel -5", "0..31"]),
    ("channel", 3.0, ["channel must be an int", "float 3.0"]),
    ("channel", "3", ["channel must be an int", "str '3'"]),
    ("channel", True, ["channel must be an int", "bool True"]),
    ("method", "DeconvNet", ["unknown method 'DeconvNet'", ", ".join(NAMES)]),
    ("seed", "", ["unknown seed ''", "activation, max, ones"]),
    ("image_index", -1, ["image_index -1 is out of range", "0..2"]),
    ("image_index", 1.5, ["image_index must be an int", "float 1.5"]),
]


@pytest.mark.slow("a fresh Explorer for each bad setting (~1-2 s each)")
@pytest.mark.parametrize(
    ("trait", "bad", "words"), EXPLORER_CASES, ids=[f"{c[0]}={c[1]!r}" for c in EXPLORER_CASES]
)
def test_explorer_bad_settings_show_in_status_and_it_keeps_working(
    explorer, model, images, trait, bad, words
):
    explorer.layer, explorer.channel, explorer.image_index = "conv2_1", 2, 0
    before = {t: getattr(explorer, t) for t in ("layer", "channel", "method", "seed")}
    request = explorer.proj_key["request"]
    setattr(explorer, trait, bad)
    for word in words:
        assert word in explorer.status, explorer.status
    assert explorer.status.startswith("error")
    assert {t: getattr(explorer, t) for t in before} == before  # the last valid state
    assert explorer.proj_key["request"] == request
    explorer.layer, explorer.channel = "conv3_1", 5  # the next valid action works
    assert explorer.status == "" and explorer.proj_key["layer"] == "conv3_1"
    shown = floats(explorer.projections, explorer.proj_shape)[0, 5]
    expected = Projector(model).project(images[0], "conv3_1", 5)
    np.testing.assert_allclose(shown, expected, rtol=1e-5, atol=1e-6)


def test_explorer_bad_page_messages_show_in_status(explorer):
    explorer.layer, explorer.channel = "conv2_1", 1
    explorer._on_message(explorer, {"type": "topk", "k": -1}, [])
    assert "k must be an int >= 1, got -1" in explorer.status and "-1" in explorer.status
    explorer._on_message(explorer, {"type": "ladder"}, [])
    assert explorer.status.startswith("ladder:") and explorer.ladder_index


# (images, error, problem, choices)
IMAGE_LISTS = [
    ([[1, 2], [3]], TypeError, "one shape", r"\(H, W, C\)"),
    (np.zeros((2, 64, 64, 1), complex), TypeError, "complex128", "float or int"),
    (np.zeros((0, 64, 64, 1)), ValueError, r"got shape \(0, 64, 64, 1\)", "N >= 1"),
    (np.zeros((2, 64, 64, 1, 1)), ValueError, r"\(2, 64, 64, 1, 1\)", r"\(N, H, W, C\)"),
    (np.full((2, 64, 64, 1), np.nan), ValueError, "NaN or infinite", "finite"),
    (np.zeros((2, 32, 32, 1)), ValueError, r"\(32, 32, 1\) does not fit", r"\(64, 64, 1\)"),
    (np.zeros((2, 64, 64, 3)), ValueError, r"\(64, 64, 3\) does not fit", r"\(64, 64, 1\)"),
    ("images.npy", TypeError, "got str", "NumPy array"),
    (
        np.broadcast_to(np.float32(0), (1, 5000, 5000, 1)),
        ValueError,
        "too large",
        f"MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS}",
    ),
]


@pytest.mark.parametrize("case", IMAGE_LISTS, ids=[str(i) for i in range(len(IMAGE_LISTS))])
def test_explorer_refuses_bad_image_lists(model, case):
    images, error, problem, choices = case
    with pytest.raises(error, match=problem) as info:
        Explorer(model, images)
    assert __import__("re").search(choices, str(info.value)), str(info.value)


def test_explorer_takes_a_keras_path(tmp_path, model, images):
    path = tmp_path / "zoo.keras"
    model.save(path)
    from_path = Explorer(str(path), images, layer="pool2", channel=4)
    from_model = Explorer(model, images, layer="pool2", channel=4)
    np.testing.assert_allclose(
        floats(from_path.projections, from_path.proj_shape),
        floats(from_model.projections, from_model.proj_shape),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match=r"only Keras v3 \.keras files"):
        Explorer(str(tmp_path / "zoo.h5"), images)


# (field, typed text, words in status)
PANEL_CASES = [
    ("program", "import os", ["line 1"]),
    ("program", "y1 = W1.__class__\ny2 = W3 + W4", ["line 1"]),
    ("program", "y1 = (lambda: W1)()\ny2 = W3 + W4", ["line 1"]),
    ("program", "y1 = W1 ** 99999\ny2 = W3 + W4", ["line 1"]),
    ("program", "y1 = <script>alert(1)</script>", ["line 1"]),
    ("values_text", "W1 = [1, 2", ["values", "line 1"]),
    ("values_text", "W1 = 'a'", ["values, line 1", "a number or a list"]),
    ("grad_ys_text", "y1 = [1, 2, 3]\ny2 = [3, 4]", ["y1"]),
    ("xs_text", "nowhere", ["nowhere"]),
    ("unconnected", "sometimes", ["sometimes", "none, zero"]),
]


@pytest.mark.parametrize(("field", "text", "words"), PANEL_CASES)
def test_gradients_panel_errors_keep_the_typed_text_and_recover(field, text, words):
    panel = GradientsPanel("grad_ys")
    good = getattr(panel, field)
    runs = panel.runs
    panel._on_message(panel, {"type": "run", field: text}, [])  # as the page sends it
    assert panel.status.startswith("error"), panel.status
    for word in words:
        assert word in panel.status, panel.status
    assert getattr(panel, field) == text and panel.runs == runs
    panel._on_message(panel, {"type": "run", field: good}, [])
    assert panel.status.startswith("ran:") and panel.grads["W3"] == "[4, 6]"


# (view, trait, bad, words)
VIEW_CASES = [
    ("transpose", "output_size", [9, 9], ["output size 9 is not possible", "choose one of: 7, 8"]),
    ("transpose", "output_size", [7], ["pair of ints"]),
    ("transpose", "stride", 0, ["stride", ">= 1"]),
    ("transpose", "padding", "FULL", ["unknown padding 'FULL'", "VALID, SAME"]),
    ("unpool", "pool_size", 0, ["pool_size must be an int >= 1"]),
    ("unpool", "pool_size", 7, ["pool_size (7, 7) is larger", "at most (6, 6) or padding='SAME'"]),
    ("unpool", "stride", -1, ["strides must be an int >= 1"]),
    ("unpool", "padding", "same ", ["unknown padding 'same '", "VALID, SAME"]),
]


def _view(kind: str):
    return TransposeConvView() if kind == "transpose" else UnpoolView()


@pytest.mark.parametrize(("kind", "trait", "bad", "words"), VIEW_CASES)
def test_op_views_report_bad_sizes_and_keep_working(kind, trait, bad, words):
    view = _view(kind)
    before, result = getattr(view, trait), view.result
    setattr(view, trait, bad)
    for word in words:
        assert word in view.status, view.status
    assert getattr(view, trait) == before and view.result == result
    view.stride = 1  # the next valid action works
    assert view.status == "" and view.result != result


@pytest.mark.parametrize("kind", ["transpose", "unpool"])
@pytest.mark.parametrize("text", ["1 2\n3", "1 x", "", "1e999"])
def test_op_views_keep_bad_typed_grids(kind, text):
    view = _view(kind)
    field = "input_text"
    result = view.result
    setattr(view, field, text)
    assert view.status.startswith("error") and getattr(view, field) == text
    assert view.result == result  # the last valid result stays on screen
    setattr(view, field, "1 2; 3 4")
    assert view.status == "" and view.result != result


# (widget builder, error, problem, choices)
def _deconv_view(model, image):
    from deconv_widgets.widgets import DeconvView

    return DeconvView(model, image, "conv1_1", 0)


PART_CASES = [
    (lambda m: _deconv_view(m, np.zeros((64, 64, 1), complex)), TypeError, "complex", "float"),
    (lambda m: _deconv_view(m, np.zeros((64, 64, 1), bool)), TypeError, "bool", "float or int"),
    (lambda m: _deconv_view(m, np.full((64, 64, 1), np.inf)), ValueError, "infinite", "finite"),
    (
        lambda m: _deconv_view(m, np.broadcast_to(np.float32(0), (4097, 4097, 1))),
        ValueError,
        "too large",
        "MAX_IMAGE_PIXELS",
    ),
    (lambda _m: TransposeConvView(y=np.zeros((500, 500))), ValueError, "too large", "16x16"),
    (
        lambda _m: UnpoolView(image=np.zeros((17, 3))),
        ValueError,
        r"\(17, 3\) is too large",
        "16x16",
    ),
]


@pytest.mark.parametrize("case", PART_CASES, ids=[str(i) for i in range(len(PART_CASES))])
def test_widget_parts_refuse_bad_arrays_in_the_constructor(model, case):
    build, error, problem, choices = case
    with pytest.raises(error, match=problem) as info:
        build(model)
    assert __import__("re").search(choices, str(info.value)), str(info.value)


@pytest.mark.parametrize(
    ("trait", "pasted"),
    [("method", "x" * 10**6), ("layer", "conv" * 10**5), ("channel", "7" * 10**5)],
)
def test_a_pasted_novel_is_not_echoed_whole(explorer, trait, pasted):
    explorer.layer, explorer.channel = "conv2_1", 2
    setattr(explorer, trait, pasted)
    assert explorer.status.startswith("error") and len(explorer.status) < 600
    assert getattr(explorer, trait) != pasted
    explorer.channel = 4
    assert explorer.status == "" and explorer.channel == 4


def test_a_pasted_novel_in_the_values_is_not_echoed_whole():
    panel = GradientsPanel("grad_ys")
    panel._on_message(panel, {"type": "run", "values_text": "W1 = " + "[" * 10**5}, [])
    assert panel.status.startswith("error") and len(panel.status) < 600
    assert panel.values_text == "W1 = " + "[" * 10**5
