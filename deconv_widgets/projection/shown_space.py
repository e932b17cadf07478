"""Projections in the shown image's space, when a preprocess maps shown pixels to model inputs.

A projection is a signal on the model's input. Most preprocessing is per-pixel affine
(input = A @ shown + b at every pixel: scaling, mean subtraction, RGB -> BGR as VGG16's), and
then the same signal on the shown image is A^T applied at every pixel (the chain rule), so a red
edge shows as red. Anything else (resizing, cropping, a non-linear map) is left in the model's
input space.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .topk import Hit, crop_square

if TYPE_CHECKING:  # pragma: no cover
    from .protocols import BoxSource

PROBE_RANDOM_SEED = 0
TOLERANCE = 1e-4  # relative to the largest preprocessed value


def affine_matrix(
    preprocess: Callable[[np.ndarray], Any] | None, shape: tuple[int, ...]
) -> np.ndarray | None:
    """A (C_in, C_shown) with preprocess(x) == A x + b at every pixel of an image of `shape`.

    None when there is no preprocess or it is not per-pixel affine (checked on a random image).
    """
    if preprocess is None:
        return None
    channels = shape[-1]

    def run(image: np.ndarray) -> np.ndarray:
        return np.asarray(preprocess(image), np.float64)

    try:
        zero = run(np.zeros(shape, np.float32))
        if zero.shape[:-1] != tuple(shape[:-1]):
            return None  # a preprocess that resizes or crops
        columns = []
        for c in range(channels):
            unit = np.zeros(shape, np.float32)
            unit[..., c] = 1.0
            column = run(unit) - zero
            if not np.allclose(column, column[(0,) * (column.ndim - 1)], rtol=0, atol=1e-6):
                return None
            columns.append(column[(0,) * (column.ndim - 1)])
        matrix = np.stack(columns, axis=-1)  # (C_in, C_shown)
        probe = np.random.default_rng(PROBE_RANDOM_SEED).random(shape).astype(np.float32)
        predicted = zero + probe.astype(np.float64) @ matrix.T
        scale = max(float(np.abs(predicted).max()), 1.0)
        if np.abs(run(probe) - predicted).max() > TOLERANCE * scale:
            return None
    except Exception:
        return None
    return matrix.astype(np.float32)


def to_shown(projection: np.ndarray, matrix: np.ndarray | None) -> np.ndarray:
    """A projection (..., C_in) on the model's input as a signal on the shown image (..., C)."""
    if matrix is None:
        return projection
    return np.asarray(projection, np.float32) @ matrix


def shown_hit(
    projector: BoxSource, layer: str, hit: Hit, shown_image: np.ndarray, matrix: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """A top-k hit's patch, cut from the shown image, and its projection in the shown space."""
    top, left, size = projector.receptive_box(layer, hit.y, hit.x)
    return crop_square(shown_image, top, left, size), to_shown(hit.projection, matrix)
