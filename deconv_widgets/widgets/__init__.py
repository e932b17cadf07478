"""Jupyter widgets (anywidget): the Explorer and its parts, and the op explainers.

Rule for bad input: arguments passed to a constructor are checked at once and raise
ValueError/TypeError naming the problem and the valid choices. Traits set afterwards (from
Python or by the page) never raise: the error shows in the widget's `status` line and the
previous valid value is kept.
"""

from __future__ import annotations

from ._log import log_output
from .explorer import Explorer
from .gradients_panel import GradientsPanel
from .inspector import ChannelPicker, DeconvView, ModelInspector
from .transpose_conv_view import TransposeConvView
from .unpool_view import UnpoolView

__all__ = [
    "ChannelPicker",
    "DeconvView",
    "Explorer",
    "GradientsPanel",
    "ModelInspector",
    "TransposeConvView",
    "UnpoolView",
    "log_output",
]
