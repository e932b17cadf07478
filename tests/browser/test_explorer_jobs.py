"""The first picture of VGG16 and the job bar, in JupyterLab 4 and Notebook 7.

`Explorer("vgg16", layer="block3_conv3")` opens on a channel whose projection shows
something (not channel 54, which fires on the image's border), drawn at least 160 CSS px wide;
an occlusion map started from the page runs as a job whose bar advances while the map fills
in, and the bar's stop button stops it with the partial map kept.
"""

from __future__ import annotations

import json

import pytest

from .explorer_view import ExplorerView
from .jupyter_host import ARTIFACTS, HOSTS
from .probe import assert_drawn, canvas_pixels

pytestmark = pytest.mark.browser

CELLS = ["from deconv_widgets import Explorer\nex = Explorer('vgg16', layer='block3_conv3')\nex"]
BORDER_CHANNEL = 54  # block3_conv3's strongest channel on the cat: its peak is on the border

# The share of a canvas's pixels visibly away from its most common colour (the background):
# more than 6 of 255 levels, 5 % of the projection's largest value in the page's raw display.
JS_VISIBLE = """
(canvas) => {
  const ctx = canvas.getContext('2d');
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const mode = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const rgb = [(mode >> 16) & 255, (mode >> 8) & 255, mode & 255];
  let away = 0;
  for (let i = 0; i < data.length; i += 4) {
    const d = Math.max(...[0, 1, 2].map((k) => Math.abs(data[i + k] - rgb[k])));
    if (d > 6) away += 1;
  }
  return away / (data.length / 4);
}
"""

SPREAD = """
import numpy as np
got = np.frombuffer(ex.projections, '<f4').reshape(ex.proj_shape)[ex.proj_methods.index(ex.method)]
one = got[ex.proj_channels.index(ex.channel)]
print(json.dumps({"channel": ex.channel, "spread": float(one.std() / np.abs(one).max())}))
"""


def click_below_panel(locator) -> None:
    """Click an element after scrolling it to the bottom of its scroller, as a user would.

    Notebook 7 shows a tall output in a scrolled box, and the Explorer keeps its selection
    panel (the projections, about 210 px high) stuck to that box's top: an element scrolled
    to the top would sit under it.
    """
    locator.evaluate("(el) => el.scrollIntoView({block: 'end'})")
    locator.click()


@pytest.mark.parametrize("host", HOSTS)
def test_vgg16_opens_on_a_channel_that_shows_something_and_a_job_stops(
    open_notebook, host: str
) -> None:
    nb = open_notebook(CELLS, host=host)
    view = ExplorerView(nb, cell=0)
    view.wait_ready()
    nb.run("import json; ex.wait(180)")
    first = json.loads(nb.run(SPREAD).strip().splitlines()[-1])
    assert first["channel"] != BORDER_CHANNEL
    # not flat: its standard deviation is a sizeable fraction of its maximum (channel 54: 0.049)
    assert first["spread"] >= 0.06, first
    canvas = view.projection
    box = canvas.bounding_box()
    assert box is not None and box["width"] >= 160, box  # CSS pixels
    assert canvas.evaluate(JS_VISIBLE) >= 0.18  # channel 54: ~0.11 of its pixels
    view.root.screenshot(path=str(ARTIFACTS / f"explorer-first-picture-{host}.png"))

    # occlusion from the page: a job whose bar advances, then its stop button stops it
    click_below_panel(view.root.get_by_test_id("lenses").locator("summary"))
    click_below_panel(view.root.get_by_role("button", name="occlusion map", exact=True))
    row = view.root.locator('[data-testid="job"][data-job-kind="occlusion"]').last
    nb.page.wait_for_function(
        "(el) => el.dataset.state === 'running' && Number(el.dataset.done) > 0",
        arg=row.element_handle(),
        timeout=120_000,
    )
    before = int(row.get_attribute("data-done") or 0)
    nb.page.wait_for_function(  # it advances
        "(a) => Number(a.el.dataset.done) > a.before",
        arg={"el": row.element_handle(), "before": before},
        timeout=60_000,
    )
    assert view.root.get_by_test_id("occlusion").locator("canvas").count() == 1  # filling in
    row.get_by_test_id("job-stop").click()
    nb.page.wait_for_function(
        "(el) => el.dataset.state === 'stopped'", arg=row.element_handle(), timeout=60_000
    )
    done = int(row.get_attribute("data-done") or 0)
    total = int(row.get_attribute("data-total") or 0)
    assert 0 < done < total
    assert row.get_by_test_id("job-stop").is_disabled()
    progress = view.root.get_by_test_id("occlusion-progress")
    nb.page.wait_for_function(
        "(el) => el.textContent.includes('stopped')", arg=progress.element_handle(), timeout=30_000
    )
    assert f"{done}/{total}" in (progress.text_content() or "")
    state = json.loads(
        nb.run(
            "e = ex.occlusion_index[0]; "
            "print(json.dumps([e['state'], e['done'], ex.jobs[-1]['state']]))"
        )
        .strip()
        .splitlines()[-1]
    )
    assert state == ["stopped", done, "stopped"]
    if host == "lab":  # Notebook 7's own bundle throws "reading 'schema'" on its settings
        assert not nb.console_errors, nb.console_errors


def test_what_it_wants_sharpens_while_its_job_runs_and_stops_on_stop(open_notebook) -> None:
    """The "what it wants" panel redraws the image as it sharpens; stop keeps the last one."""
    nb = open_notebook(["from deconv_widgets import Explorer\nex = Explorer()\nex"])
    view = ExplorerView(nb, cell=0)
    view.wait_ready()
    panel = view.root.get_by_test_id("visualize-panel")
    click_below_panel(panel.locator("summary"))
    picture = view.root.get_by_test_id("visualization")
    click_below_panel(panel.get_by_role("button", name="show what it wants"))
    nb.page.wait_for_function(
        "(el) => el.dataset.state === 'running' && el.width > 0",
        arg=picture.element_handle(),
        timeout=60_000,
    )
    first = canvas_pixels(picture)["hash"]
    nb.page.wait_for_function(  # redrawn as it sharpens
        "(a) => a.el.dataset.state === 'running' && Number(a.el.dataset.done) > a.done",
        arg={"el": picture.element_handle(), "done": int(picture.get_attribute("data-done") or 0)},
        timeout=60_000,
    )
    assert canvas_pixels(picture)["hash"] != first
    row = view.root.locator('[data-testid="job"][data-job-kind="visualize"]').last
    row.get_by_test_id("job-stop").click()
    nb.page.wait_for_function(
        "(el) => el.dataset.state === 'stopped'", arg=row.element_handle(), timeout=60_000
    )
    nb.page.wait_for_function(
        "(el) => el.dataset.state === 'stopped'", arg=picture.element_handle(), timeout=30_000
    )
    assert int(row.get_attribute("data-done") or 0) < 256
    assert "stopped at" in (panel.get_by_test_id("visualization-state").text_content() or "")
    assert_drawn(picture, "what it wants")
    assert not nb.console_errors, nb.console_errors
