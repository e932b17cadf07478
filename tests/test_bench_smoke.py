"""Smoke test of bench/: each benchmark's code path runs at a tiny size and writes its table.

No timing is asserted here, ever: timings belong in bench/RESULTS.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "bench" / "run.py"

pytestmark = pytest.mark.slow(
    "each test runs bench/run.py in a fresh process (TensorFlow, Chromium)"
)


def run_bench(tmp_path: Path, only: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run bench/run.py --quick --only <only> into a temporary file; return the process, text."""
    out = tmp_path / "RESULTS.md"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", only, "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
        check=False,
    )
    text = out.read_text() if out.exists() else ""
    return done, text


def test_run_rejects_unknown_benchmark(tmp_path: Path) -> None:
    """--only with a number that is no benchmark fails and names the valid ones."""
    done = subprocess.run(
        [sys.executable, str(RUN), "--only", "99", "--out", str(tmp_path / "x.md")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "choose from: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10" in done.stderr
    assert not (tmp_path / "x.md").exists()


def test_quick_run_writes_every_table(tmp_path: Path) -> None:
    """Benchmarks 2, 3, 4 and 5 run on tiny sizes and fill their tables without failing."""
    if not Path(os.environ.get("DECONV_CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.skip("Chromium is needed for benchmark 2")
    done, text = run_bench(tmp_path, "2,3,4,5")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + text[-3000:]
    assert "## Machine" in text and "## Versions" in text
    for number in (2, 3, 4, 5):
        assert f"\n## {number}. " in text, f"benchmark {number} missing:\n{text}"
    assert "Failed:" not in text
    body = text.split("## Summary", 1)[1]
    # every benchmark with a target shows a ratio row in the summary
    for number in (2, 3, 4):
        assert f"\n| {number} | " in body
