"""Names and program text with HTML in them render as text, never as markup (issue 7)."""

from __future__ import annotations

import pytest

from .explorer_view import ExplorerView
from .gradients_view import GradientsView

pytestmark = pytest.mark.browser

# Keras accepts these names (it refuses only "/"), so a model can really carry them.
IMG_NAME = "<img src=x onerror=window.__pwned=1>"
POOL_NAME = '<b id="bold">"pool" & <script>window.__pwned=2<\\script>'
SCRIPT_PROGRAM = "y1 = W1 + W2 <script>window.__pwned=3</script>"

CELLS = [
    f"""import numpy as np
import keras
from deconv_widgets import Explorer, GradientsPanel, ModelInspector
IMG_NAME = {IMG_NAME!r}
POOL_NAME = {POOL_NAME!r}
inputs = keras.Input((24, 24, 1))
x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name=IMG_NAME)(inputs)
x = keras.layers.MaxPooling2D(name=POOL_NAME)(x)
x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_after")(x)
model = keras.Model(inputs, x)
images = np.random.default_rng(0).random((4, 24, 24, 1)).astype("float32")
ex = Explorer(model, images=images)
ex.layer = IMG_NAME
ex""",
    "ModelInspector(model)",
    f"panel = GradientsPanel()\npanel.program = {SCRIPT_PROGRAM!r}\npanel",
]

JS_INJECTED = """
() => ({
  pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
  img: document.querySelectorAll('img[src="x"]').length,
  bold: document.querySelectorAll('b#bold').length,
  scripts: Array.from(document.querySelectorAll('script'))
    .filter((s) => s.textContent.includes('__pwned')).length,
})
"""


def output_text(nb, cell: int) -> str:
    """All text (including form controls' values) in a cell's output area."""
    return (
        nb.cell(cell)
        .locator(".jp-OutputArea")
        .evaluate(
            """(el) => el.textContent + '\\n' + Array.from(el.querySelectorAll('textarea, input'))
             .map((i) => i.value).join('\\n')"""
        )
    )


def test_html_in_names_and_programs_is_text(open_notebook) -> None:
    """No element injected, nothing executed, and the names and program shown as text."""
    nb = open_notebook(CELLS, host="lab")
    explorer = ExplorerView(nb, cell=0)
    explorer.wait_ready()
    nb.cell(1).locator(".jp-OutputArea").get_by_text("conv_after").first.wait_for()
    GradientsView(nb, 2).run()
    nb.page.wait_for_timeout(1000)

    assert nb.page.evaluate(JS_INJECTED) == {"pwned": None, "img": 0, "bold": 0, "scripts": 0}
    assert explorer.grid.get_attribute("data-layer") == IMG_NAME
    assert IMG_NAME in output_text(nb, 0), "the Explorer does not show the layer name as text"
    inspector = output_text(nb, 1)
    assert IMG_NAME in inspector and POOL_NAME in inspector
    assert "<script>window.__pwned=3</script>" in output_text(nb, 2)
