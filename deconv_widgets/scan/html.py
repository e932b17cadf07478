"""Static unit pages of an atlas: an index, a page per layer and per unit, PNGs, no network."""

from __future__ import annotations

import hashlib
import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # pragma: no cover
    from ..projection.topk import Hit

MIN_SIDE = 64  # PNGs smaller than this are upscaled (nearest neighbour) to at least this side
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RESERVED = re.compile(r"(index\.html|(con|prn|aux|nul|com\d|lpt\d)(\..*)?)", re.IGNORECASE)
CSS = """body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
a{color:#0645ad;text-decoration:none}a:hover{text-decoration:underline}
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:.6em}.card{background:#fff;border:1px solid #ddd;padding:.4em}
.card p{margin:.2em 0;font-size:12px}nav{margin-bottom:1em}
img{image-rendering:pixelated;margin-right:4px;border:1px solid #ccc}"""


class AtlasView(Protocol):
    """What the pages read of an atlas (`scan.atlas.Atlas` has it; this module needs no import)."""

    @property
    def layers(self) -> list[str]:
        """The scanned layers' names, in order."""
        ...

    @property
    def sources(self) -> list[str]:
        """The input files, in order (Hit.image indexes them)."""
        ...

    @property
    def k(self) -> int:
        """Hits kept per unit."""
        ...

    @property
    def method(self) -> str:
        """The key of the method projecting the hits."""
        ...

    @property
    def model(self) -> str:
        """The zoo name or .keras path of the model scanned."""
        ...

    @property
    def report(self) -> dict[str, Any]:
        """The scan's report: images, skipped files, shards."""
        ...

    @property
    def visualized(self) -> dict[str, Any] | None:
        """How the units were visualised (steps, size), or None."""
        ...

    def layer(self, layer: str) -> dict[str, Any]:
        """A layer's description: name, kind, output shape, channels, receptive field."""
        ...

    def hits(self, layer: str, channel: int) -> list[Hit]:
        """The unit's hits, strongest first."""
        ...

    def shown(self, layer: str, channel: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(patch of the shown image as uint8, projection in the shown space) per hit."""
        ...

    def visualization(self, layer: str, channel: int) -> np.ndarray | None:
        """What the unit wants to see, in [0, 1]; None when the scan did not visualise."""
        ...

    def visualization_history(self, layer: str, channel: int) -> np.ndarray | None:
        """The visualisation's objective at each step, then its image's own."""
        ...


def slug(name: str) -> str:
    """A folder name for a layer: the name itself when safe, else a cleaned name and a hash."""
    if SAFE.fullmatch(name) and not name.endswith(".") and not RESERVED.fullmatch(name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[:40].strip("_-") or "layer"
    return f"{cleaned}-{hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def folder_names(layers: list[str]) -> dict[str, str]:
    """A slug per layer, unique even on a case-insensitive file system."""
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for name in layers:
        folder, count = slug(name), 1
        while folder.lower() in taken:
            folder, count = f"{slug(name)}-{count}", count + 1
        taken.add(folder.lower())
        folders[name] = folder
    return folders


def _upscaled(array: np.ndarray) -> np.ndarray:
    """An (h, w, C) uint8 array repeated so that each side is at least MIN_SIDE."""
    factor = max(1, -(-MIN_SIDE // max(1, min(array.shape[:2]))))
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1) if factor > 1 else array


def colour_mapped(projection: np.ndarray) -> np.ndarray:
    """A signed projection as uint8: 0 is mid-grey, +-max|p| white and black (per image)."""
    array = np.asarray(projection, np.float32)
    scale = float(np.abs(array).max()) if array.size else 0.0
    mapped = 0.5 + array / (2 * scale) if scale > 0 else np.full_like(array, 0.5)
    return np.round(np.clip(mapped, 0, 1) * 255).astype(np.uint8)


def _save_png(array: np.ndarray, path: Path) -> None:
    """Write an (h, w, C) uint8 array as a grey (C != 3) or RGB PNG, upscaled when small."""
    array = np.asarray(array, np.uint8)
    if array.ndim == 3 and array.shape[-1] == 3:
        image = Image.fromarray(np.ascontiguousarray(_upscaled(array)), "RGB")
    else:
        grey = array.reshape(*array.shape[:2], -1).mean(axis=-1).astype(np.uint8)
        image = Image.fromarray(np.ascontiguousarray(_upscaled(grey[..., None])[..., 0]), "L")
    image.save(path, compress_level=1)


def _page(title: str, body: str) -> str:
    """A whole HTML document with the inline style sheet."""
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _basename(source: str) -> str:
    """The file name of a path or URL."""
    return re.split(r"[/\\]", source)[-1]


def _img(src: str, alt: str, side: int) -> str:
    """An <img> of a PNG shown `side` px wide."""
    return f'<img src="{escape(src)}" alt="{escape(alt)}" width="{side}" height="{side}">'


def _wants(atlas: AtlasView, layer: str, channel: int, folder: Path) -> str:
    """Write the unit's visualisation as a PNG; its section of the unit page ("" if none)."""
    image = atlas.visualization(layer, channel)
    history = atlas.visualization_history(layer, channel)
    if image is None or history is None:
        return ""
    _save_png(
        np.round(np.clip(image, 0, 1) * 255).astype(np.uint8),
        folder / "png" / f"{channel}-wants.png",
    )
    return (
        f'<h2>What it wants</h2><div class="card">{_img(f"png/{channel}-wants.png", "wants", 192)}'
        f"<p>activation {float(history[-1]):.4g} after {len(history) - 1} steps</p>"
        f"<p>(Fourier, decorrelated, robust; the image re-run through the model)</p></div>"
        "<h2>What it gets</h2>"
    )


def _write_unit(atlas: AtlasView, layer: str, channel: int, folder: Path, nav: str, rf: Any) -> str:
    """Write a unit's PNGs and page; return its card for the layer page."""
    hits, shown = atlas.hits(layer, channel), atlas.shown(layer, channel)
    wants = _wants(atlas, layer, channel, folder)
    rows = []
    for rank, (hit, (patch, projection)) in enumerate(zip(hits, shown, strict=True)):
        _save_png(patch, folder / "png" / f"{channel}-{rank}-patch.png")
        _save_png(colour_mapped(projection), folder / "png" / f"{channel}-{rank}-projection.png")
        name = _basename(atlas.sources[hit.image])
        rows.append(
            f'<div class="card">{_img(f"png/{channel}-{rank}-patch.png", "patch", 128)}'
            f"{_img(f'png/{channel}-{rank}-projection.png', 'projection', 128)}"
            f"<p>#{rank + 1} value {hit.value:.4g}</p><p>{escape(name)}</p>"
            f"<p>image {hit.image}, y {hit.y}, x {hit.x}</p></div>"
        )
    title = f"{layer} unit {channel}"
    body = (
        f"<nav>{nav}</nav><h1>{escape(title)}</h1><p>{len(hits)} of k={atlas.k} hits "
        f"({escape(atlas.method)}), receptive field {escape(str(rf))} px</p>{wants}"
        f'<div class="grid">{"".join(rows) or "<p>no hits</p>"}</div>'
    )
    (folder / f"{channel}.html").write_text(_page(title, body), encoding="utf-8")
    thumb = _img(f"png/{channel}-wants.png", "wants", 64) if wants else ""
    if not hits:
        return (
            f'<div class="card"><a href="{channel}.html">{thumb}unit {channel}</a>'
            "<p>no hits</p></div>"
        )
    return (
        f'<div class="card"><a href="{channel}.html">{thumb}'
        f"{_img(f'png/{channel}-0-patch.png', 'patch', 64)}"
        f"{_img(f'png/{channel}-0-projection.png', 'projection', 64)}<p>unit {channel}</p></a>"
        f"<p>value {hits[0].value:.4g}, rf {escape(str(rf))}</p></div>"
    )


def _write_layer(atlas: AtlasView, layer: str, folder: Path) -> None:
    """Write a layer's page and every unit's page under `folder`."""
    (folder / "png").mkdir(parents=True, exist_ok=True)
    info = atlas.layer(layer)
    channels = int(info["channels"])
    up = f'<a href="../index.html">index</a> / <a href="index.html">{escape(layer)}</a>'
    cards = []
    for channel in range(channels):
        near = [c for c in (channel - 1, channel + 1) if 0 <= c < channels]
        steps = [f'<a href="{c}.html">unit {c}</a>' for c in near]
        nav = " | ".join([up, *steps])
        cards.append(_write_unit(atlas, layer, channel, folder, nav, info["receptive_field"]))
    body = (
        f'<nav><a href="../index.html">index</a></nav><h1>{escape(layer)}</h1>'
        f"<p>{escape(str(info['kind']))}, output {escape(str(info['output_shape']))}, "
        f"{channels} channels, receptive field {escape(str(info['receptive_field']))} px; "
        f"each unit's {'visualisation, ' if atlas.visualized else ''}strongest hit (patch, "
        "projection)</p>"
        f'<div class="grid">{"".join(cards)}</div>'
    )
    (folder / "index.html").write_text(_page(layer, body), encoding="utf-8")


def _summary(atlas: AtlasView) -> str:
    """The index's table of the scan and its list of skipped files."""
    model = atlas.model
    report: dict[str, Any] = atlas.report
    rows = [
        ("model", model),
        ("images", f"{report.get('images', '?')} of {len(atlas.sources)} files"),
        ("k", atlas.k),
        ("method", atlas.method),
    ]
    if atlas.visualized:
        shown_how = f"{atlas.visualized['steps']} steps at {atlas.visualized['size']} px"
        rows.append(("visualisations", shown_how))
    rows += [(key, value) for key, value in report.items() if key not in ("images", "skipped")]
    table = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    skipped = report.get("skipped") or []
    items = "".join(
        f"<li>{escape(_basename(atlas.sources[int(index)]))}: {escape(str(reason))}</li>"
        for index, reason in skipped
    )
    listed = f"<h2>{len(skipped)} skipped files</h2><ul>{items}</ul>" if skipped else ""
    return f"<table>{table}</table>{listed}"


def write_site(atlas: AtlasView, site: Path) -> Path:
    """Write the atlas's static pages under `site`; return the path of its index.html."""
    site = Path(site)
    site.mkdir(parents=True, exist_ok=True)
    folders = folder_names(list(atlas.layers))
    rows = []
    for layer in atlas.layers:
        _write_layer(atlas, layer, site / folders[layer])
        info = atlas.layer(layer)
        rows.append(
            f'<tr><td><a href="{escape(quote(folders[layer]))}/index.html">{escape(layer)}</a>'
            f"</td><td>{escape(str(info['kind']))}</td><td>{info['channels']}</td>"
            f"<td>{escape(str(info['receptive_field']))}</td></tr>"
        )
    body = (
        f"<h1>Atlas: top-{atlas.k} hits of every unit</h1>{_summary(atlas)}<h2>Layers</h2>"
        "<table><tr><th>layer</th><th>kind</th><th>channels</th><th>receptive field</th></tr>"
        f"{''.join(rows)}</table>"
    )
    index = site / "index.html"
    index.write_text(_page("Atlas", body), encoding="utf-8")
    return index
