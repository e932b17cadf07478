"""Binder: install exactly what binder/ says, the way repo2docker does, and load the models."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _checkout_copy(dest: Path) -> None:
    """Copy the files git would check out (tracked plus new, not ignored): a fresh clone."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def test_binder_folder_installs_this_repository():
    lines = [
        ln.strip()
        for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines == [".[vgg16,classifier]"]
    assert (ROOT / "binder" / "runtime.txt").read_text().strip().startswith("python-3.1")


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_fresh_binder_environment_installs_and_loads_the_models(tmp_path):
    repo = tmp_path / "repo"
    _checkout_copy(repo)
    assert not (repo / "deconv_widgets" / "static").exists()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    py = venv / "bin" / "python"
    # repo2docker: `pip install --no-cache-dir -r binder/requirements.txt` in the repository root
    # (the local pip cache is allowed here to spare CI a 600 MB TensorFlow download).
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=repo,
        env=env,
        check=True,
    )
    where = subprocess.run(
        [
            str(py),
            "-c",
            "import deconv_widgets, pathlib; print(pathlib.Path(deconv_widgets.__file__).parent)",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    installed = Path(where)
    assert str(installed).startswith(str(venv)), installed
    assert (installed / "static" / "explorer.js").stat().st_size > 1000
    assert (installed / "notebooks" / "tour.ipynb").is_file()

    # The tour itself is executed once per run, by tests/test_notebooks.py in the test venv;
    # here, what a Binder user's first cells need: the widgets and both trained models load
    # from the installed package, offline, and a widget renders its model state.
    smoke = (
        "from deconv_widgets import Explorer, Projector, zoo\n"
        "ex = Explorer('efficientnet_lite0', layer='top_activation')\n"
        "x = zoo.efficientnet_lite0_preprocess(zoo.photos()[0][0])\n"
        "top = Projector('efficientnet_lite0').top_classes(x)\n"
        "print(zoo.vgg16(32).name, ex.layer, zoo.IMAGENET_CLASSES[top[0][0]])\n"
    )
    done = subprocess.run(
        [str(py), "-c", smoke], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )
    assert done.stdout.strip().splitlines()[-1] == "vgg16_hed top_activation Egyptian Mau"
