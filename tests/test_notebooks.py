"""The tour and the bilingual lab: generated from one source, and each runs top to bottom."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
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


def test_english_and_chinese_labs_have_the_same_code():
    en = nbformat.read(NOTEBOOKS / "lab_deconvnet.en.ipynb", as_version=4)
    zh = nbformat.read(NOTEBOOKS / "lab_deconvnet.zh.ipynb", as_version=4)
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in zh.cells]
    strip = lambda s: [ln for ln in s.splitlines() if not ln.lstrip().startswith(("#", "print"))]  # noqa: E731
    for a, b in zip(en.cells, zh.cells, strict=True):
        if a.cell_type == "code" and "print(" not in a.source:
            assert strip(a.source) == strip(b.source)
    # the Chinese lab is really in Chinese
    zh_text = "".join(c.source for c in zh.cells if c.cell_type == "markdown")
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in zh_text) > 1500


def test_lab_solutions_are_collapsed():
    for name in NAMES[1:]:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert len(solutions) >= 4
        assert all(c.metadata["jupyter"]["source_hidden"] for c in solutions)


def test_the_chinese_labs_code_compiles():
    """Compiled, not executed again: its code is the English lab's but for comments and prints."""
    zh = nbformat.read(NOTEBOOKS / "lab_deconvnet.zh.ipynb", as_version=4)
    for number, cell in enumerate(zh.cells):
        if cell.cell_type == "code":
            lines = [ln for ln in cell.source.splitlines() if not ln.lstrip().startswith("%")]
            compile("\n".join(lines), f"lab_deconvnet.zh.ipynb cell {number}", "exec")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES[:2])
def test_notebook_runs_top_to_bottom(name, tmp_path):
    """Slow: the tour and the English lab executed in a real kernel (VGG16 at 224²)."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    errors = [out for out in outputs if out.get("output_type") == "error"]
    assert not errors, errors
    text = "".join(out.get("text", "") for out in outputs)
    if name.startswith("lab"):
        assert "W3 [4. 6.]" in text  # the grad_ys example, corrected
        assert "RuntimeError" in text  # tf.gradients in eager mode
        assert "ladder == project(method='deconvnet'): True" in text
        assert "ladder == project(method='deconvnet') on VGG16: True" in text  # the real network
        assert "block5_conv3: receptive field 196 px" in text or "block5_conv3: 感受野 196" in text
    else:
        assert "18 layers, last: block5_pool | photos: chelsea, astronaut" in text
    data = [out.get("data", {}) for out in outputs]
    figures = [d for d in data if "image/png" in d]
    assert len(figures) >= (5 if name.startswith("lab") else 4), "the real-network figures"
    widget_views = [d for d in data if "application/vnd.jupyter.widget-view+json" in d]
    assert widget_views, "the notebook should show at least one widget"
