"""The Explorer on layers of 512 and 2048 channels in JupyterLab: fits, stays in view, picks.

The models are small random Keras CNNs with wide last layers (the point is the channel count,
not the weights) on 56 x 56 or 28 x 28 images: too big to send at once (every method x every
channel x the image > 16 MiB), so picks go through the worker.
"""

from __future__ import annotations

import pytest

from .explorer_view import ExplorerView
from .probe import canvas_pixels, wait_drawn

pytestmark = pytest.mark.browser

WIDE_CELL = """\
import keras, numpy as np
from deconv_widgets import Explorer

def wide(channels, size):
    keras.utils.set_random_seed(0)
    x = keras.Input((4 * size, 4 * size, 3))
    y = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(x)
    y = keras.layers.MaxPooling2D(4, name="pool1")(y)
    y = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name="wide")(y)
    return keras.Model(x, y)

images = np.random.default_rng(0).random((2, 4 * {size}, 4 * {size}, 3)).astype("float32")
ex = Explorer(wide({channels}, {size}), images, layer="wide", channel=0)
ex
"""

JS_LAYOUT = """
(root) => {
  const grid = root.querySelector('[data-testid="channel-grid"]');
  const widget = grid.closest('.dw-explorer');
  const area = root.querySelector('.jp-OutputArea-output') || widget.parentElement;
  const g = grid.getBoundingClientRect();
  return {grid: g.width, area: area.getBoundingClientRect().width,
          scroll: widget.scrollWidth - widget.clientWidth, canvasHeight: g.height};
}
"""

# Is the element's box (at least its upper half) inside the visible part of the notebook?
JS_IN_VIEW = """
(el) => {
  const box = el.getBoundingClientRect();
  const scroller = el.closest('.jp-WindowedPanel-outer') || document.scrollingElement;
  const view = scroller.getBoundingClientRect();
  const top = Math.max(view.top, 0), bottom = Math.min(view.bottom, window.innerHeight);
  return box.height > 0 && box.top >= top - 1 && box.top + box.height / 2 <= bottom + 1;
}
"""


def open_wide(open_notebook, channels: int, size: int) -> ExplorerView:
    nb = open_notebook([WIDE_CELL.format(channels=channels, size=size)])
    view = ExplorerView(nb, cell=0)
    view.wait_ready()
    return view


def pick_with_box(view: ExplorerView, channel: int) -> None:
    """Type a channel into the channel box and press Enter."""
    box = view.root.get_by_test_id("channel-input")
    box.fill(str(channel))
    box.press("Enter")


def wait_shown(view: ExplorerView, channel: int, timeout: float = 60) -> None:
    """Wait until the primary projection shows `channel`, drawn (data-pending '0')."""
    view.nb.page.wait_for_function(
        "(a) => a.el.dataset.channel === a.c && a.el.dataset.pending === '0'",
        arg={"el": view.projection.element_handle(), "c": str(channel)},
        timeout=timeout * 1000,
        polling=20,
    )


@pytest.mark.parametrize(("channels", "size"), [(512, 14), (2048, 7)])
def test_the_grid_fits_the_cell_and_the_projection_stays_in_view(
    open_notebook, channels: int, size: int
) -> None:
    view = open_wide(open_notebook, channels, size)
    layout = view.root.evaluate(JS_LAYOUT)
    assert layout["grid"] <= layout["area"] + 1, layout  # no wider than the cell
    assert layout["scroll"] <= 0, layout  # no horizontal scroll
    # click the last row of tiles, scrolled into view: the projection is on screen after it
    box = view.grid.bounding_box()
    view.grid.evaluate("(el) => el.scrollIntoView({block: 'end'})")
    version = view.projection.get_attribute("data-version")
    view.grid.click(position={"x": 6, "y": box["height"] - 6})
    picked = view.grid.get_attribute("data-channel")
    assert picked not in (None, "0"), picked
    view.wait_channel(picked, version, timeout=60)
    wait_shown(view, int(picked))
    assert view.projection.evaluate(JS_IN_VIEW), "the projection is out of view after a click"
    assert view.nb.run("ex.wait(60); print(ex.channel, ex.proj_channels)").split() == [
        picked,
        f"[{picked}]",
    ]


