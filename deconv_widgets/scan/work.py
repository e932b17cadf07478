"""What a Beam worker does: a shard's top-k, the projections of final hits, visualisations.

Each function reads its inputs and writes its result under the scan's `out` itself, so a shard
or a chunk of projections that finished before a run was killed is read back, not redone.
"""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .. import methods
from ..projection.engine import Projector
from ..projection.image_files import ImageFileError, decode_image
from ..projection.steps import run_steps
from ..projection.topk import LazyHits, Strongest, crop_square
from ..projection.visualize import visualize_steps
from . import files

FORMAT = 1  # of the shard, part and atlas files


@dataclass(frozen=True)
class ScanSpec:
    """Everything a worker needs, picklable: the model by name or path, never the object."""

    model: str  # a zoo name or the path of a .keras file
    layers: tuple[str, ...]
    k: int
    method: str  # a key of deconv_widgets.methods (the Method is rebuilt from it by a worker)
    preprocess: Any  # None, a zoo name (zoo.PREPROCESS_NAMES) or a picklable callable
    size: tuple[int, int]  # (H, W) images are fitted to
    channels: int  # of the shown image (1 or 3)
    batch_size: int
    shard_size: int
    files: tuple[str, ...]
    out: str
    key: str  # of the manifest: a shard or part file of another scan is never read
    threads: int | None = None  # TensorFlow's intra-op threads per worker (None: its default)
    visualize_steps: int = 0  # Adam steps of each unit's visualisation (0: none)
    visualize_size: int = 0  # the visualisations' side
    visualize_key: str = ""  # of the visualisation settings: a file of others is redone

    @property
    def shard_count(self) -> int:
        """Shards of `shard_size` files (the last one may be shorter)."""
        return -(-len(self.files) // self.shard_size)

    def shard_path(self, shard: int) -> str:
        """Where a shard's top-k is kept."""
        return files.join(self.out, "shards", f"{shard:05d}.npz")

    def part_path(self, layer: int, start: int) -> str:
        """Where the projections of a layer's channels start, start + 1, ... are kept."""
        return files.join(self.out, "parts", f"L{layer:03d}-{start:05d}.npz")

    def visual_path(self, layer: int, start: int) -> str:
        """Where the visualisations of a layer's channels start, start + 1, ... are kept."""
        return files.join(self.out, "visual", f"L{layer:03d}-{start:05d}.npz")


@lru_cache(maxsize=2)
def projector_of(model: str, threads: int | None) -> Projector:
    """The worker's Projector: the model is loaded once per worker process."""
    if threads:
        # RuntimeError: TensorFlow already ran an op in this process; its setting stays
        with contextlib.suppress(RuntimeError):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
    return Projector(model)


def preprocess_of(preprocess: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The function that maps shown images in [0, 1] to model inputs."""
    if preprocess is None:
        return lambda batch: batch
    if isinstance(preprocess, str):
        from .. import zoo

        return zoo.preprocess_named(preprocess)
    return lambda batch: np.asarray(preprocess(batch), np.float32)


def read_shown(spec: ScanSpec, number: int) -> np.ndarray:
    """File `number` decoded and fitted: float32 (H, W, C) in [0, 1]; ImageFileError if bad."""
    path = spec.files[number]
    try:
        data = files.read_bytes(path)
    except OSError as error:
        raise ImageFileError(f"{path}: cannot be read ({error})") from error
    return decode_image(data, spec.size, spec.channels, name=path)


# ------------------------------------------------------------------------------- shards
def shard_topk(spec: ScanSpec, shard: int) -> tuple[int, bool]:
    """The top-k of one shard for every (layer, channel), kept under out; (shard, computed)."""
    path = spec.shard_path(shard)
    if files.exists(path) and key_of(files.read_npz(path)) == spec.key:
        return shard, False
    projector = projector_of(spec.model, spec.threads)
    prepare = preprocess_of(spec.preprocess)
    infos = [projector.layer_info(name) for name in spec.layers]
    strongest = [Strongest(range(int(info.output_shape[-1] or 0)), spec.k) for info in infos]
    skipped: list[tuple[int, str]] = []
    batch: list[np.ndarray] = []
    numbers: list[int] = []

    def flush() -> None:
        if batch:
            inputs = prepare(np.stack(batch))
            for accumulator, activation in zip(
                strongest, projector.forward_layers(inputs, spec.layers), strict=True
            ):
                accumulator.add(activation, 0, numbers)
            batch.clear()
            numbers.clear()

    first = shard * spec.shard_size
    for number in range(first, min(first + spec.shard_size, len(spec.files))):
        try:
            batch.append(read_shown(spec, number))
        except ImageFileError as error:
            skipped.append((number, str(error)))
            continue
        numbers.append(number)
        if len(batch) == spec.batch_size:
            flush()
    flush()
    arrays = {f"L{i}": strongest_array(acc, spec.k) for i, acc in enumerate(strongest)}
    arrays["meta"] = _json_array({"key": spec.key, "format": FORMAT, "skipped": skipped})
    files.write_atomic(path, files.npz_bytes(arrays))
    return shard, True


def strongest_array(accumulator: Strongest, k: int) -> np.ndarray:
    """An accumulator as a (C, k, 4) float64 array of (value, image, y, x); image -1 = empty."""
    table = np.full((len(accumulator.heaps), k, 4), -1.0)
    for channel, entries in accumulator.entries().items():
        for row, (image, y, x, value) in enumerate(entries):
            table[channel, row] = (value, image, y, x)
    return table


def strongest_of(table: np.ndarray, k: int) -> Strongest:
    """The accumulator a `strongest_array` table holds."""
    accumulator = Strongest(range(table.shape[0]), k)
    for channel, rows in enumerate(table):
        for value, image, y, x in rows:
            if image >= 0:
                accumulator.push(channel, (float(value), -int(image), -int(y), -int(x)))
    return accumulator


def shard_result(spec: ScanSpec, shard: int) -> dict[str, Any]:
    """A finished shard's tables (one per layer) and the files it skipped."""
    data = files.read_npz(spec.shard_path(shard))
    meta = json.loads(bytes(data.pop("meta")).decode())
    return {"tables": [data[f"L{i}"] for i in range(len(spec.layers))], "skipped": meta["skipped"]}


def _json_array(value: Any) -> np.ndarray:
    """JSON as a uint8 array (an .npz holds arrays only; no pickles)."""
    return np.frombuffer(json.dumps(value).encode(), np.uint8)


def key_of(data: dict[str, np.ndarray]) -> str | None:
    """The manifest key a shard or part file was written for."""
    try:
        meta = json.loads(bytes(data["meta"]).decode())
    except (KeyError, ValueError):
        return None
    return meta.get("key") if meta.get("format") == FORMAT else None


# -------------------------------------------------------------------------- projections
def project_part(spec: ScanSpec, layer: int, start: int, table: np.ndarray) -> tuple[str, bool]:
    """Patches and projections of the final hits of channels start... of a layer, kept."""
    path = spec.part_path(layer, start)
    if files.exists(path) and key_of(files.read_npz(path)) == spec.key:
        return path, False
    projector = projector_of(spec.model, spec.threads)
    prepare = preprocess_of(spec.preprocess)
    info = projector.layer_info(spec.layers[layer])
    entries = {
        start + row: [
            (int(image), int(y), int(x), float(value)) for value, image, y, x in rows if image >= 0
        ]
        for row, rows in enumerate(table)
    }
    numbers = sorted({image for hits in entries.values() for image, _, _, _ in hits})
    shown = {number: read_shown(spec, number) for number in numbers}
    kept = {number: prepare(shown[number][None])[0] for number in numbers}
    lazy = LazyHits(projector, info, entries, kept, methods.get(spec.method))
    size = info.receptive_field
    count, k, channels_in = len(table), spec.k, int(projector.input_shape[-1] or 0)
    patches = np.zeros((count, k, size, size, channels_in), np.float32)
    projections = np.zeros_like(patches)
    shown_patches = np.zeros((count, k, size, size, spec.channels), np.uint8)
    for row in range(count):
        for column, hit in enumerate(lazy[start + row]):
            patches[row, column] = hit.patch
            projections[row, column] = hit.projection
            top, left, _ = projector.receptive_box(info, hit.y, hit.x)
            square = crop_square(shown[hit.image], top, left, size)
            shown_patches[row, column] = np.round(square * 255.0).astype(np.uint8)
    arrays = {
        "table": table,
        "patch": patches,
        "projection": projections,
        "shown": shown_patches,
        "meta": _json_array({"key": spec.key, "format": FORMAT}),
    }
    files.write_atomic(path, files.npz_bytes(arrays))
    return path, True


# ------------------------------------------------------------------------ visualisations
def visual_preprocess(preprocess: Any) -> Callable[[Any], Any] | None:
    """The preprocess `Projector.visualize` traces: None, a zoo model's, or the user's own."""
    if isinstance(preprocess, str):
        from .. import zoo

        return zoo.preprocess_named(preprocess)
    return preprocess


def visualize_part(spec: ScanSpec, layer: int, start: int, count: int) -> tuple[str, bool]:
    """The visualisations of channels start ... start + count - 1 of a layer, in one batch, kept."""
    path = spec.visual_path(layer, start)
    if files.exists(path) and key_of(files.read_npz(path)) == spec.visualize_key:
        return path, False
    projector = projector_of(spec.model, spec.threads)
    found = run_steps(
        visualize_steps(
            projector,
            spec.layers[layer],
            list(range(start, start + count)),
            steps=spec.visualize_steps,
            size=spec.visualize_size,
            preprocess=visual_preprocess(spec.preprocess),
        )
    )
    arrays = {
        "image": np.stack([v.image for v in found]).astype(np.float32),
        "history": np.stack([v.history for v in found]).astype(np.float32),
        "meta": _json_array({"key": spec.visualize_key, "format": FORMAT}),
    }
    files.write_atomic(path, files.npz_bytes(arrays))
    return path, True
