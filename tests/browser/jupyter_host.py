"""Start a real JupyterLab 4 / Notebook 7 server and drive notebooks in it with Playwright."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
HOSTS = ("lab", "notebook")
# Debian's Chromium as root, headless, with no calls home (this machine has no network), and
# a fake camera (a test pattern); a page may use it only where its context grants "camera".
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# User settings written into the server's private JUPYTER_CONFIG_DIR: no news or update
# checks (no network, no toast over the page), and every cell attached to the DOM (the
# default windowing detaches cells outside the viewport, which would hide widgets).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterServer:
    """One `jupyter lab` or `jupyter notebook` process serving a private temporary root."""

    kind: str
    base: Path
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path = field(default_factory=Path)

    @property
    def root(self) -> Path:
        """The directory the server serves; notebooks are written here."""
        return self.base / "root"

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, name: str) -> str:
        """The URL that opens notebook `name` (a file in the root) in this host."""
        if self.kind == "lab":
            # A fresh workspace per notebook: nothing restored from an earlier test's layout.
            workspace = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(name).stem)
            return f"{self.url}/lab/workspaces/{workspace}/tree/{name}"
        return f"{self.url}/notebooks/{name}"

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until its REST API answers."""
        if self.kind not in HOSTS:
            raise ValueError(f"unknown host {self.kind!r}; choose one of: {', '.join(HOSTS)}")
        config, runtime, data = (self.base / d for d in ("config", "runtime", "data"))
        for d in (self.root, config, runtime, data):
            d.mkdir(parents=True, exist_ok=True)
        self._write_settings(config)
        self._write_kernelspec(data)
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
            TF_CPP_MIN_LOG_LEVEL="3",
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_RUNTIME_DIR=str(runtime),
            JUPYTER_DATA_DIR=str(data),
            JUPYTER_PLATFORM_DIRS="0",
        )
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        args = [
            sys.executable,
            "-m",
            "jupyter",
            self.kind,
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--allow-root",
            f"--ServerApp.root_dir={self.root}",
            "--expose-app-in-browser",
        ]
        if self.kind == "lab":
            args += [
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"server-{self.kind}.log"
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            args,
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Poll /api/status until it answers, the process dies, or the timeout passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.kind} exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter {self.kind} did not answer in {timeout} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server's whole process group (server and kernels)."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)

    @staticmethod
    def _write_settings(config: Path) -> None:
        """Write the user settings that keep the page quiet and every cell in the DOM."""
        for plugin, values in USER_SETTINGS.items():
            package, name = plugin.rsplit("/", 1)
            target = config / "lab" / "user-settings" / package / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))

    @staticmethod
    def _write_kernelspec(data: Path) -> None:
        """Point the `python3` kernel at this interpreter (the venv), whatever PATH says."""
        spec = data / "kernels" / "python3"
        spec.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
        )

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """Write an nbformat v4 notebook of code cells into the root; return its file name."""
        file_name = name if name.endswith(".ipynb") else f"{name}.ipynb"
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        nbformat.write(nb, self.root / file_name)
        return file_name


class CellError(AssertionError):
    """A notebook cell ended with an error output."""


# JavaScript run in the page. `window.jupyterapp` is exposed by --expose-app-in-browser, in
# JupyterLab and in Notebook 7 alike; the notebook commands below are the ones the menus run.
JS_FIND_PANEL = """
(path) => {
  const dialog = document.querySelector('.jp-Dialog');
  if (dialog) return {dialog: dialog.innerText};
  const app = window.jupyterapp;
  if (!app || !app.shell) return false;
  const all = [];
  const current = app.shell.currentWidget;
  if (current) all.push(current);
  for (const w of app.shell.widgets('main')) all.push(w);
  const panel = all.find((w) => w && w.context && w.context.path === path && w.content);
  if (!panel || !panel.sessionContext || !panel.sessionContext.session) return false;
  const kernel = panel.sessionContext.session.kernel;
  if (!kernel || kernel.connectionStatus !== 'connected' || kernel.status !== 'idle') return false;
  window.__testPanel = panel;
  return true;
}
"""

JS_OUTPUTS = """
(start) => {
  const cells = window.__testPanel.content.widgets;
  const out = [];
  for (let i = start; i < cells.length; i++) {
    const model = cells[i].model;
    if (model.type !== 'code') continue;
    out.push({index: i, count: model.executionCount, outputs: model.outputs.toJSON()});
  }
  return out;
}
"""

