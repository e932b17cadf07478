"""The scan's visualisation stage: equal to Projector.visualize, on the unit pages, resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from helpers import floats_at
from PIL import Image
from scan_helpers import write_images

from deconv_widgets import Explorer, zoo
from deconv_widgets.cli import main
from deconv_widgets.projection import Projector

scan = pytest.importorskip("deconv_widgets.scan")

LAYER, CHANNELS, STEPS = "conv2_2", 32, 6  # shapes' conv2_2: 4 batches of 8 units
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """12 shapes images as PNG files."""
    folder = tmp_path_factory.mktemp("visual_files")
    write_images(folder, zoo.shapes_images(12, random_seed=4)[0])
    return folder


@pytest.fixture(scope="module")
def atlas(files, tmp_path_factory):
    """A scan of conv2_2 with each unit visualised (6 steps), one process."""
    out = tmp_path_factory.mktemp("visual_out")
    return scan.run(
        "shapes", files, [LAYER], k=3, out=out, workers=1, shard_size=6, progress=False,
        visualize=True, visualize_steps=STEPS,
    )  # fmt: skip


def _expected(projector: Projector, start: int, steps: int = STEPS) -> list:
    """Projector.visualize of the batch of 8 units the scan visualised together."""
    return projector.visualize(LAYER, list(range(start, start + 8)), steps=steps)


def _assert_same(atlas, projector: Projector, steps: int = STEPS) -> None:
    """Every unit's image and history equal Projector.visualize's, batch by batch."""
    for start in range(0, CHANNELS, 8):
        for found in _expected(projector, start, steps):
            image = atlas.visualization(LAYER, found.channel)
            assert image.shape == (64, 64, 1) and image.dtype == np.float32
            np.testing.assert_allclose(image, found.image, atol=1e-5)
            history = atlas.visualization_history(LAYER, found.channel)
            assert len(history) == steps + 1
            np.testing.assert_allclose(history, found.history, rtol=1e-4, atol=1e-6)


def test_each_units_visualisation_equals_projector_visualize(atlas, projector) -> None:
    assert atlas.visualized["steps"] == STEPS and atlas.visualized["size"] == 64
    assert atlas.report["visualizations_computed"] == CHANNELS
    _assert_same(atlas, projector)
    with pytest.raises(ValueError, match="channel 32 is out of range"):
        atlas.visualization(LAYER, CHANNELS)


@pytest.mark.slow("opens an Explorer on a visualising scan's atlas (~6 s)")
def test_the_explorer_shows_the_atlas_visualisation_of_each_pick_at_once(atlas, model) -> None:
    images = zoo.shapes_images(2, random_seed=1)[0]
    explorer = Explorer(model, images, layer=LAYER, channel=5, atlas=atlas)
    for channel in (5, 9):
        explorer.channel = channel
        image_entry, history_entry = explorer.visualization_index
        history = atlas.visualization_history(LAYER, channel)
        assert image_entry["state"] == "done" and image_entry["channel"] == channel
        assert image_entry["steps"] == STEPS and image_entry["activation"] == float(history[-1])
        image = floats_at(explorer.visualization, image_entry)
        np.testing.assert_array_equal(image, atlas.visualization(LAYER, channel))
        np.testing.assert_array_equal(floats_at(explorer.visualization, history_entry), history)
    explorer.layer = "pool3"  # not in the atlas: no visualisation until asked
    assert explorer.visualization_index == [] and explorer.jobs == []
    explorer.close()


class _Page(HTMLParser):
    """A page's <img> sources and its text, in order."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.images: list[str] = []
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_unit_pages_show_what_it_wants_beside_what_it_gets(atlas, tmp_path) -> None:
    site = atlas.to_html(tmp_path / "site").parent
    channel = 5
    page = _Page(site / LAYER / f"{channel}.html")
    text = " ".join(page.text)
    assert text.index("What it wants") < text.index("What it gets")
    history = atlas.visualization_history(LAYER, channel)
    assert f"activation {float(history[-1]):.4g} after {STEPS} steps" in text
    hits = atlas.hits(LAYER, channel)
    assert page.images[0] == f"png/{channel}-wants.png" and len(page.images) == 1 + 2 * len(hits)
    with Image.open(site / LAYER / "png" / f"{channel}-wants.png") as png:
        drawn = np.asarray(png)
    image = atlas.visualization(LAYER, channel)[..., 0]
    assert drawn.shape == (64, 64)  # 64 px already: not upscaled
    np.testing.assert_array_equal(drawn, np.round(image * 255).astype(np.uint8))
    layer_page = _Page(site / LAYER / "index.html")
    assert f"png/{channel}-wants.png" in layer_page.images
    for folder in (site, site / LAYER):
        for html in folder.glob("*.html"):
            for source in _Page(html).images:
                assert (html.parent / source).is_file(), (html, source)
    assert "visualisations" in (site / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"visualize_steps": 0}, ValueError, "steps must be an int >= 1, got 0"),
        ({"visualize_size": 30}, ValueError, "this model takes 64 x 64 images only"),
        ({"visualize_steps": "many"}, TypeError, "steps must be an int"),
    ],
)
def test_bad_visualisation_settings_are_refused_before_any_work(
    files, tmp_path, options, error, message
) -> None:
    out = tmp_path / "out"
    with pytest.raises(error, match=message):
        scan.run("shapes", files, [LAYER], out=out, workers=1, progress=False, visualize=True,
                 **options)  # fmt: skip
    assert not out.exists() or not any(out.iterdir())  # nothing claimed, nothing computed
    with pytest.raises(TypeError, match="visualize must be True or False, got str"):
        scan.run("shapes", files, [LAYER], out=out, workers=1, visualize="yes")


