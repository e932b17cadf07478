"""`deconv-widgets lab`: the tour opens in a real JupyterLab, from a writable copy."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deconv_widgets import launch

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_notebooks_are_found():
    folder = launch.shipped_notebooks()
    assert (folder / "tour.ipynb").is_file()


def test_copy_never_overwrites_a_students_work(tmp_path):
    target = tmp_path / "work"
    first = launch.prepare_workdir(target)
    assert first == target
    assert sorted(p.name for p in target.iterdir()) == sorted(launch.NOTEBOOKS)
    tour = target / "tour.ipynb"
    tour.write_text('{"edited": true}')
    launch.prepare_workdir(target)
    assert tour.read_text() == '{"edited": true}'


def test_lab_command_opens_the_tour(tmp_path):
    cmd = launch.lab_command(tmp_path, ["--no-browser"])
    assert cmd[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert cmd[-1] == str(tmp_path / "tour.ipynb")
    assert "--no-browser" in cmd
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow("starts JupyterLab through the CLI and waits for it to serve the tour (~10 s)")
def test_cli_lab_serves_the_tour(tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), HOME=str(tmp_path))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deconv_widgets.cli",
            "lab",
            "--dir",
            str(tmp_path / "nb"),
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--IdentityProvider.token=",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 90
        body = None
        while time.time() < deadline and body is None:
            try:
                url = f"http://127.0.0.1:{port}/api/contents/tour.ipynb?content=0"
                with urllib.request.urlopen(url, timeout=2) as r:
                    body = json.load(r)
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.5)
        assert body is not None, "JupyterLab did not answer within 90 s"
        assert body["type"] == "notebook"
        assert (tmp_path / "nb" / "lab_deconvnet.zh.ipynb").is_file()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
