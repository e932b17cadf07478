"""The search part of the Explorer: the ladder, the top-k search, and a scan's atlas hits.

The ladder (the projection rung by rung) and the top-k search over the Explorer's images run
as jobs; a stopped search shows the top-k of the images it went through. With an atlas (a
scan's), the top-k panel shows the atlas's hits of each picked unit instead, at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import traitlets

from ..._values import check_int
from ...projection.ladder import Rung
from ...projection.shown_space import shown_hit
from ...projection.steps import Step, Steps
from ...projection.topk import top_k_steps
from ...projection.visualize import Visualization, visualize_steps
from .._base import pack_arrays
from .host import PartHost

TOPK_DEFAULT = 9
VISUALIZE_STEPS = 256  # the page's "what it wants" button: half lucid's 512, a job to stop
VISUALIZE_FRAMES = 32  # times the image is redrawn while it sharpens


class HitAtlas(Protocol):
    """What the Explorer reads of a scan's atlas (`deconv_widgets.scan.Atlas`)."""

    layers: list[str]
    sources: list[str]
    method: str

    def layer(self, layer: str) -> dict[str, Any]:
        """A scanned layer's description (its "channels" among it)."""

    def hits(self, layer: str, channel: int) -> list[Any]:
        """A unit's hits (image, y, x, value, ...), strongest first."""

    def shown(self, layer: str, channel: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(uint8 patch, projection in the shown space) per hit."""

    def visualization(self, layer: str, channel: int) -> np.ndarray | None:
        """What the unit wants to see, when the scan visualised it."""

    def visualization_history(self, layer: str, channel: int) -> np.ndarray | None:
        """That visualisation's objective at each step, then its image's own."""


def atlas_of(atlas: Any, projector: Any) -> HitAtlas | None:
    """An atlas (or the path of one, loaded) checked against the Explorer's model."""
    if atlas is None:
        return None
    if isinstance(atlas, str | os.PathLike):
        try:
            from ...scan import Atlas
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                'reading an atlas needs the scan extra: pip install "deconv-widgets[scan]"'
            ) from error
        atlas = Atlas.load(atlas)
    needed = ("layers", "sources", "layer", "hits", "shown", "visualization")
    if not all(hasattr(atlas, name) for name in needed):
        raise TypeError(
            f"atlas must be a deconv_widgets.scan.Atlas or its folder, got {type(atlas).__name__}"
        )
    names = {info.name: info for info in projector.layers}
    for name in atlas.layers:
        channels = int(atlas.layer(name)["channels"])
        if name not in names or int(names[name].output_shape[-1]) != channels:
            here = names[name].output_shape[-1] if name in names else "no such layer"
            raise ValueError(
                f"the atlas was made with another model: its layer {name!r} has {channels} "
                f"channels, this model's has {here}; scan this model, or pass its own atlas"
            )
    return atlas


class SearchTraits(traitlets.HasTraits):
    """The search part's synced traits."""

    ladder = traitlets.Bytes(b"").tag(sync=True)
    """The ladder's rungs, float32 (H, W, C) little-endian each, at that step's size and in the
    model's own space (not the shown one), packed as `ladder_index` says. Set by Python only."""
    ladder_index = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Per rung, from the top layer down: {shape, offset (in floats), layer, op ("unpool",
    "rectify", "transpose_conv", ...)}. Set by Python only (`show_ladder`)."""
    topk = traitlets.Bytes(b"").tag(sync=True)
    """float32 little-endian, packed as `topk_index` says: per hit its patch (rf, rf, C) of the
    shown image in [0, 1], then its projection (rf, rf, C) in the shown space. Set by Python."""
    topk_index = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Per hit, strongest first: {image, source, y, x (on the layer's map), value, patch and
    projection ({shape, offset} in `topk`)}, from `show_top_k` or the atlas. Set by Python."""
    topk_k = traitlets.Int(TOPK_DEFAULT, read_only=True).tag(sync=True)
    """The k the page's top-k button asks for (TOPK_DEFAULT, 9). Read-only (Python)."""
    visualization = traitlets.Bytes(b"").tag(sync=True)
    """What the current channel wants to see (`show_visualization`), float32 little-endian,
    packed as `visualization_index` says: the image (size, size, C) in [0, 1] in the shown
    space, then the objective at each step so far; b"" when cleared. Set by Python only."""
    visualization_index = traitlets.List(traitlets.Dict()).tag(sync=True)
    """[image entry, history entry], each {shape, offset}; the image's also {layer, channel,
    done, steps, activation (its last value), state ("running", "done", "stopped")}; [] when
    cleared. Set by Python only; redrawn as the job sharpens the image."""


