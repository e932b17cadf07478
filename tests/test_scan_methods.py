"""The scan with a configured method and on a nested model's outer/inner layers."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from projection_models import transfer_model
from scan_helpers import as_scanned, assert_atlas_equals_top_k, read_images, write_images

from deconv_widgets import methods
from deconv_widgets.methods import NAMES
from deconv_widgets.projection import Projector
from deconv_widgets.widgets import Explorer

scan = pytest.importorskip("deconv_widgets.scan")

SIZE = 16
LAYERS = ["base/conv1", "base/conv2"]


def nested_model() -> keras.Model:
    """The transfer-learning shape (see projection_models.transfer_model)."""
    return transfer_model(SIZE, random_seed=3)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """Six RGB files of a nested model's inputs, scanned over two inner layers with LRP-ε."""
    root = tmp_path_factory.mktemp("nested_scan")
    pictures = np.random.default_rng(4).uniform(size=(6, SIZE, SIZE, 3)).astype(np.float32)
    paths = write_images(root / "files", pictures)
    model = nested_model()
    atlas = scan.run(
        model, root / "files", LAYERS, k=2, out=root / "out", workers=1, batch_size=4,
        shard_size=3, method=methods.lrp_epsilon(0.1), progress=False,
    )  # fmt: skip
    return root, model, read_images(paths, 3), atlas


def test_a_nested_models_scan_with_a_configured_method_equals_top_k(scanned) -> None:
    _, model, images, atlas = scanned
    assert atlas.layers == LAYERS and atlas.method == "lrp_epsilon(epsilon=0.1)"
    assert atlas.report["images"] == 6 and atlas.report["shards"] == 2
    projector = Projector(model)
    for layer in LAYERS:
        batches = as_scanned(images, 3, 4)
        expected = projector.top_k(batches, layer, k=2, method=methods.lrp_epsilon(0.1))
        assert_atlas_equals_top_k(atlas, expected, layer)
    # the configuration counts: the default epsilon projects the same hits differently
    hit = atlas.hits("base/conv2", 0)[0]
    default = projector.top_k(images, "base/conv2", k=2, channels=[0], method="lrp_epsilon")
    assert not np.allclose(hit.projection, default.hits[0][0].projection, rtol=1e-3, atol=1e-7)


def test_the_methods_key_is_the_same_scan(scanned) -> None:
    root, model, _, atlas = scanned
    again = scan.run(
        model, root / "files", LAYERS, k=2, out=root / "out", workers=1, batch_size=4,
        shard_size=3, method="lrp_epsilon( epsilon = 0.1 )", progress=False,
    )  # fmt: skip
    assert again.method == atlas.method and again.report == atlas.report  # resumed, as it was
    with pytest.raises(scan.ScanError, match=r"method \('lrp_epsilon\(epsilon=0.1\)' then"):
        scan.run(
            model, root / "files", LAYERS, k=2, out=root / "out", workers=1, batch_size=4,
            shard_size=3, method="guided", progress=False,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "error", "words"),
    [
        ("backprop", ValueError, ["unknown method 'backprop'", ", ".join(NAMES)]),
        ("lrp_epsilon(eps=1)", ValueError, ["no parameter 'eps'"]),
        (3, TypeError, ["method must be a name", "int 3", ", ".join(NAMES)]),
    ],
)
def test_a_bad_method_is_refused_before_the_scan(scanned, tmp_path, method, error, words) -> None:
    root, model, _, _ = scanned
    with pytest.raises(error) as caught:
        scan.run(model, root / "files", LAYERS, out=tmp_path / "out", method=method)
    for word in words:
        assert word in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_the_unit_pages_of_outer_inner_layers_are_one_folder_each(scanned, tmp_path) -> None:
    _, _, _, atlas = scanned
    site = tmp_path / "site"
    index = atlas.to_html(site)
    folders = sorted(p for p in site.iterdir() if p.is_dir())
    assert len(folders) == len(LAYERS)  # no "base" folder holding the inner ones
    for folder in folders:
        assert "/" not in folder.name and (folder / "index.html").is_file()
        assert (folder / "0.html").is_file() and (folder / "png").is_dir()
        assert not [p for p in folder.iterdir() if p.is_dir() and p.name != "png"]
    text = index.read_text(encoding="utf-8")
    for layer in LAYERS:
        assert f">{layer}</a>" in text
    for link in Path(index).read_text().split('href="')[1:]:
        assert (site / link.split('"')[0]).is_file()
    layer_page = (folders[0] / "index.html").read_text(encoding="utf-8")
    assert "lrp_epsilon(epsilon=0.1)" in (folders[0] / "0.html").read_text(encoding="utf-8")
    assert "<h1>base/conv" in layer_page


def test_the_explorer_shows_a_nested_atlas(scanned) -> None:
    _, model, images, atlas = scanned
    widget = Explorer(model, images, layer="base/conv2", channel=1, atlas=atlas)
    try:
        hits = atlas.hits("base/conv2", 1)
        assert [h["image"] for h in widget.topk_index] == [h.image for h in hits]
        assert "lrp_epsilon(epsilon=0.1) projections" in widget.status
        widget.layer = "base/conv1"
        assert len(widget.topk_index) == len(atlas.hits("base/conv1", widget.channel))
    finally:
        widget.close()
