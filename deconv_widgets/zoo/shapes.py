"""Procedural shapes: edges, corners, curves, stripes and checkerboards a student can name."""

from __future__ import annotations

import numpy as np

from .._values import check_int
from ._renamed import accepts_old_seed

SHAPE_CLASSES: tuple[str, ...] = (
    "horizontal edge",
    "vertical edge",
    "diagonal edge",
    "corner",
    "circle",
    "horizontal stripes",
    "vertical stripes",
    "checkerboard",
)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of a size x size image, as floats."""
    ys, xs = np.mgrid[0:size, 0:size]
    return ys.astype(np.float64), xs.astype(np.float64)


def _soft_step(distance: np.ndarray, width: float) -> np.ndarray:
    """A slightly blurred step: 0 on the negative side, 1 on the positive side."""
    return 1.0 / (1.0 + np.exp(-distance / width))


def _mask(label: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The foreground mask (values in [0, 1]) of one shape of class `label`."""
    ys, xs = _grid(size)
    lo, hi = 0.25 * size, 0.75 * size
    blur = rng.uniform(0.3, 1.0)
    name = SHAPE_CLASSES[label]
    if name == "horizontal edge":
        return _soft_step(ys - rng.uniform(lo, hi), blur)
    if name == "vertical edge":
        return _soft_step(xs - rng.uniform(lo, hi), blur)
    if name == "diagonal edge":
        sign = rng.choice([-1.0, 1.0])
        offset = rng.uniform(-0.25 * size, 0.25 * size)
        distance = (ys - size / 2) + sign * (xs - size / 2) - offset
        return _soft_step(distance / np.sqrt(2.0), blur)
    if name == "corner":
        cy, cx = rng.uniform(lo, hi, size=2)
        sy, sx = rng.choice([-1.0, 1.0], size=2)
        return _soft_step(sy * (ys - cy), blur) * _soft_step(sx * (xs - cx), blur)
    if name == "circle":
        radius = rng.uniform(0.1 * size, 0.3 * size)
        cy, cx = rng.uniform(radius + 2, size - radius - 2, size=2)
        distance = np.hypot(ys - cy, xs - cx)
        if rng.random() < 0.5:  # a disk
            return _soft_step(radius - distance, blur)
        thickness = rng.uniform(2.0, 5.0)  # a ring
        return _soft_step(thickness / 2 - np.abs(distance - radius), blur)
    period = rng.uniform(0.1 * size, 0.25 * size)
    phase = rng.uniform(0, period, size=2)
    if name == "horizontal stripes":
        return _soft_step(np.sin(2 * np.pi * (ys + phase[0]) / period), 0.15)
    if name == "vertical stripes":
        return _soft_step(np.sin(2 * np.pi * (xs + phase[1]) / period), 0.15)
    # checkerboard: the product of two square waves
    wave_y = np.sin(2 * np.pi * (ys + phase[0]) / period)
    wave_x = np.sin(2 * np.pi * (xs + phase[1]) / period)
    return _soft_step(wave_y * wave_x, 0.1)


@accepts_old_seed
def shapes_images(n: int, size: int = 64, random_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Make `n` labelled shape images (n, size, size, 1) in [0, 1] and their labels (n,).

    Deterministic from `random_seed`; `seed=` is its deprecated old name.
    """
    n, size = check_int(n, "n", 0), check_int(size, "size", 16)
    rng = np.random.default_rng(random_seed)
    labels = rng.integers(0, len(SHAPE_CLASSES), size=n).astype(np.int64)
    images = np.empty((n, size, size, 1), np.float32)
    for i, label in enumerate(labels):
        mask = _mask(int(label), size, rng)
        background = rng.uniform(0.0, 0.45)
        foreground = rng.uniform(background + 0.3, 1.0)
        if rng.random() < 0.5:
            background, foreground = foreground, background
        image = background + (foreground - background) * mask
        image = image + rng.normal(0.0, rng.uniform(0.0, 0.08), size=image.shape)
        images[i, :, :, 0] = np.clip(image, 0.0, 1.0)
    return images, labels