class SearchPart:
    """The ladder and the top-k of the current channel, on request, or the atlas's hits."""

    MESSAGES = ("ladder", "topk", "visualize")

    def __init__(
        self, host: PartHost, images: Callable[[], np.ndarray], atlas: HitAtlas | None
    ) -> None:
        self._host = host
        self._widget = host.widget
        self._images = images  # the Explorer's images now
        self._atlas = atlas
        self._atlas_unit: tuple[str, int] | None = None  # the unit whose atlas hits are shown
        self._show_atlas_hits()
        host.on_pick(self._on_pick)

    def _clear_extras(self) -> None:
        """Forget the ladder, top-k and visualisation of the previous pick."""
        self._widget.ladder, self._widget.ladder_index = b"", []
        self._widget.topk, self._widget.topk_index = b"", []
        self._widget.visualization, self._widget.visualization_index = b"", []

    def _on_pick(self) -> None:
        unit = (self._widget.layer, int(self._widget.channel))
        if self._atlas_unit == unit:  # the atlas's hits do not depend on the image shown
            self._widget.ladder, self._widget.ladder_index = b"", []
            return
        widget = self._widget
        if widget.ladder_index or widget.topk_index or widget.visualization_index:
            self._clear_extras()
        self._show_atlas_hits()

    def _show_atlas_hits(self) -> None:
        """The atlas's hits of the current channel in the top-k panel, when it has the layer."""
        atlas = self._atlas
        self._atlas_unit = None
        if atlas is None or self._widget.layer not in atlas.layers:
            return
        pairs = atlas.shown(self._widget.layer, self._widget.channel)
        scale = np.float32(255)
        arrays = [a for patch, proj in pairs for a in (patch.astype(np.float32) / scale, proj)]
        buffer, index = pack_arrays(arrays)
        hits = atlas.hits(self._widget.layer, self._widget.channel)
        self._send_hits(hits, buffer, index, [Path(atlas.sources[h.image]).name for h in hits])
        self._atlas_unit = (self._widget.layer, int(self._widget.channel))
        self._widget.status = (
            f"top-{len(hits)} of channel {self._widget.channel} from the atlas: "
            f"{len(atlas.sources)} images, {atlas.method} projections"
        )
        layer, channel = self._atlas_unit
        image = atlas.visualization(layer, channel)
        history = atlas.visualization_history(layer, channel)
        if image is not None and history is not None:  # the scan visualised the unit
            self._draw_visualization(layer, channel, image, history, len(history) - 1, "done")

    def _send_hits(self, hits: Sequence[Any], buffer: bytes, index: list, sources: list) -> None:
        """Hits (patch, projection pairs packed in `buffer`) to the page's top-k panel."""
        self._widget.topk_index = [
            {
                "image": int(hit.image),
                "source": source,
                "y": int(hit.y),
                "x": int(hit.x),
                "value": float(hit.value),
                "patch": index[2 * i],
                "projection": index[2 * i + 1],
            }
            for i, (hit, source) in enumerate(zip(hits, sources, strict=True))
        ]
        self._widget.topk = buffer

    def show_ladder(self) -> int:
        """The current channel's ladder, as a job (see `Explorer.show_ladder`)."""
        widget, image = self._widget, self._host.current().model_input
        layer, channel, seed = widget.layer, int(widget.channel), widget.seed

        def steps() -> Steps[list[Rung]]:
            yield Step(0, 1)
            return self._host.projector.ladder(image, layer, channel, seed=seed)

        def show(rungs: list[Rung], _state: str) -> None:
            buffer, index = pack_arrays([r.array for r in rungs])  # each (H, W, C)
            for entry, rung in zip(index, rungs, strict=True):
                entry.update(layer=str(rung.layer), op=str(rung.op))
            self._widget.ladder, self._widget.ladder_index = buffer, index
            self._widget.status = f"ladder: {len(rungs)} rungs from {layer} down to the input"

        return self._host.job("ladder", f"ladder of channel {channel}", steps, show)

    def show_top_k(self, k: int = TOPK_DEFAULT) -> int:
        """The current channel's top-k over the images, as a job (see `Explorer.show_top_k`)."""
        k = check_int(k, "k", low=1)
        layer, channel, images = self._widget.layer, int(self._widget.channel), self._images()
        count = len(images)

        def steps() -> Steps[tuple[list[Any], list[np.ndarray]]]:
            inputs = np.stack([self._host.model_input(image) for image in images])
            result = yield from top_k_steps(
                self._host.projector, inputs, layer, k, [channel], paced=True
            )
            hits = result.hits.get(channel, [])
            arrays = [
                array
                for hit in hits
                for array in shown_hit(
                    self._host.projector, layer, hit, images[hit.image], self._host.shown_matrix
                )
            ]
            return hits, arrays

        def show(found: tuple[list[Any], list[np.ndarray]], state: str) -> None:
            hits, arrays = found
            buffer, index = pack_arrays(arrays)
            self._send_hits(hits, buffer, index, [f"image {hit.image}" for hit in hits])
            self._atlas_unit = None  # the panel now shows a search of the images
            searched = count if state == "done" else self._searched(hits)
            self._widget.status = f"top-{k} of channel {channel} over {searched} images"

        return self._host.job("topk", f"top-{k} of channel {channel}", steps, show)

    def _searched(self, hits: Sequence[Any]) -> str:
        """How many images a stopped search went through (its job row's done count)."""
        rows = [row for row in self._widget.jobs if row["kind"] == "topk"]
        done = rows[-1]["done"] if rows else len(hits)
        return f"the first {done} of {len(self._images())}"

    def show_visualization(self, steps: int = VISUALIZE_STEPS) -> int:
        """What the current channel wants to see (`Projector.visualize`), as a job."""
        steps = check_int(steps, "steps", 1)
        widget, host = self._widget, self._host
        layer, channel = widget.layer, int(widget.channel)
        every = max(1, steps // VISUALIZE_FRAMES)

        def run() -> Steps[list[Visualization]]:
            return visualize_steps(
                host.projector, layer, channel, steps, preprocess=host.preprocess, every=every
            )

        def show(found: list[Visualization], state: str) -> None:
            seen = found[0]
            self._draw_visualization(layer, channel, seen.image, seen.history, steps, state)
            if state == "done":
                widget.status = (
                    f"what channel {channel} of {layer} wants to see: activation "
                    f"{seen.history[0]:.3g} -> {seen.activation:.3g} in {steps} steps"
                )

        return host.job("visualize", f"what channel {channel} wants", run, show)

    def _draw_visualization(
        self, layer: str, channel: int, image: np.ndarray, history: np.ndarray, steps: int,
        state: str,
    ) -> None:  # fmt: skip
        """A visualisation (so far, or the atlas's) to the page's "what it wants" panel."""
        buffer, index = pack_arrays([image, history])
        done = len(history) - (1 if state == "done" else 0)
        index[0].update(
            kind="image", layer=layer, channel=channel, done=done, steps=steps,
            activation=float(history[-1]), state=state,
        )  # fmt: skip
        index[1].update(kind="history")
        self._widget.visualization, self._widget.visualization_index = buffer, index
