"""The atlas's static pages in Chromium from file://: every image drawn, no request sent out."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from scan_helpers import write_images

from deconv_widgets import zoo

scan = pytest.importorskip("deconv_widgets.scan")

PROBE = "http://example.invalid/probe"  # a request that must reach the guard


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of a scan of 12 shapes files and an unreadable one over pool3 (k = 9)."""
    folder = tmp_path_factory.mktemp("site_files")
    write_images(folder, zoo.shapes_images(12, random_seed=3)[0])
    (folder / "999_broken.png").write_bytes(b"this is not a PNG")
    atlas = scan.run(
        "shapes", folder, ["conv1_1", "pool3"], k=9, out=tmp_path_factory.mktemp("out"),
        workers=1, progress=False,
    )  # fmt: skip
    assert np.asarray(atlas.report["skipped"]).shape[0] == 1
    return atlas.to_html(tmp_path_factory.mktemp("site")).parent


@pytest.mark.browser
def test_pages_draw_offline_in_chromium(browser: Any, site: Path) -> None:
    context = browser.new_context()
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme == "file" and not urlsplit(url).netloc:  # file://host/ is remote
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    try:
        page = context.new_page()
        page.goto((site / "index.html").as_uri())
        page.evaluate(f"fetch('{PROBE}').catch(() => null)")
        page.wait_for_timeout(200)
        assert PROBE in outside, "the request guard is not active"
        outside.remove(PROBE)
        for path in (site / "index.html", site / "pool3" / "index.html", site / "pool3" / "3.html"):
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images, i => [i.src, i.complete && i.naturalWidth > 0])"
            )
            assert all(drawn for _, drawn in images), [src for src, ok in images if not ok]
            if path.name != "index.html" or path.parent != site:
                assert images, f"{path} shows no image"
            assert page.title()
        assert outside == [], f"requests left the file system: {outside}"
    finally:
        context.close()