@pytest.mark.slow("two scans of 12 files (one process each) and 32 visualisations (~8 s)")
def test_cli_visualize_on_a_finished_scan_computes_only_the_visualisations(
    files, projector, tmp_path, capsys
) -> None:
    out = tmp_path / "out"
    plain = scan.run("shapes", files, [LAYER], k=3, out=out, workers=1, shard_size=6,
                     progress=False)  # fmt: skip
    assert plain.visualized is None and plain.visualization(LAYER, 0) is None
    args = ["scan", "--model", "shapes", "--images", str(files), "--layers", LAYER, "--k", "3"]
    args += ["--out", str(out), "--workers", "1", "--shard-size", "6", "--visualize"]
    assert main([*args, "--visualize-steps", str(STEPS)]) == 0
    said = capsys.readouterr().out
    assert "shards: 2 computed" not in said and "2 reused" in said
    assert f"visualisations: {CHANNELS} computed, 0 reused" in said
    atlas = scan.Atlas.load(out)
    assert [h.value for h in atlas.hits(LAYER, 3)] == [h.value for h in plain.hits(LAYER, 3)]
    _assert_same(atlas, projector)


SCRIPT = """
import sys
from deconv_widgets import scan
atlas = scan.run("shapes", sys.argv[1], ["conv2_2"], k=3, out=sys.argv[2], workers=2,
                 shard_size=6, progress=False, visualize=True, visualize_steps=int(sys.argv[3]))
print("done", atlas.report["visualizations_computed"], atlas.report["visualizations_reused"])
"""


def _start(folder: Path, out: Path, steps: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ["PYTHONPATH"]]))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(folder), str(out), str(steps)],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


@pytest.mark.slow(
    "a visualising scan on two worker processes, killed, then resumed: Beam starts twice (~47 s)"
)
def test_a_visualising_scan_killed_mid_way_resumes_to_the_same_images(
    files, projector, tmp_path
) -> None:
    out, steps = tmp_path / "out", 150  # a batch of 8 units: ~1 s on a worker
    first = _start(files, out, steps)
    deadline = time.monotonic() + 300
    visual = out / "visual"
    while time.monotonic() < deadline and not list(visual.glob("*.npz")):
        assert first.poll() is None, first.communicate()
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)  # the launcher and its Beam worker processes
    first.wait(30)
    finished = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in visual.glob("*.npz")}
    assert 1 <= len(finished) < 4, f"the kill came too late: {sorted(finished)}"
    assert not (out / "atlas" / "meta.json").exists()

    second = _start(files, out, steps)
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr[-3000:]
    computed, reused = map(int, stdout.split()[-2:])
    assert (computed, reused) == (CHANNELS - 8 * len(finished), 8 * len(finished)), stdout
    for path in visual.glob("*.npz"):  # the finished batches were read, not written again
        if path.name in finished:
            assert (path.stat().st_mtime_ns, path.read_bytes()) == finished[path.name]
    _assert_same(scan.Atlas.load(out), projector, steps)
