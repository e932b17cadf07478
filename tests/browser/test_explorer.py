"""Explorer() in a real JupyterLab 4 and Notebook 7: draws, clicks, Python state, latency."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from .explorer_view import ExplorerView
from .jupyter_host import ARTIFACTS, HOSTS
from .probe import canvas_pixels, logs, percentiles, record_latency

pytestmark = pytest.mark.browser

EXPLORER_CELLS = ["from deconv_widgets import Explorer\nex = Explorer()\nex"]
LATENCY_CLICKS = 24


def is_flat(pixels: dict) -> bool:
    """A canvas of fewer than three colours (e.g. a dead channel's empty projection)."""
    return pixels["distinct"] < 3


@pytest.fixture(scope="module", params=HOSTS)
def explorer(request: pytest.FixtureRequest, module_notebook) -> Iterator[ExplorerView]:
    """One notebook showing `Explorer()` per host, shared by this module's tests."""
    nb = module_notebook(EXPLORER_CELLS, host=request.param)
    view = ExplorerView(nb, cell=0)
    view.wait_ready()
    yield view
    nb.close()


def test_canvases_draw(explorer: ExplorerView) -> None:
    """The channel grid and the projection draw varying pixels; the hooks agree."""
    state = explorer.state()
    assert state["grid_layer"], "channel-grid has no data-layer"
    assert state["layer"] == state["grid_layer"]
    assert state["channel"] == state["grid_channel"]
    assert int(state["version"]) >= 1
    assert not is_flat(canvas_pixels(explorer.grid))
    assert not is_flat(state["pixels"])
    box = explorer.projection.bounding_box()  # the first picture: at least 160 CSS px wide
    assert box is not None and box["width"] >= 160, box
    save_widget_shot(explorer, ARTIFACTS / f"explorer-{explorer.nb.server.kind}.png")


def save_widget_shot(explorer: ExplorerView, path) -> None:
    """The Explorer from its controls down to its layer table (docs/screenshot.png's source)."""
    page = explorer.nb.page
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": 1600})
    try:
        output = explorer.root.locator(".jp-OutputArea-output").last
        output.evaluate("(el) => el.scrollIntoView({block: 'start'})")
        top = output.bounding_box()
        bottom = explorer.root.get_by_test_id("inspector").bounding_box()
        controls = explorer.root.locator("select, input, button").all()
        right = max(b["x"] + b["width"] for b in (c.bounding_box() for c in controls) if b)
        clip = {
            "x": top["x"],
            "y": top["y"],
            "width": min(top["width"], right - top["x"] + 8),
            "height": bottom["y"] + bottom["height"] + 8 - top["y"],
        }
        page.screenshot(path=str(path), clip=clip)
    finally:
        page.set_viewport_size(viewport)


def test_click_redraws_and_latency(explorer: ExplorerView) -> None:
    """Clicking other channels changes data-channel, bumps data-version, changes the pixels."""
    before = explorer.state()
    current = before["grid_channel"]
    frames = [before["pixels"]]
    seen = {current}
    clicks = 0
    for x, y in explorer.channel_positions():
        version = explorer.projection.get_attribute("data-version")
        explorer.grid.click(position={"x": x, "y": y})
        picked = explorer.grid.get_attribute("data-channel")
        if picked == current:  # a gap between cells or the selected cell: nothing to redraw
            continue
        explorer.wait_channel(picked, version)
        assert int(explorer.projection.get_attribute("data-version")) > int(version)
        frames.append(canvas_pixels(explorer.projection))
        current = picked
        seen.add(picked)
        clicks += 1
        if clicks >= LATENCY_CLICKS:
            break
    assert clicks >= 20, f"only {clicks} clicks selected a new channel (seen {sorted(seen)})"
    for old, new in itertools.pairwise(frames):
        if not (is_flat(old) and is_flat(new)):  # two dead channels may both draw nothing
            assert old["hash"] != new["hash"], "a new channel drew the same pixels"
    assert explorer.nb.run("print(ex.channel)").strip() == current, "Python state lags"

    versions, stamps = logs(explorer.projection, explorer.grid)
    samples, frame_samples = [], []
    for i, stamp in enumerate(stamps):
        end = stamps[i + 1] if i + 1 < len(stamps) else float("inf")
        redraws = [v for v in versions if stamp <= v["at"] < end]
        if redraws:
            samples.append(redraws[0]["at"] - stamp)
            if redraws[0]["frame"] is not None:
                frame_samples.append(redraws[0]["frame"] - stamp)
    assert len(samples) >= 20, f"{len(samples)} clicks were followed by a redraw"
    record = {
        "host": explorer.nb.server.kind,
        "click_to_data_version": percentiles(samples),
        "click_to_next_frame": percentiles(frame_samples) if frame_samples else None,
    }
    record_latency(record["host"], record)


def test_python_sets_channel(explorer: ExplorerView) -> None:
    """`ex.channel = N` from Python updates the page as a click would."""
    before = explorer.state()
    target = "5" if before["channel"] != "5" else "6"
    explorer.nb.run(f"ex.channel = {target}")
    explorer.wait_channel(target, before["version"])
    after = explorer.state()
    assert after["grid_channel"] == target
    assert int(after["version"]) > int(before["version"])
    if not (is_flat(before["pixels"]) and is_flat(after["pixels"])):
        assert after["pixels"]["hash"] != before["pixels"]["hash"]


def test_explorer_on_the_real_network(open_notebook) -> None:
    """Explorer("vgg16") draws the cat's block3_conv3 projections; a new channel computes one.

    Its widget screenshot (tests/artifacts/explorer-vgg16-lab.png) is docs/screenshot_vgg16.png.
    """
    nb = open_notebook(
        [
            "from deconv_widgets import Explorer\n"
            "ex = Explorer('vgg16', layer='block3_conv3', channel=166, method='guided')\nex"
        ]
    )
    view = ExplorerView(nb, cell=0)
    view.wait_ready()
    state = view.state()
    assert state["layer"] == state["grid_layer"] == "block3_conv3"
    assert not is_flat(state["pixels"]) and not is_flat(canvas_pixels(view.grid))
    save_widget_shot(view, ARTIFACTS / "explorer-vgg16-lab.png")
    target = "17" if state["channel"] != "17" else "18"
    nb.run(f"ex.channel = {target}")
    view.wait_channel(target, state["version"], timeout=60)
    assert view.state()["pixels"]["hash"] != state["pixels"]["hash"]
    assert nb.run("ex.wait(120); print(repr(ex.status))").strip() == "''"
