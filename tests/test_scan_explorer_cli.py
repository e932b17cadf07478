"""Explorer(atlas=...) shows a scan's hits at once; the `scan` and `atlas-html` commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import floats_at
from scan_helpers import write_images

from deconv_widgets import Explorer, zoo
from deconv_widgets.cli import main

scan = pytest.importorskip("deconv_widgets.scan")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A scan of 20 shapes files over pool3 and conv2_2 (k = 4), one process."""
    root = tmp_path_factory.mktemp("scanned")
    write_images(root / "files", zoo.shapes_images(20, random_seed=9)[0])
    atlas = scan.run(
        "shapes", root / "files", ["pool3", "conv2_2"], k=4, out=root / "out", workers=1,
        shard_size=10, progress=False,
    )  # fmt: skip
    return root, atlas


def test_explorer_shows_the_atlas_hits_of_each_pick_at_once(scanned, model) -> None:
    root, atlas = scanned
    images = zoo.shapes_images(3, random_seed=1)[0]
    explorer = Explorer(model, images, layer="pool3", channel=5, atlas=root / "out")
    entries = explorer.topk_index
    hits, shown = atlas.hits("pool3", 5), atlas.shown("pool3", 5)
    assert [(e["image"], e["y"], e["x"], e["value"]) for e in entries] == [
        (h.image, h.y, h.x, h.value) for h in hits
    ]
    assert [e["source"] for e in entries] == [Path(atlas.sources[h.image]).name for h in hits]
    patch = shown[0][0].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(floats_at(explorer.topk, entries[0]["patch"]), patch)
    np.testing.assert_array_equal(floats_at(explorer.topk, entries[0]["projection"]), shown[0][1])
    assert "from the atlas: 20 images" in explorer.status
    sent = explorer.topk
    explorer.image_index = 1  # another image: the atlas's hits stay, not sent again
    assert explorer.topk is sent and explorer.topk_index == entries
    explorer.channel = 6  # a pick: the new unit's hits, no search
    assert explorer.topk_index[0]["value"] == atlas.hits("pool3", 6)[0].value
    explorer.layer = "conv1_1"  # not in the atlas: empty until the button searches `images`
    assert explorer.topk_index == []
    explorer.show_top_k(2)
    assert next(e["source"] for e in explorer.topk_index).startswith("image ")
    explorer.close()


@pytest.mark.slow("VGG16 (32²) behind an Explorer given a toy model's atlas (~9 s)")
def test_an_atlas_of_another_model_is_refused(scanned, vgg16_32) -> None:
    root, atlas = scanned
    with pytest.raises(ValueError, match="the atlas was made with another model: its layer"):
        Explorer(vgg16_32, zoo.photo_patches(2, 32), atlas=atlas)
    with pytest.raises(ValueError, match="no finished atlas in"):
        Explorer(images=None, atlas=root / "files")
    with pytest.raises(TypeError, match=r"atlas must be a deconv_widgets.scan.Atlas"):
        Explorer(atlas=42)


def test_cli_scan_then_atlas_html(scanned, tmp_path, capsys) -> None:
    root, _ = scanned
    out = tmp_path / "out"
    args = ["scan", "--model", "shapes", "--images", str(root / "files" / "*.png")]
    args += ["--layers", "pool3", "--k", "3", "--out", str(out), "--workers", "1"]
    assert main(args) == 0
    said = capsys.readouterr()
    assert "atlas of 1 layers over 20 images" in said.out and "1 computed, 0 reused" in said.out
    assert main(["atlas-html", str(out), "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file()
    assert scan.Atlas.load(out).k == 3


@pytest.mark.slow("each case runs the CLI in a fresh process that imports TensorFlow (~6-10 s)")
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layers", "conv9"], "unknown layer 'conv9'; choose one of: conv1_1"),
        (["--layers", "pool3", "--k", "0"], "k must be an int >= 1, got 0"),
        (
            ["--layers", "pool3", "--method", "backprop"],
            "argument --method: unknown method 'backprop'; choose one of: deconvnet, guided, ",
        ),
    ],
)
def test_cli_scan_user_errors_exit_2_in_one_line(scanned, tmp_path, extra, message) -> None:
    root, _ = scanned
    command = [sys.executable, "-m", "deconv_widgets.cli", "scan", "--model", "shapes"]
    command += ["--images", str(root / "files"), "--out", str(tmp_path / "o"), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_cli_atlas_html_without_an_atlas_exits_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["atlas-html", str(tmp_path), "--out", str(tmp_path / "site")])
    assert stop.value.code == 2
    assert "no finished atlas in" in capsys.readouterr().err
