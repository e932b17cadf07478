"""TransposeConvView and UnpoolView in JupyterLab: drawn, driven from the page and from Python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .jupyter_host import NotebookPage

pytestmark = pytest.mark.browser

CELLS = [
    "from deconv_widgets import TransposeConvView, UnpoolView\ntc = TransposeConvView()\ntc",
    "up = UnpoolView()\nup",
]


@pytest.fixture(scope="module")
def explainers(module_notebook) -> Iterator[NotebookPage]:
    """A JupyterLab notebook showing the transposed-conv explainer (cell 0) and unpooling (1)."""
    nb = module_notebook(CELLS, host="lab")
    yield nb
    nb.close()


def text_of(nb: NotebookPage, cell: int) -> str:
    """The text of a cell's output area."""
    return nb.cell(cell).locator(".jp-OutputArea").inner_text()


def test_transpose_conv_steps_match_tensorflow_in_the_page(explainers: NotebookPage) -> None:
    """The four steps and TensorFlow's answer are drawn and agree.

    A stride typed in the page reaches Python, and the valid output sizes follow it.
    """
    nb = explainers
    area = nb.cell(0).locator(".jp-OutputArea")
    area.get_by_text("tf.nn.conv2d_transpose").first.wait_for()
    for title in ("1. kernel flipped", "2. stride", "3. padded", "4. stride-1 convolution"):
        assert title in text_of(nb, 0)
    assert "max |four steps − TensorFlow| = 0" in text_of(nb, 0)
    before = area.get_by_test_id("output-height").locator("option").all_inner_texts()
    stride = area.get_by_test_id("stride-input")
    stride.fill("3")
    stride.dispatch_event("change")
    assert nb.run("print(tc.stride)").strip() == "3"
    nb.page.wait_for_function(
        "([el, before]) => Array.from(el.options).map((o) => o.textContent).join() !== before",
        arg=[area.get_by_test_id("output-height").element_handle(), ",".join(before)],
        timeout=30_000,
    )
    sizes = nb.run("print(tc.output_sizes[0])").strip()
    shown = area.get_by_test_id("output-height").locator("option").all_inner_texts()
    assert sizes == "[" + ", ".join(shown) + "]"
    assert "max |four steps − TensorFlow| = 0" in text_of(nb, 0)
    assert area.get_by_test_id("status").inner_text().strip() == ""


def test_unpool_switches_and_bad_sizes(explainers: NotebookPage) -> None:
    """Switches are listed; a bad pool size set from Python shows in status, the view survives."""
    nb = explainers
    area = nb.cell(1).locator(".jp-OutputArea")
    area.get_by_test_id("switches").locator("tr").nth(1).wait_for()
    rows = area.get_by_test_id("switches").locator("tr").count()
    assert rows > 1
    text = text_of(nb, 1)
    assert "max" in text and "fill" in text
    nb.run("up.pool_size = 0")
    area.get_by_test_id("status").get_by_text("pool").wait_for(timeout=30_000)
    nb.run("up.pool_size = 3")
    nb.page.wait_for_function(
        "(el) => el.textContent.trim() === ''",
        arg=area.get_by_test_id("status").element_handle(),
        timeout=30_000,
    )
    assert nb.run("print(up.pool_size)").strip() == "3"
    assert not nb.console_errors, nb.console_errors
