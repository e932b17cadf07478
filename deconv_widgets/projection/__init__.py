"""Model inspection, the Projector (DeconvNet / guided / saliency), the ladder and top-k search."""

from __future__ import annotations

from .engine import SEEDS, Projector
from .graph import LayerInfo
from .ladder import RUNG_OPS, Rung
from .rules import METHODS
from .topk import Hit, TopK

__all__ = ["METHODS", "RUNG_OPS", "SEEDS", "Hit", "LayerInfo", "Projector", "Rung", "TopK"]
