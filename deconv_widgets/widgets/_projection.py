"""Projection state shared by Explorer, ChannelPicker and DeconvView (compute goes below)."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from ..projection import METHODS, SEEDS, LayerInfo, Projector
from ..projection.checks import check_choice, image_batch
from ..projection.shown_space import affine_matrix, to_shown
from ._base import BaseWidget, IntSetting, TextSetting, float32_bytes

# All channels x 3 methods x H x W x C float32 up to this size go to the page in one message,
# so that a click redraws with no kernel round trip; bigger layers are projected on demand.
ALL_CHANNELS_LIMIT_BYTES = 16 * 2**20


def layer_rows(projector: Projector) -> list[dict[str, Any]]:
    """The inspector rows (JSON-able) of every 4-D layer of a Projector."""
    return [
        {
            "name": info.name,
            "kind": info.kind,
            "output_shape": list(info.output_shape),
            "params": int(info.params),
            "receptive_field": int(info.receptive_field),
            "jump": int(info.jump),
        }
        for info in projector.layers
    ]


def display_image(image: np.ndarray) -> np.ndarray:
    """An image scaled to [0, 1] for display (a flat image becomes 0)."""
    image = np.nan_to_num(np.asarray(image, np.float32))
    low, high = float(image.min(initial=0.0)), float(image.max(initial=0.0))
    if low >= 0.0 and high <= 1.0:
        return image
    span = high - low
    return (image - low) / span if span > 0 else np.zeros_like(image)


def choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    """Check a string choice; ValueError naming the value and the valid choices."""
    return check_choice(value, choices, what)


class LayerSetting(TextSetting):
    """A layer name; a LayerInfo given instead stands for its name."""

    def coerce(self, value: Any) -> str:
        return super().coerce(value.name if isinstance(value, LayerInfo) else value)


class ProjectionWidget(BaseWidget):
    """Layer, channel, method and seed over one image, with activations and projections."""

    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    layer = LayerSetting("").tag(sync=True)
    channel = IntSetting(0).tag(sync=True)
    method = TextSetting("deconvnet").tag(sync=True)
    seed = TextSetting("activation").tag(sync=True)
    image = traitlets.Bytes(b"").tag(sync=True)
    image_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    activations = traitlets.Bytes(b"").tag(sync=True)
    act_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    projections = traitlets.Bytes(b"").tag(sync=True)
    proj_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    proj_methods = traitlets.List(traitlets.Unicode()).tag(sync=True)
    proj_channels = traitlets.List(traitlets.Int()).tag(sync=True)
    proj_key = traitlets.Dict().tag(sync=True)
    proj_errors = traitlets.Dict().tag(sync=True)

    # Subclasses that only show activations (ChannelPicker) turn projections off.
    _with_projections = True

    def _init_projection(
        self,
        model: Any,
        image: Any,
        layer: str | LayerInfo | None,
        channel: int | None,
        method: str,
        seed: str,
        preprocess: Any = None,
    ) -> None:
        """Validate the constructor's arguments (ValueError/TypeError) and compute the view."""
        self._projector = model if isinstance(model, Projector) else Projector(model)
        if not self._projector.layers:
            raise ValueError("the model has no layer with a 4-D (H, W, C) output to show")
        self._preprocess = preprocess
        self._request = 0
        self._cache_key: tuple | None = None
        self._act_key: tuple | None = None
        self._image_version = 0
        self.layers = layer_rows(self._projector)
        info = self._projector.layer_info(layer if layer is not None else self.layers[-1]["name"])
        if channel is not None:
            self._check_channel(info, channel)
        choice(method, METHODS, "method")
        choice(seed, SEEDS, "seed")
        self._set_image_now(image)
        # projections go to the page in the shown image's space (e.g. RGB, not VGG16's BGR)
        self._shown_matrix = affine_matrix(preprocess, self._shown.shape)
        if channel is None:  # open on the channel that responds most to this image
            act = self._projector.activations(self._input, info)
            channel = int(np.argmax(act.reshape(-1, act.shape[-1]).max(axis=0)))
        self._quietly(layer=info.name, channel=channel, method=method, seed=seed)
        self._refresh()
        self._ready = True

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_channel(info: LayerInfo, channel: Any) -> int:
        """An int channel in range for the layer, else TypeError/ValueError with the range."""
        if isinstance(channel, bool) or not isinstance(channel, int | np.integer):
            raise TypeError(f"channel must be an int, got {type(channel).__name__}")
        count = int(info.output_shape[-1])
        if not 0 <= channel < count:
            raise ValueError(
                f"channel {channel} is out of range for layer {info.name!r}; "
                f"choose 0 to {count - 1}"
            )
        return int(channel)

    def _model_input(self, shown: np.ndarray) -> np.ndarray:
        """The model's input for a shown image (through `preprocess` when given)."""
        if self._preprocess is None:
            return shown
        return np.asarray(self._preprocess(shown), np.float32)

    def _set_image_now(self, shown: Any) -> None:
        """Make an image (H, W, C) the current one; validated by a forward pass."""
        shown = image_batch(shown, (None, None, None))[0]  # dtype, size, values; then copy
        model_input = self._model_input(shown)
        first = self.layers[0]["name"]
        self._projector.activations(model_input, first)  # validates rank, size, values
        self._shown, self._input = shown, model_input
        self._image_version += 1
        self.image = float32_bytes(display_image(shown))
        self.image_shape = [int(s) for s in shown.shape]

    # ------------------------------------------------------------------ compute
    def _all_at_once(self, info: LayerInfo) -> bool:
        """True when every channel's projections for the 3 methods fit the page budget."""
        size = int(info.output_shape[-1]) * len(METHODS) * int(np.prod(self._input.shape)) * 4
        return size <= ALL_CHANNELS_LIMIT_BYTES

    def _refresh(self) -> None:
        """Bring activations and projections up to date with layer/channel/seed/image."""
        info = self._projector.layer_info(self.layer)
        self._check_channel(info, self.channel)
        choice(self.method, METHODS, "method")
        choice(self.seed, SEEDS, "seed")
        with self.hold_sync():
            act_key = (info.name, self._image_version)
            if act_key != self._act_key:
                act = self._projector.activations(self._input, info)
                self.activations = float32_bytes(act)
                self.act_shape = [int(s) for s in act.shape]
                self._act_key = act_key
            if self._with_projections:
                self._refresh_projections(info)

    def _refresh_projections(self, info: LayerInfo) -> None:
        """Project all channels (small layers) or only the current one, for every method."""
        everything = self._all_at_once(info)
        channels = None if everything else [self.channel]
        key = (info.name, self.seed, self._image_version, None if everything else self.channel)
        if key == self._cache_key:
            return
        arrays, errors = [], {}
        for method in METHODS:
            try:
                arrays.append(
                    self._projector.project_many(self._input, info, channels, method, self.seed)
                )
            except ValueError as err:  # e.g. a layer this method cannot pass
                errors[method] = str(err)
                count = int(info.output_shape[-1]) if everything else 1
                arrays.append(np.zeros((count, *self._input.shape), np.float32))
        stacked = to_shown(np.stack(arrays), self._shown_matrix)
        self._request += 1
        self.projections = float32_bytes(stacked)
        self.proj_shape = [int(s) for s in stacked.shape]
        self.proj_methods = list(METHODS)
        self.proj_errors = errors
        self.proj_channels = list(range(stacked.shape[1])) if everything else [self.channel]
        self.proj_key = {
            "layer": info.name,
            "seed": self.seed,
            "image": self._image_version,
            "request": self._request,
            "all": everything,
        }
        self._cache_key = key
        self.status = "; ".join(f"{m}: {e}" for m, e in errors.items())

    def _on_pick(self) -> None:
        """Layer/channel/seed/method changed: refresh (errors revert via _guarded)."""
        self._refresh()
        if not self.proj_errors:
            self.status = ""

    @traitlets.observe("layer")
    def _layer_changed(self, change: dict[str, Any]) -> None:
        def apply() -> None:
            info = self._projector.layer_info(change["new"])
            old_channel = self.channel
            if not 0 <= old_channel < int(info.output_shape[-1]):
                self._quietly(channel=0)
            try:
                self._on_pick()
            except Exception:
                self._quietly(channel=old_channel)
                raise

        self._guarded(change, apply)

    @traitlets.observe("channel", "seed", "method")
    def _pick_changed(self, change: dict[str, Any]) -> None:
        self._guarded(change, self._on_pick)
