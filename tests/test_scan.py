"""The Beam scan against the single-process top_k; resumption after SIGKILL; bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from scan_helpers import as_scanned, assert_atlas_equals_top_k, read_images, write_images

from deconv_widgets import zoo
from deconv_widgets.projection import Projector

scan = pytest.importorskip("deconv_widgets.scan")

LAYERS = ["conv2_2", "pool3"]
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def shapes_files(tmp_path_factory):
    """44 shapes images as 8-bit PNG files, and the same images read back by Pillow."""
    folder = tmp_path_factory.mktemp("shapes_files")
    paths = write_images(folder, zoo.shapes_images(44, random_seed=5)[0])
    return folder, paths, read_images(paths, 1)


@pytest.mark.slow("a Beam scan on two worker processes (~13 s)")
def test_beam_scan_on_two_worker_processes_equals_top_k(shapes_files, projector, tmp_path):
    folder, _, images = shapes_files
    atlas = scan.run(
        "shapes", folder, LAYERS, k=9, out=tmp_path / "out", workers=2, batch_size=5,
        shard_size=8, progress=False,
    )  # fmt: skip
    assert atlas.layers == LAYERS and len(atlas.sources) == 44
    assert atlas.report["shards"] == 6 and atlas.report["shards_computed"] == 6
    assert atlas.report["skipped"] == [] and atlas.report["images"] == 44
    for layer in LAYERS:
        expected = projector.top_k(as_scanned(images, 8, 5), layer, k=9, progress=False)
        assert_atlas_equals_top_k(atlas, expected, layer)
    # the shown patches are the files' own pixels under each hit's receptive field
    hit = atlas.hits("pool3", 3)[0]
    patch, _ = atlas.shown("pool3", 3)[0]
    np.testing.assert_array_equal(patch, np.round(hit.patch * 255).astype(np.uint8))
    again = scan.Atlas.load(tmp_path / "out")
    assert [h.value for h in again.hits("conv2_2", 1)] == [
        h.value for h in atlas.hits("conv2_2", 1)
    ]


@pytest.mark.slow("a Beam scan of VGG16 (32²) over two layers (~16 s)")
def test_scan_of_rgb_jpegs_with_a_keras_model_and_vgg16_preprocess(vgg16_32, tmp_path):
    photos = zoo.photo_patches(12, size=32, random_seed=3)
    paths = write_images(tmp_path / "photos", photos, suffix=".jpg")
    atlas = scan.run(
        vgg16_32, [str(p) for p in reversed(paths)], "block1_conv2,block3_conv3", k=4,
        out=tmp_path / "out", workers=1, batch_size=5, shard_size=6, preprocess="vgg16",
        progress=False,
    )  # fmt: skip
    assert (tmp_path / "out" / "model.keras").is_file()  # what the workers loaded
    assert atlas.sources == [str(p) for p in reversed(paths)]  # a list keeps its order
    inputs = zoo.vgg16_preprocess(read_images(list(reversed(paths)), 3))
    projector = Projector(vgg16_32)
    for layer in ("block1_conv2", "block3_conv3"):
        expected = projector.top_k(as_scanned(inputs, 6, 5), layer, k=4, progress=False)
        assert_atlas_equals_top_k(atlas, expected, layer)
    # projections are shown in RGB: VGG16's BGR preprocess is undone by the stored matrix
    _, shown_projection = atlas.shown("block3_conv3", 0)[0]
    raw = atlas.hits("block3_conv3", 0)[0].projection
    np.testing.assert_allclose(shown_projection, raw[..., ::-1] * 255.0, rtol=1e-5)


SCRIPT = """
import sys
from deconv_widgets import scan
from scan_helpers import SlowPreprocess
atlas = scan.run("shapes", sys.argv[1], ["conv2_2", "pool3"], k=9, out=sys.argv[2], workers=2,
                 batch_size=3, shard_size=6, preprocess=SlowPreprocess(0.4), progress=False)
