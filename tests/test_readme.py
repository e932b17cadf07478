"""The README stays true: its commands exist and its Python example runs as printed."""

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


@pytest.mark.slow
def test_python_example_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks, "the README should show a Python example"
    source = "\n".join(blocks) + "\nassert back.shape == (224, 224, 3), back.shape\nprint('ok')\n"
    assert len(blocks[0].strip().splitlines()) <= 12
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
