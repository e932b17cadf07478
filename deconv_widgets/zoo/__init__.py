"""Offline bundled data and model: procedural shapes and a small CNN trained on them."""

from __future__ import annotations

from .shapes import SHAPE_CLASSES, shapes_images


def shapes_model():  # noqa: ANN201  (keras imported lazily)
    """Load the trained shapes CNN shipped in the package (no network; cached)."""
    from .model import shapes_model as _load

    return _load()


__all__ = ["SHAPE_CLASSES", "shapes_images", "shapes_model"]
