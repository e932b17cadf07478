"""The atlas's static site: pages at their paths, links that resolve, nothing from outside."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("apache_beam")

from deconv_widgets import scan, zoo
from deconv_widgets.scan import html as site_html

LAYERS = ["conv1_1", "pool3"]
BROKEN = "999_broken.png"
HOSTILE = ["a/b <script>", "..", "index.html", "CON", 'q"uote&amp', "x" * 300, "ünï cödé", ""]


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> scan.Atlas:
    """A scan of 24 shapes images and one unreadable file over two layers, k=9."""
    folder = tmp_path_factory.mktemp("html_imgs")
    for i, image in enumerate(zoo.shapes_images(24, random_seed=3)[0]):
        grey = np.round(image[..., 0] * 255).astype(np.uint8)
        Image.fromarray(grey, "L").save(folder / f"{i:03d}.png")
    (folder / BROKEN).write_bytes(b"this is not a PNG")
    out = tmp_path_factory.mktemp("html_out")
    return scan.run(
        "shapes", str(folder), LAYERS, k=9, out=out, shard_size=8, workers=1, progress=False
    )


@pytest.fixture(scope="module")
def site(atlas: scan.Atlas, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The atlas's site, written through Atlas.to_html."""
    index = atlas.to_html(tmp_path_factory.mktemp("site"))
    assert index.name == "index.html" and index.is_file()
    return index.parent


