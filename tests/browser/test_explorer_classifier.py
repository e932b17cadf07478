"""Explorer("efficientnet_lite0") in a real JupyterLab: the top-5, the class search, Fig. 7."""

from __future__ import annotations

import re

import pytest

from deconv_widgets import zoo

from .jupyter_host import ARTIFACTS
from .probe import assert_drawn, canvas_pixels, wait_attr_change, wait_jobs_done

pytestmark = pytest.mark.browser

CELLS = ["from deconv_widgets import Explorer\nex = Explorer('efficientnet_lite0')\nex"]
CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian Mau


def test_top5_class_search_and_fig_7_on_efficientnet_lite0(open_notebook) -> None:
    """The cat photo's top-5 names a cat; "tabby" picks 281; occlusion draws Fig. 7 and a legend.

    One kernel, no round trip but the notebook's run: the page's captions say what Python did.
    """
    nb = open_notebook(CELLS)
    root = nb.cell(0)
    top5 = root.get_by_test_id("top5")
    top5.wait_for(state="visible", timeout=120_000)
    first = top5.locator("li").first
    best = int(first.get_attribute("data-class"))
    assert best in CATS, top5.text_content()
    assert first.locator(".dw-name").text_content() == zoo.IMAGENET_CLASSES[best]
    assert top5.locator("li").count() == 5

    root.get_by_test_id("lenses").locator("summary").click()
    search = root.get_by_test_id("lens-target-search")
    search.fill("tabby")
    matches = root.get_by_test_id("lens-target-matches").locator("button")
    assert matches.first.text_content() == "281 tabby cat"
    search.press("Enter")
    target = root.get_by_test_id("lens-target")
    assert target.evaluate("(el) => el.value") == "281"
    assert target.locator("option").count() <= 8  # the channel, the top-5, the target

    # the occlusion request follows lens_target on the comm: (d) maps class 281
    maps = root.get_by_test_id("occlusion")
    old = maps.get_attribute("data-version")
    root.get_by_role("button", name="occlusion map", exact=True).click()
    wait_attr_change(nb.page, maps, "data-version", old, timeout=300)  # drawn as it fills in
    wait_jobs_done(nb.page, root, "occlusion", 1, timeout=300)
    canvases = maps.locator("canvas")
    assert canvases.count() == 3
    assert_drawn(canvases.nth(0), "(b) strongest unit")
    assert_drawn(canvases.nth(1), "(d) probability of tabby cat")
    captions = maps.locator(".dw-caption").all_text_contents()
    assert captions[0].startswith("(b) strongest unit: channel ")
    assert captions[1].startswith("(d) p(tabby cat) · ")
    assert captions[2].startswith("(e) most probable class · ")
    legend = root.get_by_test_id("occlusion-legend").locator("li")
    entries = legend.all_text_contents()
    assert entries and all(re.fullmatch(r"\d+ .+", text) for text in entries), entries
    for text in entries:
        index, name = text.split(" ", 1)
        assert name == zoo.IMAGENET_CLASSES[int(index)], entries
    colours = canvas_pixels(canvases.nth(2))["distinct"]
    assert colours == len(entries), (colours, entries)  # one colour per class of the legend
    assert not nb.console_errors, nb.console_errors
    root.get_by_test_id("lenses").screenshot(path=str(ARTIFACTS / "explorer-classifier-lab.png"))
