"""Chromium for the browser benchmarks, launched the way tests/browser launches it."""

from __future__ import annotations

import contextlib
import mimetypes
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import ARTIFACTS, CHROMIUM
from tests.browser.jupyter_host import CHROMIUM_ARGS

ORIGIN = "http://bench.invalid"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}; install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def lab_notebook(name: str, cells: list[str], **context_options: Any) -> Iterator[Any]:
    """A notebook of `cells` opened (not run) in JupyterLab in Chromium; closed and stopped after.

    The server log goes to bench/artifacts/; `context_options` go to Playwright's new_context
    (a 1400 x 1000 viewport unless given).
    """
    from tests.browser import jupyter_host
    from tests.browser.jupyter_host import JupyterServer, NotebookPage

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    jupyter_host.ARTIFACTS = ARTIFACTS
    context_options.setdefault("viewport", {"width": 1400, "height": 1000})
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser:
        server = JupyterServer("lab", Path(tmp))
        server.start()
        try:
            context = browser.new_context(**context_options)
            nb = NotebookPage(server, context, server.write_notebook(name, cells))
            nb.open()
            yield nb
            nb.close()
        finally:
            server.stop()


def serve_files(page: Any, mounts: dict[str, Path], index_html: str) -> str:
    """Serve files at ORIGIN inside `page`: URL prefix -> directory (or file), plus an index.

    Returns the index URL. Anything outside the mounts answers 404.
    """
    mounts = {prefix.strip("/"): target.resolve() for prefix, target in mounts.items()}

    def resolve(path: str) -> Path | None:
        for prefix in sorted(mounts, key=len, reverse=True):
            target = mounts[prefix]
            if target.is_file() and path == prefix:
                return target
            if target.is_dir() and (prefix == "" or path.startswith(prefix + "/")):
                file = (target / path[len(prefix) :].lstrip("/")).resolve()
                return file if target in file.parents and file.is_file() else None
        return None

    def handle(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :].split("?", 1)[0].lstrip("/")
        if path in ("", "index.html"):
            route.fulfill(status=200, content_type="text/html", body=index_html)
            return
        file = resolve(path)
        if file is None:
            route.fulfill(status=404, body="not found")
            return
        kind = "text/javascript" if file.suffix in (".js", ".mjs") else None
        kind = kind or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, content_type=kind, body=file.read_bytes())

    page.route(f"{ORIGIN}/**", handle)
    return f"{ORIGIN}/index.html"
