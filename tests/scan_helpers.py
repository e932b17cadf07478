"""Helpers for the scan tests: image folders, a slow preprocess, the atlas against top_k."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image


def write_images(folder: Path, images: np.ndarray, suffix: str = ".png") -> list[Path]:
    """Save images in [0, 1] (N, H, W, 1 or 3) as 8-bit files 000.png, 001.png, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, image in enumerate(images):
        pixels = np.round(image * 255.0).astype(np.uint8)
        picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        path = folder / f"{number:03d}{suffix}"
        picture.save(path, quality=95) if suffix == ".jpg" else picture.save(path)
        paths.append(path)
    return paths


def read_images(paths: list[Path], channels: int) -> np.ndarray:
    """The files as float32 (N, H, W, C) in [0, 1], read with Pillow alone (the reference)."""
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for path in paths:
        with Image.open(path) as opened:
            pixels = np.asarray(opened.convert(mode), np.float32) / np.float32(255.0)
        arrays.append(pixels[..., None] if pixels.ndim == 2 else pixels)
    return np.stack(arrays)


class SlowPreprocess:
    """The identity, `seconds` slower per batch: makes a scan slow enough to kill mid-way."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        time.sleep(self.seconds)
        return batch


def as_scanned(images: np.ndarray, shard_size: int, batch_size: int) -> list[np.ndarray]:
    """The batches a scan feeds the model: shards of `shard_size`, each cut into `batch_size`s.

    oneDNN's float sums depend on the batch a convolution sees (last-bit differences that can
    swap two near-equal hits), so `top_k` is fed the very batches the scan used.
    """
    batches = []
    for first in range(0, len(images), shard_size):
        shard = images[first : first + shard_size]
        batches += [shard[i : i + batch_size] for i in range(0, len(shard), batch_size)]
    return batches


def assert_atlas_equals_top_k(atlas, top_k, layer: str, numbers=None) -> None:
    """Every channel's hits equal: values, positions, images, patches; projections to 1e-5."""
    numbers = numbers or (lambda image: image)
    assert sorted(top_k.hits) == list(range(atlas.layer(layer)["channels"]))
    for channel in top_k.hits:
        got, expected = atlas.hits(layer, channel), top_k.hits[channel]
        assert [(h.image, h.y, h.x, h.value) for h in got] == [
            (numbers(h.image), h.y, h.x, h.value) for h in expected
        ], (layer, channel)
        for mine, theirs in zip(got, expected, strict=True):
            np.testing.assert_array_equal(mine.patch, theirs.patch)
            scale = max(float(np.abs(theirs.projection).max()), 1e-30)
            np.testing.assert_allclose(
                mine.projection, theirs.projection, rtol=1e-5, atol=1e-5 * scale
            )
