"""Offline bundled data and model: procedural shapes and a small CNN trained on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .shapes import SHAPE_CLASSES, shapes_images

if TYPE_CHECKING:  # pragma: no cover
    import keras


def shapes_model() -> keras.Model:
    """Load the trained shapes CNN shipped in the package (no network; cached)."""
    from .model import shapes_model as _load

    return _load()


__all__ = ["SHAPE_CLASSES", "shapes_images", "shapes_model"]
