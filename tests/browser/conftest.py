"""Browser fixtures: Chromium, one JupyterLab 4 and one Notebook 7 server per session."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .jupyter_host import ARTIFACTS, CHROMIUM_ARGS, HOSTS, JupyterServer, NotebookPage

CHROMIUM = Path(os.environ.get("DECONV_CHROMIUM", "/usr/bin/chromium"))


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


@pytest.fixture(params=HOSTS)
def host(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Parametrise a test over JupyterLab 4 and Notebook 7."""
    _server(request.param, tmp_path_factory)
    return request.param


def _artifact_name(nodeid: str) -> str:
    """A file-name-safe form of a test id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")


# Every notebook page open right now (function- and module-scoped), for the screenshots.
LIVE_PAGES: list[NotebookPage] = []


def _open(
    browser: object,
    tmp_path_factory: pytest.TempPathFactory,
    cells: list[str],
    host: str,
    name: str,
) -> NotebookPage:
    """Write a notebook into the host's root, open it in a fresh context, run all cells."""
    server = _server(host, tmp_path_factory)
    file_name = server.write_notebook(name, cells)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    notebook = NotebookPage(server, context, file_name)
    LIVE_PAGES.append(notebook)
    try:
        notebook.open()
        notebook.run_all()
    except Exception:
        _screenshot([notebook], f"{name}-failed-to-open")
        raise
    return notebook


def _screenshot(pages: list[NotebookPage], stem: str) -> None:
    """Screenshot pages into tests/artifacts/<stem>[-i].png; never raises."""
    pages = [nb for nb in pages if not nb.page.is_closed()]
    for i, notebook in enumerate(pages):
        suffix = f"-{i}" if len(pages) > 1 else ""
        with contextlib.suppress(Exception):
            notebook.screenshot(ARTIFACTS / f"{stem}{suffix}.png")


def _close(notebook: NotebookPage) -> None:
    """Shut a page's kernel down and close it."""
    if notebook in LIVE_PAGES:
        LIVE_PAGES.remove(notebook)
    notebook.close()


@pytest.fixture(autouse=True)
def _screenshot_live_pages(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test (pass or fail) screenshot each notebook page still open."""
    yield
    _screenshot(list(LIVE_PAGES), _artifact_name(request.node.nodeid))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A fixture that fails while setting up (e.g. a module's page) still leaves a screenshot."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup" and report.failed:
        _screenshot(list(LIVE_PAGES), f"{_artifact_name(item.nodeid)}-setup")


@pytest.fixture
def open_notebook(
    request: pytest.FixtureRequest,
    browser: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., NotebookPage]]:
    """Factory: write a notebook, open it in a host, run all its cells, return the page.

    Pages are screenshotted into tests/artifacts/ when the test ends (pass or fail), then
    their kernels are shut down and their browser contexts closed.
    """
    opened: list[NotebookPage] = []
    stem = _artifact_name(request.node.nodeid)

    def factory(cells: list[str], host: str = "lab") -> NotebookPage:
        notebook = _open(browser, tmp_path_factory, cells, host, f"{stem}-{len(opened)}")
        opened.append(notebook)
        return notebook

    yield factory
    _screenshot(opened, stem)
    for notebook in opened:
        _close(notebook)


@pytest.fixture(scope="module")
def module_notebook(
    request: pytest.FixtureRequest,
    browser: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., NotebookPage]]:
    """Like open_notebook, but the pages live until the module's last test (reuse them)."""
    opened: list[NotebookPage] = []
    stem = Path(request.node.nodeid.split("::")[0]).stem

    def factory(cells: list[str], host: str = "lab") -> NotebookPage:
        name = f"{stem}-{host}-{len(opened)}"
        notebook = _open(browser, tmp_path_factory, cells, host, name)
        opened.append(notebook)
        return notebook

    yield factory
    for notebook in opened:
        _close(notebook)


@pytest.fixture(scope="session", autouse=True)
def _fresh_artifacts() -> None:
    """Remove old screenshots so the folder shows this run only."""
    if ARTIFACTS.exists():
        for old in [*ARTIFACTS.glob("*.png"), *ARTIFACTS.glob("latency*.json")]:
            old.unlink()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
