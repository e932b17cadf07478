"""ModelInspector, ChannelPicker and DeconvView: the Explorer's parts, usable alone."""

from __future__ import annotations

from typing import Any

import traitlets

from .. import methods
from ..methods import Method
from ..projection import Projector
from ._base import BaseWidget, esm
from ._picks import layer_rows
from ._projection import ProjectionWidget


class ModelInspector(BaseWidget):
    """The table of a model's 4-D layers: kind, output shape, params, receptive field, jump."""

    _esm = esm("model_inspector")
    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The model's 4-D layers, a dict each: name, kind, output_shape [H, W, C] (None: unknown),
    params, receptive_field and jump (input pixels). Set by Python only; shown as a table."""

    def __init__(self, model: Any) -> None:
        """Inspect a Keras model (ValueError/TypeError for a model that cannot be shown)."""
        super().__init__()
        projector = model if isinstance(model, Projector) else Projector(model)
        self.layers = layer_rows(projector)


class ChannelPicker(ProjectionWidget):
    """Every channel of a layer's activation on one grid; click or arrow keys set `channel`."""

    _esm = esm("channel_picker")
    _with_projections = False

    def __init__(self, model: Any, image: Any, layer: str | None = None, channel: int = 0) -> None:
        """Show `layer` (default: the last 4-D layer) of `model` on one image (H, W, C)."""
        super().__init__()
        self._init_projection(model, image, layer, channel, methods.NAMES[0], "activation")


class DeconvView(ProjectionWidget):
    """One channel projected to pixel space by every method of `methods.NAMES`, side by side."""

    _esm = esm("deconv_view")

    def __init__(
        self,
        model: Any,
        image: Any,
        layer: str,
        channel: int,
        method: str | Method = "deconvnet",
        seed: str = "activation",
    ) -> None:
        """Project `channel` of `layer` for one image (H, W, C); traits stay settable.

        `method` is the one shown first: a name of `methods.NAMES`, a configured key
        ("lrp_epsilon(epsilon=0.1)") or a configured Method (`methods.lrp_epsilon(0.1)`).
        """
        super().__init__()
        self._init_projection(model, image, layer, channel, method, seed)
