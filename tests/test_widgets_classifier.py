"""The Explorer on a classifier: top-5, class search, Fig. 7's occlusion maps, faithfulness."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from helpers import floats_at

from deconv_widgets import methods, zoo
from deconv_widgets.projection.faithfulness import box_upsample
from deconv_widgets.widgets import Explorer
from deconv_widgets.widgets._classes import search_classes

LAYER = "conv2_1"
IMAGES = (3, 3)  # (n, random_seed) of the conftest's `images`
LITE_LAYER = "block3b_add"  # a shallow layer: the Explorer's own projections compile fast
CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian Mau


@pytest.fixture()
def explorer(model, images):
    e = Explorer(model, images, layer=LAYER, classes=zoo.SHAPE_CLASSES)
    yield e
    e.close()


@pytest.fixture(scope="module")
def lite96():
    """EfficientNet-Lite0 at 96 x 96 on the cat photo (the cat is top-1 at this size too)."""
    e = Explorer(
        zoo.efficientnet_lite0(96),
        zoo.photos(96)[0][:1],
        preprocess=zoo.efficientnet_lite0_preprocess,
        classes=zoo.IMAGENET_CLASSES,
        layer=LITE_LAYER,
    )
    yield e
    e.close()


def send(explorer: Explorer, kind: str) -> None:
    """A request from the page, as its button sends it."""
    explorer._on_message(explorer, {"type": kind}, [])


def unpacked(buffer: bytes, index: list[dict]) -> list[np.ndarray]:
    return [floats_at(buffer, entry) for entry in index]


def top(projector, image, names, k=5) -> list[dict]:
    return [
        {"class": c, "name": names[c], "probability": p}
        for c, p in projector.top_classes(image, k=k)
    ]


def test_predictions_follow_every_new_image(explorer, projector, images) -> None:
    names = zoo.SHAPE_CLASSES
    assert explorer.predictions == top(projector, images[0], names)
    probabilities = [p["probability"] for p in explorer.predictions]
    assert len(probabilities) == 5 and probabilities == sorted(probabilities, reverse=True)
    explorer.image_index = 2
    assert explorer.predictions == top(projector, images[2], names)
    explorer.add_images(images[1][None])
    assert explorer.predictions == top(projector, images[1], names)
    frame = np.repeat((images[0] * 255).round().astype(np.uint8), 3, axis=-1)
    explorer.camera_frame(frame)
    assert explorer.predictions == top(projector, explorer._input, names)
    assert explorer.class_synonyms == []  # the shapes have none


def test_a_model_without_a_class_head_has_no_top5_and_faithfulness_is_a_status_line() -> None:
    inputs = keras.Input((16, 16, 1))
    top_layer = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
    image = np.random.default_rng(0).uniform(size=(1, 16, 16, 1)).astype(np.float32)
    e = Explorer(keras.Model(inputs, top_layer), image, layer="c1", channel=1)
    assert e.predictions == [] and e.class_synonyms == [] and e.search_classes("a") == []
    send(e, "faithfulness")
    assert e.status.startswith("error") and "no class head" in e.status
    assert e.faithfulness_index == [] and e.faithfulness_version == 0
    send(e, "occlusion")  # the channel's map, as before
    assert [x["kind"] for x in e.occlusion_index] == ["channel"]
    e.channel = 2  # the widget keeps working
    assert e.channel == 2


def test_search_matches_names_and_synonyms_case_insensitively() -> None:
    names, synonyms = zoo.IMAGENET_CLASSES, zoo.IMAGENET_SYNONYMS
    assert search_classes("tabby", names, synonyms)[0] == (281, "tabby cat")
    assert search_classes("  TABBY ", names, synonyms)[0] == (281, "tabby cat")
    assert search_classes("Tinca", names, synonyms) == [(0, "tench")]  # a synonym only
    assert search_classes("281", names, synonyms)[0] == (281, "tabby cat")
    assert search_classes("espresso", names, synonyms)[0] == (967, "espresso")
    cats = search_classes("cat", names, synonyms, limit=50)
    assert {281, 282, 285} <= {k for k, _ in cats} and len(cats) <= 50
    assert search_classes("", names, synonyms) == [] and search_classes("zzzq", names) == []
    shapes = search_classes("STRIPES", zoo.SHAPE_CLASSES)
    assert [name for _, name in shapes] == ["horizontal stripes", "vertical stripes"]


def test_box_upsample_averages_the_squares_over_each_pixel() -> None:
    values = np.array([[1.0, 3.0], [5.0, 7.0]])  # squares of 2 pixels, stride 1, on 4 x 4
    up = box_upsample(values, (4, 4), patch=2, stride=1)
    np.testing.assert_allclose(up[0], [1, 2, 3, 3])  # (1 + 3) / 2 where both cover
    np.testing.assert_allclose(up[:, 0], [1, 3, 5, 5])  # row 3: no square, the nearest (row 1)
    np.testing.assert_allclose(up[1, 1], 4.0)  # all four squares


@pytest.mark.slow("EfficientNet-Lite0 at 224² classifies two photos (~5 s)")
def test_efficientnet_lite0_top5_names_the_cat_and_the_coffee() -> None:
    """At 224 (the size it was trained at): the cat photo is a cat, coffee an espresso or cup."""
    shown = zoo.photos()[0][:3]
    e = Explorer(
        zoo.efficientnet_lite0(),
        shown,
        preprocess=zoo.efficientnet_lite0_preprocess,
        classes=zoo.IMAGENET_CLASSES,
        layer="stem_activation",
    )
    try:
        first = e.predictions[0]
        assert first["class"] in CATS and first["name"] == zoo.IMAGENET_CLASSES[first["class"]]
        assert len(e.predictions) == 5 and 0 < first["probability"] <= 1
        assert e.class_synonyms == list(zoo.IMAGENET_SYNONYMS)
        e.image_index = 2
        assert e.predictions[0]["class"] in (967, 968, 504), e.predictions  # espresso, cup, mug
    finally:
        e.close()


@pytest.mark.slow("EfficientNet-Lite0 at 96² with Grad-CAM and occlusion on its classes (~24 s)")
def test_class_lenses_and_fig_7_on_efficientnet_lite0(lite96) -> None:
    e, projector, image = lite96, lite96._projector, lite96._input
    assert e.predictions[0]["class"] in CATS
    assert e.search_classes("tabby")[0] == (281, "tabby cat")
    e.lens_target = 281
    send(e, "lenses")
    assert e.status == f"Grad-CAM of class tabby cat on {LITE_LAYER}"
    cam, guided = unpacked(e.lenses, e.lenses_index)
    expected = projector.gradcam(image, LITE_LAYER, 281, size="input")
    np.testing.assert_allclose(cam, expected, rtol=1e-4, atol=1e-6)
    assert guided.shape == (96, 96, 3) and np.abs(guided).max() > 0

    send(e, "occlusion")  # Fig. 7 for the lens target, on the current layer
    unit, probability, most_probable = unpacked(e.occlusion, e.occlusion_index)
    maps = projector.occlusion_maps(image, LITE_LAYER, 281, progress=False)
    np.testing.assert_allclose(unit, maps.unit, rtol=1e-4)
    np.testing.assert_allclose(probability, maps.probability, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(most_probable, maps.most_probable)
    b, d, legend = e.occlusion_index
    assert (b["kind"], b["channel"], b["layer"]) == ("unit", maps.channel, LITE_LAYER)
    assert (d["kind"], d["class"], d["target"]) == ("probability", 281, "p(tabby cat)")
    assert d["unoccluded"] == pytest.approx(maps.unoccluded[1])
    classes = legend["classes"]
    assert {c["class"] for c in classes} == set(np.unique(maps.most_probable).tolist())
    assert sum(c["count"] for c in classes) == maps.most_probable.size
    assert all(c["name"] == zoo.IMAGENET_CLASSES[c["class"]] for c in classes)
    assert [c["count"] for c in classes] == sorted((c["count"] for c in classes), reverse=True)
    assert "tabby cat (281)" in e.status and e.jobs[-1]["state"] == "done"

    e.lens_target = 1000  # out of range: a status line that does not list 1000 names
    assert e.lens_target == 281 and e.status.startswith("error")
    assert "0..999" in e.status and "search_classes" in e.status and len(e.status) < 300
    assert e.occlusion_index  # kept: the target did not change


@pytest.mark.slow("faithfulness curves of every method on EfficientNet-Lite0 (~10 s)")
def test_faithfulness_table_has_every_method_and_follows_the_class(
    explorer, projector, images
) -> None:
    explorer.show_faithfulness(steps=10)
    rows = explorer.faithfulness_index
    assert [r["method"] for r in rows] == [
        *methods.NAMES,
        "gradcam",
        "guided_gradcam",
        "occlusion",
    ]
    best = explorer.predictions[0]["class"]
    for row in rows:
        assert "error" not in row, row
        assert row["class"] == best and row["target"].endswith(f"({best})")
        for auc in (row["deletion_auc"], row["insertion_auc"]):
            assert np.isfinite(auc) and 0.0 <= auc <= 1.0
    assert set(explorer.faithfulness_table) == {r["method"] for r in rows}
    cam = next(r for r in rows if r["method"] == "gradcam")
    fractions, deletion, insertion = (
        floats_at(explorer.faithfulness, cam[key]) for key in ("fractions", "deletion", "insertion")
    )
    attribution = projector.gradcam(images[0], LAYER, best, size="input")
    for mode, curve in (("deletion", deletion), ("insertion", insertion)):
        want = projector.faithfulness(images[0], best, attribution, mode=mode, steps=10)
        np.testing.assert_allclose(curve, want.curve, rtol=1e-5, atol=1e-7)
        assert cam[f"{mode}_auc"] == pytest.approx(want.auc)
        np.testing.assert_allclose(fractions, want.fractions)
    assert deletion[0] == pytest.approx(explorer.predictions[0]["probability"], rel=1e-4)
    assert explorer.jobs[-1]["state"] == "done" and "lowest deletion AUC" in explorer.status
    version = explorer.faithfulness_version

    explorer.channel = 5  # the class explained does not depend on the channel
    assert explorer.faithfulness_index == rows
    explorer.lens_target = 2  # another class: stale
    assert explorer.faithfulness_index == [] and explorer.faithfulness_version == version + 1
    with pytest.raises(ValueError, match=r"steps must be an int 1\.\.1000"):
        explorer.show_faithfulness(steps=0)
