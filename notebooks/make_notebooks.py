"""Write the tour and the bilingual lab from one source, so the English and Chinese labs match.

Run `python notebooks/make_notebooks.py` after editing; tests check the committed notebooks are
what this script writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def md(en: str, zh: str | None = None, *, solution: bool = False) -> dict:
    """A markdown cell in both languages (zh defaults to en); `solution=True` collapses it."""
    return {
        "kind": "markdown",
        "en": en.strip("\n"),
        "zh": (zh if zh is not None else en).strip("\n"),
        "solution": solution,
    }


def code(src: str, *, solution: bool = False, zh: str | None = None) -> dict:
    """A code cell; `solution=True` collapses it; `zh` replaces the source in the Chinese lab."""
    return {
        "kind": "code",
        "en": src.strip("\n"),
        "zh": (zh or src).strip("\n"),
        "solution": solution,
    }


def _cell(spec: dict, lang: str, index: int) -> dict:
    source = spec[lang]
    lines = source.splitlines(keepends=True)
    cell_id = f"c{index:03d}"
    metadata: dict = {}
    if spec.get("solution"):
        metadata = {"jupyter": {"source_hidden": True}, "tags": ["solution"]}
    if spec["kind"] == "markdown":
        return {"cell_type": "markdown", "id": cell_id, "metadata": metadata, "source": lines}
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": metadata,
        "execution_count": None,
        "outputs": [],
        "source": lines,
    }


def notebook(cells: list[dict], lang: str, title: str) -> dict:
    """An nbformat 4.5 notebook with kernelspec metadata (no kernel-picker dialog)."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
            "title": title,
        },
        "cells": [_cell(c, lang, i) for i, c in enumerate(cells)],
    }


def write(path: Path, nb: dict) -> None:
    """Write a notebook as stable, diff-friendly JSON."""
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def render_all() -> dict[str, dict]:
    """Every notebook this script owns, by file name."""
    from lab_cells import LAB_CELLS
    from tour_cells import TOUR_CELLS

    return {
        "tour.ipynb": notebook(TOUR_CELLS, "en", "deconv-widgets: the tour"),
        "lab_deconvnet.en.ipynb": notebook(LAB_CELLS, "en", "Lab: the DeconvNet, piece by piece"),
        "lab_deconvnet.zh.ipynb": notebook(LAB_CELLS, "zh", "实验：逐步理解反卷积网络"),
    }


def main() -> None:
    """Write the notebooks next to this file."""
    sys.path.insert(0, str(HERE))
    for name, nb in render_all().items():
        write(HERE / name, nb)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
