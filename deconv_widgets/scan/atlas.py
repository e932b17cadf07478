"""The atlas: every scanned unit's top-k hits with patches and projections, read lazily."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..projection.checks import check_channel, shown
from ..projection.shown_space import to_shown
from ..projection.topk import Hit
from . import files, work
from .work import ScanSpec

FOLDER = "atlas"
META = "meta.json"  # written last: an atlas without it is unfinished and never read
ARRAYS = ("table", "patch", "projection", "shown")
VISUAL_ARRAYS = ("image", "history")  # of each unit's visualisation, when the scan made them


def assemble(
    spec: ScanSpec, layers: list[dict[str, Any]], matrix: Any, extra: dict[str, Any]
) -> None:
    """Write the atlas from the merged tables and the projection parts; meta.json goes last."""
    folder = files.join(spec.out, FOLDER)
    merged = files.read_npz(files.join(spec.out, "merged.npz"))
    skipped = json.loads(bytes(merged["meta"]).decode())["skipped"]
    for index, layer in enumerate(layers):
        parts = files.listed(files.join(spec.out, "parts"), f"L{index:03d}-*.npz")
        columns: dict[str, list[np.ndarray]] = {name: [] for name in ARRAYS}
        for path in parts:  # in channel order (the names are zero-padded)
            part = files.read_npz(path)
            for name in ARRAYS:
                columns[name].append(part[name])
        table = np.concatenate(columns["table"]) if parts else np.zeros((0, spec.k, 4))
        if len(table) != layer["channels"] or not np.array_equal(table, merged[f"L{index}"]):
            raise RuntimeError(
                f"the projection parts of layer {layer['name']!r} do not match its merged top-k; "
                "run the scan again with overwrite=True"
            )
        for name in ARRAYS:
            buffer = io.BytesIO()
            np.save(buffer, np.concatenate(columns[name]), allow_pickle=False)
            files.write_atomic(files.join(folder, f"L{index:03d}.{name}.npy"), buffer.getvalue())
        if spec.visualize_steps:
            _assemble_visualizations(spec, index, layer, folder)
    meta = {
        "format": work.FORMAT,
        "key": spec.key,
        "model": spec.model,
        "layers": layers,
        "sources": list(spec.files),
        "k": spec.k,
        "method": spec.method,
        "shown_matrix": None if matrix is None else np.asarray(matrix).tolist(),
        "visualization": _visual_meta(spec),
        "report": {"images": len(spec.files) - len(skipped), "skipped": skipped, **extra},
    }
    files.write_atomic(files.join(folder, META), json.dumps(meta, indent=1).encode())


def _visual_meta(spec: ScanSpec) -> dict[str, Any] | None:
    """How the units were visualised (None: they were not)."""
    if not spec.visualize_steps:
        return None
    return {"steps": spec.visualize_steps, "size": spec.visualize_size, "key": spec.visualize_key}


def _assemble_visualizations(
    spec: ScanSpec, index: int, layer: dict[str, Any], folder: str
) -> None:
    """Write a layer's visualisations (image, history) from its visualisation parts."""
    parts = files.listed(files.join(spec.out, "visual"), f"L{index:03d}-*.npz")
    read = [files.read_npz(path) for path in parts]  # in channel order (zero-padded names)
    read = [part for part in read if work.key_of(part) == spec.visualize_key]
    if sum(len(part["image"]) for part in read) != layer["channels"]:
        raise RuntimeError(
            f"the visualisations of layer {layer['name']!r} are incomplete; run the scan again"
        )
    for name in VISUAL_ARRAYS:
        buffer = io.BytesIO()
        np.save(buffer, np.concatenate([part[name] for part in read]), allow_pickle=False)
        files.write_atomic(files.join(folder, f"L{index:03d}.{name}.npy"), buffer.getvalue())


def is_complete(out: str, key: str, visualize_key: str = "") -> bool:
    """Whether `out` holds the finished atlas of the scan `key` (visualised, if asked)."""
    path = files.join(out, FOLDER, META)
    if not files.exists(path):
        return False
    meta = json.loads(files.read_bytes(path).decode())
    visual = meta.get("visualization") or {}
    return meta.get("key") == key and (not visualize_key or visual.get("key") == visualize_key)


