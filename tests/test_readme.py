"""The README stays true: its commands exist, it points to the docs, its example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_screen_gives_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in first_block.splitlines() if ln.strip()]
    assert commands == ["./run tour", "./run tests"]
    assert README.index("./run tour") < 1200  # on the first screen
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./run tests" in ci


def test_readme_links_exist():
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)\)", README):
        assert (ROOT / target).exists(), target


def test_readme_points_to_the_docs():
    """The README is a first screen: the rest is in docs/, and it says how to read them."""
    pages = {target for target in re.findall(r"\]\((docs/[^)#]+\.md)\)", README)}
    for section in ("getting-started", "concepts/deconvnet", "how-to/own-model", "reference/index"):
        assert f"docs/{section}.md" in pages, section
    assert "mkdocs serve" in README
    assert len(README.splitlines()) <= 100


@pytest.mark.slow
def test_python_example_runs(tmp_path):
    """Slow: imports TensorFlow and projects a channel of the toy CNN, about 15 s.

    The README's one Python example runs as printed, and its projection has the input's shape.
    """
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) == 1, "the README should show one short Python example"
    assert len(blocks[0].strip().splitlines()) <= 12
    source = blocks[0] + "\nassert back.shape == x.shape == (64, 64, 1), back.shape\nprint('ok')\n"
    done = subprocess.run(
        [sys.executable, "-c", source],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
