"""The tour and the bilingual lab: generated from one source, and each runs top to bottom."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import executed_outputs
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["tour.ipynb", "lab_deconvnet.en.ipynb", "lab_deconvnet.zh.ipynb"]


def _rendered() -> dict[str, dict]:
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import make_notebooks

        return make_notebooks.render_all()
    finally:
        sys.path.remove(str(NOTEBOOKS))


def test_committed_notebooks_match_their_source():
    rendered = _rendered()
    assert sorted(rendered) == sorted(NAMES)
    for name, nb in rendered.items():
        committed = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
        assert committed == nb, f"{name} is stale: run python notebooks/make_notebooks.py"


def test_every_notebook_names_its_kernel_and_is_valid():
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"


def _code_shape(source: str) -> str:
    """A cell's code with its text left out: comments, string literals and format specs."""

    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            return ast.Constant("…") if isinstance(node.value, str) else node

        def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
            values = [self.visit(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
            return ast.JoinedStr([ast.FormattedValue(v, -1, None) for v in values])

    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith("%")]
    return ast.dump(Blank().visit(ast.parse("\n".join(lines))))


def test_english_and_chinese_labs_have_the_same_code():
    """The Chinese lab is not executed: its code is the English lab's, but for the words."""
    en = nbformat.read(NOTEBOOKS / "lab_deconvnet.en.ipynb", as_version=4)
    zh = nbformat.read(NOTEBOOKS / "lab_deconvnet.zh.ipynb", as_version=4)
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in zh.cells]
    pairs = [(a, b) for a, b in zip(en.cells, zh.cells, strict=True) if a.cell_type == "code"]
    assert len(pairs) > 30
    for number, (a, b) in enumerate(pairs):
        assert _code_shape(a.source) == _code_shape(b.source), f"code cell {number}"
    # the Chinese lab is really in Chinese
    zh_text = "".join(c.source for c in zh.cells if c.cell_type == "markdown")
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in zh_text) > 1500


def test_the_same_code_check_sees_a_changed_call():
    changed = "x = f(1, 'a')"
    assert _code_shape("x = f(1, 'a')  # one") == _code_shape("x = f(1, '甲')  # 一")
    assert _code_shape(changed) != _code_shape("x = f(2, 'a')")
    assert _code_shape("print(f'{a:5}')") != _code_shape("print(f'{b:5}')")


def test_lab_solutions_are_collapsed():
    for name in NAMES[1:]:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert len(solutions) >= 4
        assert all(c.metadata["jupyter"]["source_hidden"] for c in solutions)


@pytest.mark.slow
def test_the_english_lab_runs_top_to_bottom(tmp_path):
    """Slow: the English lab executed in a real kernel (VGG16 at 224², EfficientNet-Lite0).

    The tour executes once per run too, in the release check (tests/test_release.py: the
    installed wheel's tour, in a fresh venv); the Chinese lab's code is the English lab's
    (test_english_and_chinese_labs_have_the_same_code), so it is not run again.
    """
    name = "lab_deconvnet.en.ipynb"
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    text, data = executed_outputs(nb)
    assert "W3 [4. 6.]" in text  # the grad_ys example, corrected
    assert "RuntimeError" in text  # tf.gradients in eager mode
    assert "ladder == project(method='deconvnet'): True" in text
    assert "ladder == project(method='deconvnet') on VGG16: True" in text  # the real network
    assert "block5_conv3: receptive field 196 px" in text
    figures = [d for d in data if "image/png" in d]
    assert len(figures) >= 5, "the real-network figures"
    widget_views = [d for d in data if "application/vnd.jupyter.widget-view+json" in d]
    assert widget_views, "the notebook should show at least one widget"
