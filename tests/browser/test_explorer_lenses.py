"""The Explorer's lens panel in a real JupyterLab: Grad-CAM, occlusion and the sanity cascade."""

from __future__ import annotations

import pytest

from deconv_widgets import zoo

from .explorer_view import ExplorerView
from .jupyter_host import ARTIFACTS
from .probe import assert_drawn, jobs_done, wait_attr_change, wait_jobs_done

pytestmark = pytest.mark.browser

CELLS = ["from deconv_widgets import Explorer\nex = Explorer()\nex"]


def press(view: ExplorerView, button: str, hook: str, kind: str, timeout: float = 60) -> None:
    """Click a lens button; wait until its hook was redrawn and its job's row says done."""
    locator = view.root.get_by_test_id(hook)
    old = locator.get_attribute("data-version")
    done = jobs_done(view.root, kind)
    view.root.get_by_role("button", name=button, exact=True).click()
    wait_attr_change(view.nb.page, locator, "data-version", old, timeout)
    wait_jobs_done(view.nb.page, view.root, kind, done + 1, timeout)


def test_lens_panel_draws_grad_cam_occlusion_and_the_cascade(open_notebook) -> None:
    """Each lens button draws its canvases; the target select lists the zoo's classes."""
    nb = open_notebook(CELLS)
    view = ExplorerView(nb, cell=0)
    view.wait_ready()
    root = view.root
    root.get_by_test_id("lenses").locator("summary").click()
    channel = view.projection.get_attribute("data-channel")
    target = root.get_by_test_id("lens-target")
    assert target.locator("option").all_text_contents() == [
        f"channel {channel}",
        *zoo.SHAPE_CLASSES,
    ]

    press(view, "Grad-CAM", "gradcam", "lenses")
    assert_drawn(root.get_by_test_id("gradcam"), "gradcam")
    assert_drawn(root.get_by_test_id("guided-gradcam"), "guided-gradcam")

    press(view, "occlusion map", "occlusion", "occlusion")
    maps = root.get_by_test_id("occlusion").locator("canvas")
    assert maps.count() == 3  # Fig. 7: the strongest unit, the top class, the most probable class
    assert_drawn(maps.nth(0), "occlusion map (b)")
    # (d): the toy is so sure of its class that occlusion moves p by float32 rounding at most;
    # such a map is drawn flat (data-flat), any other must vary. (e) may be one class all over.
    low, high = map(float, nb.run("e = ex.occlusion_index[1]; print(e['min'], e['max'])").split())
    flat = high - low <= 1e-6 * max(abs(low), abs(high))
    assert maps.nth(1).get_attribute("data-flat") == str(flat).lower()
    if not flat:
        assert_drawn(maps.nth(1), "occlusion map (d)")
    assert root.get_by_test_id("occlusion-legend").locator("li").count() >= 1
    row = root.locator('[data-testid="job"][data-job-kind="occlusion"]').last
    assert row.get_attribute("data-done") == row.get_attribute("data-total") != "0"
    assert row.locator("progress").evaluate("(el) => el.value === el.max")

    press(view, "sanity check", "sanity", "sanity")
    steps = root.get_by_test_id("sanity").locator("figure")
    captions = root.get_by_test_id("sanity").locator(".dw-caption").all_text_contents()
    layers = int(nb.run("print(len(ex.sanity_index))").strip())
    assert steps.count() == layers >= 2
    assert captions[0] == "trained · rho 1.00"
    assert captions[1].startswith(nb.run("print(ex.sanity_index[1]['layer'])").strip() + " · rho ")
    for i in range(layers):
        assert_drawn(steps.nth(i).locator("canvas"), f"sanity step {i}")

    # a class picked in the page reaches Python, and Grad-CAM follows it
    old = root.get_by_test_id("gradcam").get_attribute("data-version")
    target.select_option(label=zoo.SHAPE_CLASSES[4])
    wait_attr_change(nb.page, root.get_by_test_id("gradcam"), "data-version", old, 60)
    assert nb.run("print(ex.lens_target)").strip() == "4"
    caption = root.get_by_test_id("gradcam").locator("xpath=..").locator(".dw-caption")
    assert zoo.SHAPE_CLASSES[4] in caption.text_content()
    root.get_by_test_id("lenses").screenshot(path=str(ARTIFACTS / "explorer-lenses-lab.png"))