class _Links(HTMLParser):
    """Collects every <img src> and <a href> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        elif tag == "a":
            self.links.append(values.get("href") or "")


def _parsed(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _target(page: Path, url: str) -> Path:
    """The local file a relative URL of `page` names (external URLs fail the test)."""
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc, f"{page}: non-relative URL {url!r}"
    return (page.parent / unquote(parts.path)).resolve()


def _check_site(site: Path) -> tuple[int, int]:
    """Assert every file is a page or a PNG, every link resolves, no external URL; (imgs, links)."""
    images = links = 0
    for path in site.rglob("*"):
        if path.is_dir():
            continue
        assert path.suffix in (".html", ".png"), path
        if path.suffix == ".png":
            continue
        text = path.read_text(encoding="utf-8")
        for marker in ("http:", "https:", "//"):
            assert marker not in text, f"{path} holds {marker!r}"
        parsed = _parsed(path)
        for url in parsed.images + parsed.links:
            assert _target(path, url).is_file(), f"{path}: {url!r} does not resolve"
        images, links = images + len(parsed.images), links + len(parsed.links)
    return images, links


def test_unit_pages_at_their_paths(atlas: scan.Atlas, site: Path) -> None:
    for layer in LAYERS:
        channels = atlas.layer(layer)["channels"]
        assert sorted(p.name for p in (site / layer).glob("*.html")) == sorted(
            [f"{c}.html" for c in range(channels)] + ["index.html"]
        )
        for channel in (0, channels - 1):
            page = site / layer / f"{channel}.html"
            hits = atlas.hits(layer, channel)
            assert hits, f"{layer}/{channel} has no hits"
            parsed = _parsed(page)
            assert len(parsed.images) == 2 * len(hits)
            assert {"../index.html", "index.html"} <= set(parsed.links)
            text = page.read_text(encoding="utf-8")
            for hit in hits:
                assert Path(atlas.sources[hit.image]).name in text
                assert f"y {hit.y}, x {hit.x}" in text and f"{hit.value:.4g}" in text


def test_links_and_images_resolve_offline(site: Path) -> None:
    images, links = _check_site(site)
    assert images > 0 and links > 0
    pngs = list(site.rglob("*.png"))
    assert pngs
    for path in pngs[:: max(1, len(pngs) // 50)]:
        with Image.open(path) as png:
            assert min(png.size) >= 64 and png.mode == "L", (path, png.size, png.mode)


def test_layer_page_shows_every_channel(atlas: scan.Atlas, site: Path) -> None:
    for layer in LAYERS:
        info = atlas.layer(layer)
        parsed = _parsed(site / layer / "index.html")
        units = [url for url in parsed.links if re.fullmatch(r"\d+\.html", url)]
        assert units == [f"{c}.html" for c in range(info["channels"])]
        assert len(parsed.images) == 2 * sum(bool(atlas.hits(layer, c)) for c in range(len(units)))
        assert f"receptive field {info['receptive_field']} px" in (
            site / layer / "index.html"
        ).read_text(encoding="utf-8")


def test_index_summarises_the_scan(atlas: scan.Atlas, site: Path) -> None:
    text = (site / "index.html").read_text(encoding="utf-8")
    (index, reason), *rest = atlas.report["skipped"]
    assert not rest and Path(atlas.sources[index]).name == BROKEN
    assert BROKEN in text and escape(str(reason)) in text
    assert f"<th>k</th><td>{atlas.k}</td>" in text and atlas.method in text
    assert f"{atlas.report['images']} of {len(atlas.sources)} files" in text
    assert _parsed(site / "index.html").links == [f"{layer}/index.html" for layer in LAYERS]


def test_projection_png_is_the_papers_colour_map(atlas: scan.Atlas, site: Path) -> None:
    for layer in LAYERS:
        patch, projection = atlas.shown(layer, 1)[0]
        with Image.open(site / layer / "png" / "1-0-projection.png") as png:
            drawn = np.asarray(png)
        with Image.open(site / layer / "png" / "1-0-patch.png") as png:
            shown = np.asarray(png)
        step = drawn.shape[0] // projection.shape[0]
        assert step * projection.shape[0] == drawn.shape[0] >= 64
        expected = 0.5 + projection[..., 0] / (2 * np.abs(projection).max())
        np.testing.assert_allclose(drawn[::step, ::step] / 255, expected, atol=1 / 255)
        np.testing.assert_array_equal(shown[::step, ::step], patch[..., 0])
    assert site_html.colour_mapped(np.zeros((2, 2, 1))).tolist() == [[[128]] * 2] * 2


def test_hostile_layer_names_are_slugged_and_escaped() -> None:
    folders = site_html.folder_names([*HOSTILE, "Conv", "conv", "conv-1"])
    assert len({folder.lower() for folder in folders.values()}) == len(folders)
    for name, folder in folders.items():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", folder), (name, folder)
        assert folder.lower() != "index.html" and folder not in (".", "..")
    assert site_html.slug("pool3") == "pool3" and site_html.slug("CON") != "CON"
    assert site_html.slug("a/b <script>") != site_html.slug("a/b <script >")


class _Renamed:
    """An atlas whose layers have hostile names (only Atlas's public API is forwarded)."""

    def __init__(self, atlas: scan.Atlas, names: dict[str, str]) -> None:
        self._atlas, self._real = atlas, names
        self.layers, self.sources, self.k = list(names), atlas.sources, atlas.k
        self.method, self.report, self.model = atlas.method, atlas.report, atlas.model
        self.visualized = atlas.visualized

    def layer(self, name: str) -> dict[str, Any]:
        return {**self._atlas.layer(self._real[name]), "name": name}

    def hits(self, name: str, channel: int) -> list[Any]:
        return self._atlas.hits(self._real[name], channel)

    def shown(self, name: str, channel: int) -> list[Any]:
        return self._atlas.shown(self._real[name], channel)

    def visualization(self, name: str, channel: int) -> Any:
        return self._atlas.visualization(self._real[name], channel)

    def visualization_history(self, name: str, channel: int) -> Any:
        return self._atlas.visualization_history(self._real[name], channel)


def test_a_site_of_hostile_layer_names(atlas: scan.Atlas, tmp_path: Path) -> None:
    names = {"a/b <script>": "conv1_1", '../"x" & y': "conv1_1"}
    index = site_html.write_site(_Renamed(atlas, names), tmp_path / "site")  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing written outside
    _check_site(index.parent)
    folders = site_html.folder_names(list(names))
    for name, folder in folders.items():
        assert (index.parent / folder / "15.html").is_file()
        page = (index.parent / folder / "index.html").read_text(encoding="utf-8")
        assert escape(name) in page
    for page in index.parent.rglob("*.html"):
        assert "<script" not in page.read_text(encoding="utf-8"), page