def test_channel_box_picks_like_a_click_and_pending_shows(open_notebook) -> None:
    view = open_wide(open_notebook, 512, 14)
    page = view.nb.page
    # a click on a tile: remember what it drew
    version = view.projection.get_attribute("data-version")
    for x in (20, 60, 100, 140, 180):  # the first tile right of channel 0 (not a gap)
        view.grid.click(position={"x": x, "y": 12})
        clicked = view.grid.get_attribute("data-channel")
        if clicked != "0":
            break
    assert clicked != "0"
    view.wait_channel(clicked, version)
    wait_shown(view, int(clicked))
    by_click = canvas_pixels(view.projection)["hash"]
    # the box: another channel, then the clicked one again; same pixels as the click drew
    pick_with_box(view, 300)
    wait_shown(view, 300)
    assert view.grid.get_attribute("data-channel") == "300"
    assert view.nb.run("ex.wait(60); print(ex.channel)").strip() == "300"
    pick_with_box(view, int(clicked))
    wait_shown(view, int(clicked))
    assert canvas_pixels(view.projection)["hash"] == by_click
    assert view.nb.run("ex.wait(60); print(ex.channel)").strip() == clicked
    # out of range: nothing is sent, the pick stays
    pick_with_box(view, 512)
    assert view.nb.run("print(ex.channel)").strip() == clicked
    # a new image: nothing of it is in the page yet; the weakest channel is pending, then drawn
    page.evaluate(
        """(el) => { el.__pending = [];
        new MutationObserver(() => el.__pending.push(el.dataset.pending))
          .observe(el, {attributes: true, attributeFilter: ['data-pending']}); }""",
        view.projection.element_handle(),
    )
    weakest = int(view.nb.run("ex.image_index = 1\nprint(ex.strongest[-1])").strip())
    pick_with_box(view, weakest)
    wait_shown(view, weakest)
    pending = view.projection.evaluate("(el) => el.__pending.slice()")
    assert "1" in pending and pending[-1] == "0", pending  # pending while it computed


def test_strongest_first_order_and_prefetched_channels(open_notebook) -> None:
    view = open_wide(open_notebook, 512, 14)
    order = view.root.get_by_test_id("order-select")
    order.select_option("strongest")
    wait_drawn(view.grid, "grid ordered strongest first")
    strongest = view.nb.run("print(ex.strongest[0], ex.strongest[1])").split()
    version = view.projection.get_attribute("data-version")
    view.grid.click(position={"x": 3, "y": 3})  # the first tile: the strongest channel
    assert view.grid.get_attribute("data-channel") == strongest[0]
    view.wait_channel(strongest[0], version)
    wait_shown(view, int(strongest[0]))
    # idle: the strongest channels arrive in the page; picking one needs no kernel round trip
    page = view.nb.page
    page.wait_for_function(
        "(el) => Number(el.dataset.prefetched || 0) >= 3",
        arg=view.grid.element_handle(),
        timeout=60_000,
    )
    answered = page.evaluate(
        """async ([root, c]) => {
          const box = root.querySelector('[data-testid="channel-input"]');
          const proj = root.querySelector('[data-testid="projection"]');
          box.value = String(c);
          box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
          box.dispatchEvent(new Event('change', {bubbles: true}));
          await Promise.resolve();  // microtasks only: no message can come back meanwhile
          await Promise.resolve();
          return proj.dataset.channel === String(c) && proj.dataset.pending === '0';
        }""",
        [view.root.element_handle(), int(strongest[1])],
    )
    assert answered, "a prefetched channel was not drawn synchronously in the page"
