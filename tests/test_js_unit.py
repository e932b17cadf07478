"""The front end's unit tests (vitest in browser mode, Debian's Chromium) run from pytest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "js"
IN_CI = os.environ.get("CI", "").lower() == "true"


def test_vitest_suite_passes() -> None:
    """`npx vitest run` in js/ passes (lib modules and widget modules in Chromium)."""
    ready = (JS / "node_modules" / ".bin" / "vitest").exists() and shutil.which("npx")
    if not ready:
        if IN_CI:
            pytest.fail("js/node_modules is missing in CI: run `npm ci` in js/ first")
        pytest.skip("js/node_modules is missing: run `npm ci` in js/ to run the vitest suite")
    env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "FORCE_COLOR": "0"}
    done = subprocess.run(
        ["npx", "vitest", "run"],
        cwd=JS,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"vitest failed:\n{output[-6000:]}"
    assert " passed" in output and " failed" not in output, output[-3000:]


def test_the_js_tests_contract_is_what_python_sends() -> None:
    """js/test/contract.json (the fake models' read-only traits) equals a new widget's traits.

    The page reads methods, seeds and topk_k from the traits; the JS tests' fake models read
    them from this file, so it must follow the registry (deconv_widgets.methods.NAMES).
    """
    from deconv_widgets.widgets import Explorer

    contract = json.loads((JS / "test" / "contract.json").read_text(encoding="utf-8"))
    traits = Explorer.class_traits()
    sent = {name: traits[name].default() for name in ("methods", "seeds", "topk_k")}
    assert contract == sent, "update js/test/contract.json to what Python sends"
