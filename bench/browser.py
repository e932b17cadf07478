"""Chromium for the browser benchmarks, launched the way tests/browser launches it."""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import CHROMIUM
from tests.browser.conftest import CHROMIUM_ARGS

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


def serve_directory(page: Any, root: Path, index_html: str) -> str:
    """Serve `root`'s files and an index page at ORIGIN inside `page`; return the index URL."""
    root = root.resolve()

    def handle(route: Any) -> None:
        path = route.request.url[len(ORIGIN) :].split("?", 1)[0].lstrip("/")
        if path in ("", "index.html"):
            route.fulfill(status=200, content_type="text/html", body=index_html)
            return
        file = (root / path).resolve()
        if root not in file.parents or not file.is_file():
            route.fulfill(status=404, body="not found")
            return
        kind = "text/javascript" if file.suffix in (".js", ".mjs") else None
        kind = kind or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, content_type=kind, body=file.read_bytes())

    page.route(f"{ORIGIN}/**", handle)
    return f"{ORIGIN}/index.html"
