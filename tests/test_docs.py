"""The docs site stays true: it builds with --strict, its links resolve, its examples run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<img[^>]*\ssrc=\"([^\"]+)\"")
SNIPPET = re.compile(r"^--8<-- \"([^\"]+)\"", re.M)
PYTHON = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

# Runs each page's examples, joined, in a namespace of its own, in one interpreter (one
# TensorFlow import for all); prints one line per page that ran to the end.
RUNNER = """
import json, sys, time
for page, source in json.loads(sys.stdin.read()):
    start = time.perf_counter()
    exec(compile(source, page, "exec"), {"__name__": "__main__"})
    print("ran", page, f"{time.perf_counter() - start:.1f} s", flush=True)
"""


def examples() -> list[tuple[str, str]]:
    """(page, its ```python blocks joined) for every page that shows Python."""
    found = []
    for page in PAGES:
        blocks = PYTHON.findall(page.read_text(encoding="utf-8"))
        if blocks:
            found.append((str(page.relative_to(ROOT)), "\n".join(blocks)))
    return found


def test_site_builds_strict(tmp_path):
    """A broken link, a missing page or a docstring griffe cannot read fails the build."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "scan" / "index.html").is_file()
    api = (tmp_path / "site" / "reference" / "projector" / "index.html").read_text("utf-8")
    assert "deconv_widgets.projection.Projector.project" in api  # docstrings, not empty pages


def test_relative_links_and_snippets_resolve():
    """Every relative link and image of a page names a file; every snippet include exists."""
    checked = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for groups in LINK.findall(text):
            target = next(g for g in groups if g)
            if re.match(r"[a-z]+:|#", target):
                continue  # a web address, or an anchor on the same page
            assert (page.parent / target.split("#")[0]).exists(), f"{page.name}: {target}"
            checked += 1
        for include in SNIPPET.findall(text):
            assert (ROOT / include.split(":")[0]).is_file(), f"{page.name}: {include}"
    assert checked >= 30, checked  # the pages link to each other and show the screenshots


def test_examples_compile():
    """Every Python example of the pages is valid Python (the slow test below runs them)."""
    found = examples()
    assert len(found) >= 5, [page for page, _ in found]
    for page, source in found:
        compile(source, page, "exec")


@pytest.mark.slow
def test_examples_run(tmp_path):
    """Slow: runs every page's examples, about 45 s on 2 cores (VGG16 at 224², EfficientNet).

    They load the toy CNN, VGG16 (untrained at 224² and 64², and the trained one),
    MobileNetV2, EfficientNet-Lite0 and a Beam scan. Each page's blocks run in order in one
    namespace, as a reader would run them, in a scratch folder (the scan writes its files
    there); the pages share one interpreter, so TensorFlow is imported once.
    """
    found = examples()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(found),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    ran = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("ran ")]
    assert done.returncode == 0, f"ran {ran}, then:\n{done.stderr[-3000:]}"
    assert ran == [page for page, _ in found]
