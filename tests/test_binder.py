"""Binder: binder/ installs this checkout with the extras the release check runs the tour with.

repo2docker runs `pip install -r binder/requirements.txt` in the repository root under the
Python runtime.txt names. What that installs is the package with its `vgg16` and `classifier`
extras, which is what tests/test_release.py installs from the wheel into a fresh venv and
executes the tour in; so here only the link is checked, and that pip reads the requirement as
that package at this version with those extras (its metadata built as repo2docker's pip builds
it, without installing anything).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from test_release import EXTRAS, checkout_copy, source_version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def _requirements() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def test_binder_installs_the_extras_the_release_check_runs_the_tour_with():
    assert _requirements() == [f".[{EXTRAS}]"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert set(EXTRAS.split(",")) <= set(project["optional-dependencies"])


def test_binder_python_is_one_the_package_allows():
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime.startswith("python-"), runtime
    python = runtime.removeprefix("python-")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert python in SpecifierSet(project["requires-python"]), (python, project["requires-python"])


@pytest.mark.slow(
    "pip resolves a fresh clone's copy, building its metadata with hatchling in an isolated "
    "environment (~15 s)"
)
def test_pip_reads_binder_requirements_as_this_package_with_its_extras(tmp_path):
    """A dry run of pip from a fresh clone's files: the package's metadata, nothing installed."""
    repo = tmp_path / "repo"
    checkout_copy(repo)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dry_run = ["--dry-run", "--no-deps", "--ignore-installed", "--quiet", "--report", "-"]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", *dry_run, "-r", "binder/requirements.txt"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [item] = json.loads(done.stdout)["install"]
    metadata = item["metadata"]
    assert sorted(item["requested_extras"]) == sorted(EXTRAS.split(","))
    assert metadata["name"] == "deconv-widgets"
    assert set(EXTRAS.split(",")) <= set(metadata["provides_extra"])
    assert metadata["version"] == source_version()
    # each extra brings packages of its own
    for extra in EXTRAS.split(","):
        markers = [Requirement(r).marker for r in metadata["requires_dist"]]
        assert any(m and m.evaluate({"extra": extra}) for m in markers), extra
