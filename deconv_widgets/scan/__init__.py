"""Zeiler & Fergus's top-k of every unit over any data set, on Apache Beam, resumable.

`run` scans image files with a pipeline that runs on any Beam runner (DirectRunner here, Flink,
Spark or Dataflow on a cluster) and writes an `Atlas` under `out`, with each unit's
visualisation when asked; `Atlas.to_html` writes static unit pages. Needs the `scan` extra:
pip install "deconv-widgets[scan]".
"""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

from ..projection.topk import Hit
from .atlas import Atlas
from .files import ScanError
from .launch import run

__all__ = ["Atlas", "Hit", "ScanError", "run"]