JS_RUN_ALL = """
async () => {
  const app = window.jupyterapp;
  app.shell.activateById(window.__testPanel.id);
  return await app.commands.execute('notebook:run-all-cells');
}
"""

JS_APPEND_AND_RUN = """
async (code) => {
  const app = window.jupyterapp;
  const panel = window.__testPanel;
  app.shell.activateById(panel.id);
  const nb = panel.content;
  nb.activeCellIndex = nb.widgets.length - 1;
  await app.commands.execute('notebook:insert-cell-below');
  const index = nb.widgets.length - 1;
  nb.activeCellIndex = index;
  nb.widgets[index].model.sharedModel.setSource(code);
  await app.commands.execute('notebook:run-cell');
  return index;
}
"""

JS_SHUTDOWN = """
async () => {
  const panel = window.__testPanel;
  if (panel && panel.sessionContext) await panel.sessionContext.shutdown();
  return true;
}
"""


def outputs_text(outputs: list[dict[str, Any]]) -> str:
    """Join a cell's stream and text/plain outputs into one string."""
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        elif "data" in out and "text/plain" in out["data"]:
            text = out["data"]["text/plain"]
            parts.append(text if isinstance(text, str) else "".join(text))
    return "".join(parts)


def raise_on_errors(cells: list[dict[str, Any]]) -> None:
    """Raise CellError with the traceback if any cell ended with an error output."""
    for cell in cells:
        for out in cell["outputs"]:
            if out.get("output_type") == "error":
                trace = ANSI.sub("", "\n".join(out.get("traceback", [])))
                raise CellError(f"cell {cell['index']} raised {out.get('ename')}:\n{trace}")


class NotebookPage:
    """A notebook opened in a Chromium page of a running Jupyter host."""

    def __init__(self, server: JupyterServer, context: Any, name: str) -> None:
        self.server = server
        self.context = context
        self.name = name
        self.page = context.new_page()
        self.console_errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(f"console.error: {message.text}")

    def open(self, timeout: float = 90.0) -> None:
        """Load the notebook and wait until its kernel is connected and idle."""
        self.page.goto(self.server.notebook_url(self.name), wait_until="domcontentloaded")
        found = self.page.wait_for_function(JS_FIND_PANEL, arg=self.name, timeout=timeout * 1000)
        answer = found.json_value()
        if isinstance(answer, dict):  # e.g. "Path Not Found" or a kernel chooser
            raise RuntimeError(f"{self.server.kind} showed a dialog: {answer['dialog']!r}")

    def run_all(self, timeout: float = 180.0) -> list[dict[str, Any]]:
        """Run every cell as the 'Run All Cells' menu does; raise if any cell fails."""
        self.page.evaluate(JS_RUN_ALL)
        self.wait_executed(0, timeout)
        cells = self.page.evaluate(JS_OUTPUTS, 0)
        raise_on_errors(cells)
        return cells

    def wait_executed(self, start: int, timeout: float) -> None:
        """Wait until the code cells from `start` on have run (or one failed), kernel idle."""
        self.page.wait_for_function(
            """(start) => {
              const panel = window.__testPanel;
              const kernel = panel.sessionContext.session.kernel;
              const cells = panel.content.widgets.slice(start);
              const code = cells.filter((c) => c.model.type === 'code');
              const failed = code.some((c) => c.model.executionCount !== null &&
                c.model.outputs.toJSON().some((o) => o.output_type === 'error'));
              return kernel.status === 'idle' &&
                (failed || code.every((c) => c.model.executionCount !== null));
            }""",
            arg=start,
            timeout=timeout * 1000,
            polling=100,
        )

    def run(self, code: str, timeout: float = 60.0) -> str:
        """Append a code cell, run it in the notebook's kernel, return its printed text."""
        index = self.page.evaluate(JS_APPEND_AND_RUN, code)
        self.wait_executed(index, timeout)
        cells = self.page.evaluate(JS_OUTPUTS, index)
        raise_on_errors(cells)
        return outputs_text(cells[0]["outputs"]) if cells else ""

    def cell(self, index: int) -> Any:
        """The locator of the notebook's `index`-th cell (output widgets live inside it)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def screenshot(self, path: Path) -> None:
        """Save a full-page screenshot."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        """Shut down the notebook's kernel and close its browser context."""
        # The page may be gone; the server's teardown stops its kernels anyway.
        with contextlib.suppress(Exception):
            self.page.evaluate(JS_SHUTDOWN)
        with contextlib.suppress(Exception):
            self.context.close()