class Atlas:
    """A finished scan: `layers`, `sources` (the input files, in order) and `hits` per unit."""

    def __init__(self, folder: str, meta: dict[str, Any]) -> None:
        self.folder = folder
        self._meta = meta
        self.layers: list[str] = [layer["name"] for layer in meta["layers"]]
        self.sources: list[str] = list(meta["sources"])
        self.k: int = int(meta["k"])
        self.method: str = meta["method"]  # the key of deconv_widgets.methods projecting hits
        self.model: str = meta["model"]  # the zoo name or .keras path the workers loaded
        self.report: dict[str, Any] = meta["report"]
        self.visualized: dict[str, Any] | None = meta.get("visualization")  # steps, size; or None
        self._arrays: dict[tuple[int, str], np.ndarray] = {}

    @classmethod
    def load(cls, path: str | os.PathLike) -> Atlas:
        """The atlas of a scan's `out` folder (or of its `atlas` subfolder).

        Raises:
            ValueError: no finished atlas there (the scan is missing or did not finish).
        """
        text = os.fspath(path)
        for folder in (files.join(text, FOLDER), text):
            meta_path = files.join(folder, META)
            if files.exists(meta_path):
                return cls(folder, json.loads(files.read_bytes(meta_path).decode()))
        raise ValueError(
            f"no finished atlas in {text!r} ({FOLDER}/{META} is missing): run "
            "deconv_widgets.scan.run(..., out=...) there first, or rerun it to finish"
        )

    def __repr__(self) -> str:
        return (
            f"Atlas({self.folder!r}, layers={self.layers}, images={len(self.sources)}, k={self.k})"
        )

    # ------------------------------------------------------------------------ reading
    def layer(self, layer: str) -> dict[str, Any]:
        """A layer's description: name, kind, output shape, channels, receptive field."""
        return dict(self._meta["layers"][self._index(layer)])

    def _index(self, layer: Any) -> int:
        if not isinstance(layer, str) or layer not in self.layers:
            raise ValueError(
                f"layer {shown(layer)} is not in this atlas; choose one of: "
                f"{', '.join(self.layers)}"
            )
        return self.layers.index(layer)

    def _array(self, index: int, name: str) -> np.ndarray:
        """One of a layer's arrays (memory-mapped when the atlas is on a local disk)."""
        if (index, name) not in self._arrays:
            path = files.join(self.folder, f"L{index:03d}.{name}.npy")
            if Path(path).is_file():
                self._arrays[index, name] = np.load(path, mmap_mode="r", allow_pickle=False)
            else:
                self._arrays[index, name] = np.load(io.BytesIO(files.read_bytes(path)))
        return self._arrays[index, name]

    def _rows(self, layer: str, channel: int) -> tuple[int, int, int]:
        """(layer index, channel, number of hits) of a checked unit."""
        index = self._index(layer)
        channel = check_channel(channel, int(self._meta["layers"][index]["channels"]), layer)
        table = self._array(index, "table")[channel]
        return index, channel, int((table[:, 1] >= 0).sum())

    def hits(self, layer: str, channel: int) -> list[Hit]:
        """The unit's hits, strongest first: the same Hit as top_k; Hit.image indexes sources."""
        index, channel, count = self._rows(layer, channel)
        table = self._array(index, "table")[channel]
        patches = self._array(index, "patch")[channel]
        projections = self._array(index, "projection")[channel]
        return [
            Hit(
                int(table[i, 1]),
                int(table[i, 2]),
                int(table[i, 3]),
                float(table[i, 0]),
                np.array(patches[i]),
                np.array(projections[i]),
            )
            for i in range(count)
        ]

    def shown(self, layer: str, channel: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(patch of the shown image as uint8, projection in the shown image's space) per hit."""
        index, channel, count = self._rows(layer, channel)
        matrix = self._meta.get("shown_matrix")
        matrix = None if matrix is None else np.asarray(matrix, np.float32)
        patches = self._array(index, "shown")[channel]
        projections = self._array(index, "projection")[channel]
        return [(np.array(patches[i]), to_shown(projections[i], matrix)) for i in range(count)]

    def visualization(self, layer: str, channel: int) -> np.ndarray | None:
        """What the unit wants to see: (size, size, C) float32 in [0, 1]; None if not visualised."""
        return self._visual(layer, channel, "image")

    def visualization_history(self, layer: str, channel: int) -> np.ndarray | None:
        """Its objective at each step, then the image's own (re-run); None if not visualised."""
        return self._visual(layer, channel, "history")

    def _visual(self, layer: str, channel: int, name: str) -> np.ndarray | None:
        """A unit's row of a visualisation array (the unit checked first)."""
        index, channel, _ = self._rows(layer, channel)
        if self.visualized is None:
            return None
        return np.array(self._array(index, name)[channel])

    def to_html(self, site: str | os.PathLike) -> Path:
        """Static unit pages under `site` (index, a page per layer and per unit), offline."""
        from .html import write_site

        return write_site(self, Path(site))
