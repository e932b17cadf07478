"""What the helper modules need of a Projector, as Protocols: they annotate with these, not it.

The Projector (`engine`) imports the helpers (the ladder, top-k, the lenses, ...) to offer them
as methods, so a helper that imported the Projector back, even only for its types, would close
an import cycle. Each helper instead names the few members it uses; the Projector has them all,
and mypy checks that wherever a helper is handed one.

- `LayerChecks`: `layer_info`, `check_channel`, the checks every helper starts with.
- `GraphSource`: `graph`, the model's layer graph (incremental occlusion walks its paths).
- `BoxSource`: `receptive_box` (the shown-space patches of top-k hits).
- `Traceable`: LayerChecks and `trace` (the ladder).
- `HitSource`: what the top-k search reads and projects (`topk`).
- `LensSource`: what the lenses, the classifier, the sanity cascade and faithfulness use,
  a new Projector of another model included (the sanity cascade's copy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    import os

    import keras
    import numpy as np

    from deconv_widgets.methods import Method

    from .graph import ClassHead, LayerInfo, ModelGraph, Trace


class LayerChecks(Protocol):
    """A layer by name or LayerInfo, and a channel of it, checked."""

    def layer_info(self, layer: str | LayerInfo) -> LayerInfo:
        """The layer's LayerInfo (TypeError / ValueError listing the names)."""
        ...

    def check_channel(self, layer: str | LayerInfo, channel: Any) -> int:
        """The channel as an int in range (TypeError / ValueError naming the range)."""
        ...


class GraphSource(Protocol):
    """The model's layer graph and the functions compiled on it."""

    @property
    def graph(self) -> ModelGraph:
        """The layer graph: nodes, paths, `run` and `compiled`."""
        ...


class BoxSource(Protocol):
    """The input square under a position of a layer's output."""

    def receptive_box(self, layer: str | LayerInfo, y: int, x: int) -> tuple[int, int, int]:
        """(top, left, size) of the input square under (y, x) of the layer."""
        ...


class Traceable(LayerChecks, Protocol):
    """What the ladder needs: the checks and one image's traced forward pass."""

    def trace(self, image: Any, layer: str | LayerInfo) -> Trace:
        """The forward pass of one image up to `layer`, every tensor on the way kept."""
        ...


class HitSource(LayerChecks, BoxSource, Protocol):
    """What the top-k search needs: batched forward passes and projections of seeds."""

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """The model's input shape (H, W, C) without the batch axis."""
        ...

    def forward_batch(self, images: np.ndarray, layer: str | LayerInfo) -> np.ndarray:
        """The layer's activations (N, H', W', C') of a batch, uncached."""
        ...

    def cached_bytes_per_image(self, layer: str | LayerInfo, image_shape: tuple) -> int:
        """Bytes one image's forward pass holds for `layer`."""
        ...

    def project_seeds(
        self, images: Any, layer: str | LayerInfo, seeds: Any, method: str | Method = "deconvnet"
    ) -> np.ndarray:
        """Projections (B, H, W, C) of explicit seeds placed on `layer`."""
        ...


class LensSource(Traceable, GraphSource, Protocol):
    """What the lenses, the classifier, the sanity cascade and faithfulness need."""

    def __init__(self, model: keras.Model | str | os.PathLike) -> None:
        """A Projector of `model` (the sanity cascade builds one of its copy of the model)."""
        ...

    @property
    def model(self) -> keras.Model:
        """The Keras model."""
        ...

    @property
    def layers(self) -> list[LayerInfo]:
        """Every layer with a 4-D output, in forward order."""
        ...

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """The model's input shape (H, W, C) without the batch axis."""
        ...

    @property
    def class_count(self) -> int | None:
        """The classes of the model's class head, or None without one."""
        ...

    def require_head(self) -> ClassHead:
        """The model's class head (ValueError saying what to pass instead without one)."""
        ...

    def project(
        self,
        image: Any,
        layer: str | LayerInfo,
        channel: int,
        method: str | Method = "deconvnet",
        seed: str = "activation",
    ) -> np.ndarray:
        """One channel of `layer` projected to the image's pixel space (H, W, C)."""
        ...

    def project_class(self, image: Any, index: int, method: str | Method = "guided") -> np.ndarray:
        """One class score (before the softmax) projected to pixel space (H, W, C)."""
        ...

    def clear_cache(self) -> None:
        """Forget the cached forward passes (after the model's weights changed)."""
        ...
