"""Two Explorers on one model in one notebook; 200 fast clicks (issue 7, load)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .explorer_view import ExplorerView
from .probe import canvas_pixels, record_latency

pytestmark = pytest.mark.browser

TWO_EXPLORERS = [
    "from deconv_widgets import Explorer, zoo\n"
    "model = zoo.shapes_model()\n"
    "images = zoo.shapes_images(16, random_seed=0)[0]\n"
    "a = Explorer(model, images)\n"
    "a",
    "b = Explorer(model, images)\nb",
]
FAST_CLICKS = 200


@pytest.fixture(scope="module")
def pair(module_notebook) -> Iterator[tuple[ExplorerView, ExplorerView]]:
    """A JupyterLab notebook with Explorers `a` (cell 0) and `b` (cell 1) on the same model."""
    nb = module_notebook(TWO_EXPLORERS, host="lab")
    a, b = ExplorerView(nb, cell=0, name="a"), ExplorerView(nb, cell=1, name="b")
    a.wait_ready()
    b.wait_ready()
    yield a, b
    nb.close()


def calibrate(view: ExplorerView) -> list[tuple[tuple[float, float], str, int]]:
    """Click lattice points; keep (point, channel, projection hash) of those that pick anew."""
    known = []
    current = view.grid.get_attribute("data-channel")
    for position in view.channel_positions():
        version = view.projection.get_attribute("data-version")
        view.grid.click(position={"x": position[0], "y": position[1]})
        picked = view.grid.get_attribute("data-channel")
        if picked != current:
            view.wait_channel(picked, version)
            known.append((position, picked, canvas_pixels(view.projection)["hash"]))
            current = picked
        if len(known) >= 12:
            break
    assert len(known) >= 4, f"{view.name}: only {len(known)} grid points select a channel"
    return known


def test_two_explorers_do_not_interfere(pair: tuple[ExplorerView, ExplorerView]) -> None:
    """Clicks on `a` and `b.channel = N` from Python each leave the other Explorer alone."""
    a, b = pair
    b_before = b.state()
    calibrate(a)
    b_after = b.state()
    for key in ("grid_channel", "channel", "version"):
        assert b_after[key] == b_before[key], f"clicks on a changed b's {key}"
    assert b_after["pixels"]["hash"] == b_before["pixels"]["hash"]

    a_before = a.state()
    target = "3" if b_after["channel"] != "3" else "4"
    a.nb.run(f"b.channel = {target}")
    b.wait_channel(target, b_after["version"])
    a_after = a.state()
    for key in ("grid_channel", "channel", "version"):
        assert a_after[key] == a_before[key], f"b.channel = {target} changed a's {key}"
    printed = a.nb.run("print(a.channel, b.channel)").split()
    assert printed == [a_before["channel"], target]


def test_fast_clicks(pair: tuple[ExplorerView, ExplorerView]) -> None:
    """200 clicks as fast as Chromium takes them: no console error, last click wins, alive."""
    a, b = pair
    page = a.nb.page
    known = calibrate(a)
    b_before = b.state()
    box = a.grid.bounding_box()
    a.nb.console_errors.clear()
    last, last_hash = None, None
    started = time.perf_counter()
    for i in range(FAST_CLICKS):
        # consecutive points select different channels, so every click is a real pick
        (x, y), channel, pixels_hash = known[i % len(known)]
        page.mouse.click(box["x"] + x, box["y"] + y)
        last, last_hash = channel, pixels_hash
    seconds = time.perf_counter() - started
    rate = {"clicks": FAST_CLICKS, "seconds": round(seconds, 2)}
    record_latency("fast_clicks_lab", rate)
    assert a.grid.get_attribute("data-channel") == last
    page.wait_for_function(
        "(a) => a.el.getAttribute('data-channel') === a.channel",
        arg={"el": a.projection.element_handle(), "channel": last},
        timeout=60_000,
    )
    page.wait_for_timeout(1500)  # a late, stale result must not overwrite the last pick
    final = a.state()
    assert final["channel"] == last and final["grid_channel"] == last
    assert final["pixels"]["hash"] == last_hash, "the canvas does not show the last pick"
    assert a.nb.console_errors == [], "\n".join(a.nb.console_errors)
    out = a.nb.run("print('alive', a.channel)")
    assert out.split() == ["alive", last], f"kernel answered {out!r}"
    b_after = b.state()
    assert (b_after["channel"], b_after["version"]) == (b_before["channel"], b_before["version"])
