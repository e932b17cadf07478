"""Browser fixtures: Chromium, one JupyterLab 4 and one Notebook 7 server per session."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .jupyter_host import ARTIFACTS, HOSTS, JupyterServer, NotebookPage

CHROMIUM = Path(os.environ.get("DECONV_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; skipped when missing on a dev machine, a failure in CI."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (install Debian's chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[object]:
    """One headless Chromium for the whole session (Playwright never downloads a browser)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


_servers: dict[str, JupyterServer] = {}


def _server(kind: str, tmp_path_factory: pytest.TempPathFactory) -> JupyterServer:
    """Start (once per session) the server of host `kind`."""
    if kind not in _servers:
        server = JupyterServer(kind, tmp_path_factory.mktemp(f"jupyter-{kind}"))
        server.start()
        _servers[kind] = server
    return _servers[kind]


@pytest.fixture(scope="session", autouse=True)
def _stop_servers() -> Iterator[None]:
    """Terminate every server this session started, whatever happened."""
    yield
    for server in _servers.values():
        server.stop()


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> JupyterServer:
    """JupyterLab 4, started by the test session."""
    return _server("lab", tmp_path_factory)


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> JupyterServer:
    """Notebook 7, started by the test session."""
    return _server("notebook", tmp_path_factory)


@pytest.fixture(params=HOSTS)
def host(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Parametrise a test over JupyterLab 4 and Notebook 7."""
    _server(request.param, tmp_path_factory)
    return request.param


def _artifact_name(nodeid: str) -> str:
    """A file-name-safe form of a test id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")


@pytest.fixture
def open_notebook(
    request: pytest.FixtureRequest,
    browser: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., NotebookPage]]:
    """Factory: write a notebook, open it in a host, run all its cells, return the page.

    Every page it opened is screenshotted into tests/artifacts/ when the test ends (pass or
    fail), its kernel shut down and its browser context closed.
    """
    opened: list[NotebookPage] = []

    def factory(
        cells: list[str], host: str = "lab", name: str | None = None, run: bool = True
    ) -> NotebookPage:
        server = _server(host, tmp_path_factory)
        base = name or _artifact_name(request.node.nodeid)
        file_name = server.write_notebook(f"{base}-{len(opened)}", cells)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        notebook = NotebookPage(server, context, file_name)
        opened.append(notebook)
        notebook.open()
        if run:
            notebook.run_all()
        return notebook

    yield factory
    stem = _artifact_name(request.node.nodeid)
    for i, notebook in enumerate(opened):
        suffix = f"-{i}" if len(opened) > 1 else ""
        notebook.close(screenshot=ARTIFACTS / f"{stem}{suffix}.png")


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts() -> None:
    """Remove old screenshots so the folder shows this run only."""
    if ARTIFACTS.exists():
        for png in ARTIFACTS.glob("*.png"):
            png.unlink()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(ARTIFACTS / "tmp", ignore_errors=True)
