"""GradientsPanel in JupyterLab 4 and Notebook 7: the classic examples, a bad program survived."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .gradients_view import GradientsView
from .jupyter_host import HOSTS

pytestmark = pytest.mark.browser

SCRIPT_PROGRAM = (
    "y1 = W1 + W2\ny2 = <script>window.__pwned=3</script><img src=x onerror=window.__pwned=4>"
)
CELLS = [
    "from deconv_widgets import GradientsPanel\ngrad_ys = GradientsPanel('grad_ys')\ngrad_ys",
    "stop = GradientsPanel('stop_gradient')\nstop",
    "markup = GradientsPanel()\n"
    f"markup.program = {SCRIPT_PROGRAM!r}\n"
    "markup.values_text = 'W1 = [1]\\nW2 = [2]'\n"
    "markup.ys_text, markup.xs_text = 'y1', 'W1'\n"
    "markup",
]
GRAD_YS = {"W1": [1, 2], "W2": [1, 2], "W3": [4, 6], "W4": [3, 4]}


@pytest.fixture(scope="module", params=HOSTS)
def panels(request: pytest.FixtureRequest, module_notebook) -> Iterator[tuple[GradientsView, ...]]:
    """One notebook per host: the grad_ys, stop_gradient and markup-program panels."""
    nb = module_notebook(CELLS, host=request.param)
    yield GradientsView(nb, 0), GradientsView(nb, 1), GradientsView(nb, 2)
    nb.close()


def shown_or_run(view: GradientsView, predicate, what: str) -> dict:
    """The table if the panel computed on open, else after pressing Run."""
    try:
        return view.wait_gradients(predicate, what, timeout=8)
    except AssertionError:
        view.run()
        return view.wait_gradients(predicate, what)


def test_grad_ys_table(panels: tuple[GradientsView, ...]) -> None:
    """grad_ys example: W1, W2 = [1, 2]; W3 = [4, 6]; W4 = [3, 4]."""
    grads = shown_or_run(panels[0], lambda g: set(GRAD_YS) <= set(g), "grad_ys")
    for name, expected in GRAD_YS.items():
        assert grads[name] == expected, f"{name}: {grads[name]} != {expected}"


def test_stop_gradient_gives_none(panels: tuple[GradientsView, ...]) -> None:
    """stop_gradient example: W1 and W2 are None, W3 gets a real gradient."""
    grads = shown_or_run(panels[1], lambda g: {"W1", "W2", "W3"} <= set(g), "stop_gradient")
    assert grads["W1"] is None and grads["W2"] is None
    assert grads["W3"] is not None and len(grads["W3"]) > 0


def test_bad_program_then_fix(panels: tuple[GradientsView, ...]) -> None:
    """A forbidden program shows an error in status and keeps the text; a fix runs again."""
    view = panels[0]
    shown_or_run(view, lambda g: set(GRAD_YS) <= set(g), "grad_ys")
    good = view.program.input_value()
    bad = "y1 = W1.__class__\ny2 = W3 + W4"
    view.program.fill(bad)
    view.run()
    view.nb.page.wait_for_function(
        "(el) => /error/i.test(el.textContent)", arg=view.status.first.element_handle()
    )
    assert "line 1" in view.status_text().lower() or "__class__" in view.status_text()
    assert view.program.input_value() == bad, "the typed program was lost"

    # W4 now appears twice in y2, so its gradient doubles: the table must change to show it.
    fixed = good.replace("y2 = W3 + W4", "y2 = W3 + W4 + W4")
    assert fixed != good, f"unexpected example program {good!r}"
    view.program.fill(fixed)
    view.run()
    grads = view.wait_gradients(lambda g: g.get("W4") == [6, 8], "fixed program")
    assert grads["W3"] == [4, 6]
    assert "error" not in view.status_text().lower()


def test_program_markup_is_text(panels: tuple[GradientsView, ...]) -> None:
    """A program with <script> and <img onerror> markup is shown as text, never run (issue 7)."""
    view = panels[2]
    assert view.program.input_value() == SCRIPT_PROGRAM
    view.run()
    view.nb.page.wait_for_function(
        "(el) => el.textContent.trim() !== ''", arg=view.status.first.element_handle()
    )
    injected = view.nb.page.evaluate(
        """() => ({pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
                   img: document.querySelectorAll('img[src="x"]').length})"""
    )
    assert injected == {"pwned": None, "img": 0}
    assert "line 2" in view.status_text(), "the program's own error should be reported"
    assert view.program.input_value() == SCRIPT_PROGRAM, "the typed program was lost"
