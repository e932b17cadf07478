"""The harness proves itself on a tiny inline anywidget with the Explorer's front-end hooks."""

from __future__ import annotations

import pytest

from .probe import assert_drawn, canvas_pixels, wait_attr_change

pytestmark = pytest.mark.browser

# A 4x4 grid of channels; a click selects one, the kernel echoes the choice back and the
# projection canvas redraws a pattern that depends on the channel, bumping data-version.
MINI_WIDGET = r'''
import anywidget, traitlets

class MiniExplorer(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const grid = document.createElement('canvas');
        grid.width = 128; grid.height = 128;
        grid.dataset.testid = 'channel-grid';
        const proj = document.createElement('canvas');
        proj.width = 64; proj.height = 64;
        proj.dataset.testid = 'projection';
        proj.dataset.version = '0';
        const g = grid.getContext('2d');
        for (let c = 0; c < 16; c++) {
          g.fillStyle = `hsl(${c * 22}, 70%, 50%)`;
          g.fillRect((c % 4) * 32, Math.floor(c / 4) * 32, 32, 32);
        }
        const draw = () => {
          const c = model.get('channel');
          const p = proj.getContext('2d');
          for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
            p.fillStyle = `hsl(${c * 22}, 80%, ${20 + (x * (c + 1) + y) % 50}%)`;
            p.fillRect(x, y, 1, 1);
          }
          grid.dataset.channel = String(c);
          proj.dataset.channel = String(c);
          proj.dataset.version = String(Number(proj.dataset.version) + 1);
        };
        grid.addEventListener('click', (e) => {
          const r = grid.getBoundingClientRect();
          const col = Math.floor((e.clientX - r.left) / 32);
          const row = Math.floor((e.clientY - r.top) / 32);
          model.set('channel', row * 4 + col);
          model.save_changes();
        });
        model.on('change:channel', draw);
        draw();
        el.append(grid, proj);
      }
    };
    """
    channel = traitlets.Int(0).tag(sync=True)

mini = MiniExplorer()
mini
'''


def test_inline_widget_round_trip(open_notebook, host):
    """Canvas read-back, click -> kernel state -> redraw, and Python -> page all work."""
    nb = open_notebook([MINI_WIDGET], host=host)
    page = nb.page
    grid = nb.cell(0).get_by_test_id("channel-grid")
    projection = nb.cell(0).get_by_test_id("projection")
    grid.wait_for(state="visible", timeout=30_000)
    assert_drawn(grid, "channel-grid")
    before = assert_drawn(projection, "projection")
    version = projection.get_attribute("data-version")

    grid.click(position={"x": 80, "y": 48})  # row 1, column 2 -> channel 6
    wait_attr_change(page, projection, "data-version", version)
    assert grid.get_attribute("data-channel") == "6"
    assert nb.run("print(mini.channel)").strip() == "6"
    after_click = canvas_pixels(projection)
    assert after_click["hash"] != before["hash"]

    version = projection.get_attribute("data-version")
    nb.run("mini.channel = 13")
    wait_attr_change(page, projection, "data-version", version)
    assert projection.get_attribute("data-channel") == "13"
    assert canvas_pixels(projection)["hash"] != after_click["hash"]
