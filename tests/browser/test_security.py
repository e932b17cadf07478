"""Names and program text with HTML in them render as text, never as markup (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .explorer_view import ExplorerView
from .jupyter_host import NotebookPage

pytestmark = pytest.mark.browser

CLEAN = {"pwned": None, "img": 0, "bold": 0, "scripts": 0}

# Keras accepts these names (it refuses only "/"), so a model can really carry them.
IMG_NAME = "<img src=x onerror=window.__pwned=1>"
POOL_NAME = '<b id="bold">"pool" & <script>window.__pwned=2<\\script>'

MODEL_CELL = f"""import numpy as np
import keras
from deconv_widgets import Explorer, ModelInspector
IMG_NAME = {IMG_NAME!r}
POOL_NAME = {POOL_NAME!r}
inputs = keras.Input((24, 24, 1))
x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name=IMG_NAME)(inputs)
x = keras.layers.MaxPooling2D(name=POOL_NAME)(x)
x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_after")(x)
model = keras.Model(inputs, x)
images = np.random.default_rng(0).random((4, 24, 24, 1)).astype("float32")
print([layer.name for layer in model.layers])"""
# TensorFlow refuses such names as graph name scopes (Keras's own model.predict fails on this
# model); the Projector gives them safe scope names while it traces, so the Explorer works.
NASTY_EXPLORER_CELL = "nasty_ex = Explorer(model, images)\nnasty_ex.layer = IMG_NAME\nnasty_ex"
# Markup typed as a layer or a method name comes back in the status line, as text.
EXPLORER_CELL = "ex = Explorer()\nex"
METHOD_MARKUP = "<b id=bold>guided</b>"

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


@pytest.fixture(scope="module")
def nasty(module_notebook) -> Iterator[NotebookPage]:
    """A JupyterLab notebook: the model with HTML layer names (cell 0), its inspector (1)."""
    nb = module_notebook([MODEL_CELL, "ModelInspector(model)"], host="lab")
    yield nb
    nb.close()


def test_model_inspector_shows_names_as_text(nasty: NotebookPage) -> None:
    """ModelInspector: both names appear as text; no element injected, nothing executed."""
    nasty.cell(1).locator(".jp-OutputArea").get_by_text("conv_after").first.wait_for()
    assert nasty.page.evaluate(JS_INJECTED) == CLEAN
    inspector = output_text(nasty, 1)
    assert IMG_NAME in inspector and POOL_NAME in inspector


def test_explorer_status_shows_markup_as_text(nasty: NotebookPage) -> None:
    """Explorer: markup typed as a layer or a method comes back in `status` as plain text."""
    nasty.run(EXPLORER_CELL)
    explorer = ExplorerView(nasty, cell=2)
    explorer.wait_ready()
    layer = explorer.grid.get_attribute("data-layer")
    for trait, value in (("layer", IMG_NAME), ("method", METHOD_MARKUP)):
        nasty.run(f"ex.{trait} = {value!r}")
        nasty.page.wait_for_function(
            "(a) => a.el.textContent.includes(a.text)",
            arg={"el": explorer.status.element_handle(), "text": value},
            timeout=30_000,
        )
        assert nasty.page.evaluate(JS_INJECTED) == CLEAN, f"ex.{trait} = {value!r} injected"
    assert explorer.grid.get_attribute("data-layer") == layer, "a refused layer was shown"
    assert nasty.run("print(ex.layer, ex.method)").split() == [layer, "deconvnet"]


def test_explorer_on_a_model_with_html_layer_names(open_notebook) -> None:
    """Explorer(model) on the nasty model: names as text, canvases drawn, nothing injected."""
    nb = open_notebook([MODEL_CELL, NASTY_EXPLORER_CELL], host="lab")
    explorer = ExplorerView(nb, cell=1, name="nasty_ex")
    explorer.wait_ready()
    assert explorer.grid.get_attribute("data-layer") == IMG_NAME
    assert explorer.projection.get_attribute("data-layer") == IMG_NAME
    assert nb.page.evaluate(JS_INJECTED) == CLEAN
    nb.run("nasty_ex.layer = POOL_NAME")
    nb.page.wait_for_function(
        "(a) => a.el.getAttribute('data-layer') === a.name",
        arg={"el": explorer.grid.element_handle(), "name": POOL_NAME},
        timeout=30_000,
    )
    assert nb.page.evaluate(JS_INJECTED) == CLEAN
    assert IMG_NAME in output_text(nb, 1) and POOL_NAME in output_text(nb, 1)
    assert nb.run("nasty_ex.wait(120); print(repr(nasty_ex.status))").strip() in ("''", '""')
