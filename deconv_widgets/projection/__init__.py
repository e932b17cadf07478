"""Model inspection, the Projector (DeconvNet / guided / saliency), the ladder and top-k search."""

from __future__ import annotations

from .checks import MAX_IMAGE_PIXELS
from .engine import Projector
from .graph import LayerInfo
from .ladder import RUNG_OPS, Rung
from .lenses import Cascade
from .loading import load_model
from .rules import METHODS, SEEDS
from .topk import Hit, TopK

__all__ = [
    "MAX_IMAGE_PIXELS",
    "METHODS",
    "RUNG_OPS",
    "SEEDS",
    "Cascade",
    "Hit",
    "LayerInfo",
    "Projector",
    "Rung",
    "TopK",
    "load_model",
]