print("done", atlas.report["shards_computed"], atlas.report["shards_reused"])
"""


def _start(folder: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]]))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(folder), str(out)],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow(
    "a Beam scan on two worker processes, killed, then resumed: Beam starts twice (~50 s)"
)
def test_a_scan_killed_mid_way_resumes_to_the_same_atlas(shapes_files, projector, tmp_path):
    folder, _, images = shapes_files  # 44 files: 8 shards of 6
    out = tmp_path / "out"
    first = _start(folder, out)
    deadline = time.monotonic() + 240
    shards = out / "shards"
    while time.monotonic() < deadline and len(list(shards.glob("*.npz"))) < 2:
        assert first.poll() is None, first.communicate()
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)  # the launcher and its Beam worker processes
    first.wait(30)
    for _ in range(100):
        if not _alive(first.pid):
            break
        time.sleep(0.05)
    assert not _alive(first.pid), "a worker of the killed scan is still running"
    finished = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in shards.glob("*.npz")}
    assert 2 <= len(finished) < 8, f"the kill came too late: {sorted(finished)}"
    assert not (out / "atlas" / "meta.json").exists()

    second = _start(folder, out)
    stdout, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr[-3000:]
    computed, reused = map(int, stdout.split()[-2:])
    assert (computed, reused) == (8 - len(finished), len(finished)), stdout
    for path in shards.glob("*.npz"):  # the finished shards were read, not written again
        if path.name in finished:
            assert (path.stat().st_mtime_ns, path.read_bytes()) == finished[path.name]
    atlas = scan.Atlas.load(out)
    assert atlas.report["resumed"] is True
    for layer in LAYERS:
        expected = projector.top_k(as_scanned(images, 6, 3), layer, k=9, progress=False)
        assert_atlas_equals_top_k(atlas, expected, layer)
    # and equal, array for array, to a scan that never stopped (in one process)
    whole = scan.run(
        "shapes", folder, LAYERS, k=9, out=tmp_path / "whole", workers=1, batch_size=3,
        shard_size=6, progress=False,
    )  # fmt: skip
    for layer in LAYERS:
        for channel in (0, 7):
            for a, b in zip(whole.shown(layer, channel), atlas.shown(layer, channel), strict=True):
                np.testing.assert_array_equal(a[0], b[0])
                np.testing.assert_array_equal(a[1], b[1])


# ------------------------------------------------------------------------------ bad input
def _run(folder, out, layers=("pool3",), **kw):
    options = dict(k=3, workers=1, batch_size=8, shard_size=8, progress=False)
    options.update(kw)
    return scan.run("shapes", folder, list(layers), out=out, **options)


def test_no_file_matches(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(scan.ScanError, match=r"no image files match .*png/jpg/jpeg"):
        _run(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(scan.ScanError, match="no image files match"):
        _run(str(tmp_path / "*.png"), tmp_path / "out")
    with pytest.raises(scan.ScanError, match="do not exist"):
        _run([str(tmp_path / "missing.png")], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing is written before the inputs are known


@pytest.mark.slow("a Beam scan (DirectRunner) over good and broken files (~5 s)")
def test_bad_files_are_skipped_and_listed(shapes_files, projector, tmp_path):
    _, paths, images = shapes_files
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "text.png").write_text("not a picture at all")
    (bad / "truncated.png").write_bytes(paths[0].read_bytes()[:300])
    write_images(bad / "tiny", np.zeros((1, 1, 1, 1)))  # a 1 x 1 picture
    files = [str(paths[0]), str(bad / "text.png"), str(paths[1]), str(bad / "truncated.png")]
    files += [str(bad / "tiny" / "000.png"), str(paths[2])]
    atlas = _run(files, tmp_path / "out", k=2)
    skipped = {number: reason for number, reason in atlas.report["skipped"]}
    assert sorted(skipped) == [1, 3, 4] and atlas.report["images"] == 3
    assert "not a picture" in skipped[1] and "text.png" in skipped[1]
    assert "truncated" in skipped[3] and "too small" in skipped[4]
    numbers = {0: 0, 1: 2, 2: 5}  # top_k's image i is the atlas's source numbers[i]
    expected = projector.top_k(images[:3], "pool3", k=2, progress=False)
    assert_atlas_equals_top_k(atlas, expected, "pool3", numbers=numbers.get)


def test_unknown_layer_bad_k_and_sizes(shapes_files, tmp_path):
    folder = shapes_files[0]
    with pytest.raises(ValueError, match=r"unknown layer 'conv9'; choose one of: conv1_1, "):
        _run(folder, tmp_path / "out", layers=["conv9"])
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        _run(folder, tmp_path / "out", k=0)
    with pytest.raises(TypeError, match="k must be an int >= 1, got str '3'"):
        _run(folder, tmp_path / "out", k="3")
    with pytest.raises(ValueError, match="image_size=32 does not fit the model's input 64x64"):
        _run(folder, tmp_path / "out", image_size=32)
    with pytest.raises(ValueError, match="layers lists a layer twice"):
        _run(folder, tmp_path / "out", layers=["pool3", "pool3"])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow("three Beam scans (DirectRunner, ~3 s each)")
def test_an_out_holding_another_scan_is_refused(shapes_files, tmp_path):
    folder, paths, _ = shapes_files
    out = tmp_path / "out"
    first = _run(folder, out, k=2)
    again = _run(folder, out, k=2)  # the same scan: finished, read back
    assert again.report == first.report
    with pytest.raises(scan.ScanError, match=r"holds a different scan .*k \(2 then, 3 now\)"):
        _run(folder, out, k=3)
    with pytest.raises(scan.ScanError, match=r"layers \(\['pool3'\] then, \['conv1_1'\] now\)"):
        _run(folder, out, k=2, layers=["conv1_1"])
    changed = tmp_path / "changed"
    changed.mkdir()
    for path in paths:
        (changed / path.name).write_bytes(path.read_bytes())
    _run(changed, tmp_path / "out2", k=2)
    os.utime(changed / "003.png", ns=(1, 1))  # one input file changed since
    with pytest.raises(scan.ScanError, match=r"files \(2 added, removed or modified\)"):
        _run(changed, tmp_path / "out2", k=2)
    replaced = _run(folder, out, k=3, overwrite=True)
    assert replaced.k == 3 and json.loads((out / "scan.json").read_text())["fields"]["k"] == 3
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(scan.ScanError, match="is not empty and holds no scan"):
        _run(folder, tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_atlas_load_and_reading_errors(tmp_path):
    with pytest.raises(ValueError, match="no finished atlas in"):
        scan.Atlas.load(tmp_path)


def test_a_scan_of_nothing_readable_says_so(tmp_path):
    (tmp_path / "a.png").write_text("not a picture")
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 nor this")
    with pytest.raises(scan.ScanError, match=r"none of the 2 files could be read, e.g. .*a\.png"):
        _run(tmp_path, tmp_path / "out")
