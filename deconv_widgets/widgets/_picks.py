"""What a pick can be: layers, methods, seeds and channels; and the channel shown first."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from .. import methods as registry
from .._values import shown
from ..methods import Method
from ..projection import SEEDS, LayerInfo, Projector
from ..projection.checks import check_choice
from ._base import IntSetting, Setting, TextSetting
from ._live import Key

# All channels x every method (len(methods.NAMES)) x H x W x C float32 up to this size go to the
# page in one message, so that a click redraws with no kernel round trip; bigger layers are
# projected on demand.
ALL_CHANNELS_LIMIT_BYTES = 16 * 2**20
# The channel shown first has its peak at least this fraction of the map's side from its edges.
BORDER = 0.1


def channel_count(info: LayerInfo) -> int:
    """The number of channels of a 4-D layer (its last dimension is always known)."""
    return int(info.output_shape[-1] or 0)


def sends_all_channels(
    info: LayerInfo, input_shape: tuple[int, ...], method_count: int = len(registry.NAMES)
) -> bool:
    """True when every channel's projections fit ALL_CHANNELS_LIMIT_BYTES.

    A pick computes every method of `deconv_widgets.methods.NAMES` (`method_count`), so the
    size is channels x methods x H x W x C float32.
    """
    size = channel_count(info) * method_count * int(np.prod(input_shape)) * 4
    return size <= ALL_CHANNELS_LIMIT_BYTES


def method_text(method: Any) -> str:
    """A method as the text a widget's `method` trait holds: a name, or a Method's key.

    Raises:
        TypeError: neither text nor a `deconv_widgets.methods.Method`.
    """
    if isinstance(method, Method):
        return method.key
    if not isinstance(method, str):
        raise TypeError(
            f"method must be a name (str) or a deconv_widgets.methods.Method, got "
            f"{type(method).__name__} {shown(method)}; choose one of: {', '.join(registry.NAMES)}"
        )
    return method


def method_entry(method: str | Method) -> tuple[int, str]:
    """(position in `methods.NAMES`, the entry shown in the `methods` list) of a method.

    The entry is the method's name when it is configured as `methods.get(name)` is (the
    default), else its key, e.g. "lrp_epsilon(epsilon=0.1)".

    Raises:
        ValueError: an unknown name (the message lists `methods.NAMES`), a key that does not
            parse or parameters its method refuses (text is checked by `method_text` first).
    """
    resolved = registry.get(method)
    if resolved.name not in registry.NAMES:
        raise ValueError(
            f"method {resolved.key!r} is not in deconv_widgets.methods; choose one of: "
            f"{', '.join(registry.NAMES)}"
        )
    default = registry.get(resolved.name).key
    return registry.NAMES.index(resolved.name), (
        resolved.name if resolved.key == default else resolved.key
    )


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


# The most the page keeps of prefetched and earlier projections (`cache_budget`).
PAGE_CACHE_BYTES = 64 * 2**20


def what(key: Key | None) -> str:
    """'channel 41' or 'every channel of conv3' for a status line."""
    if key is None:
        return "nothing"
    return f"every channel of {key.layer}" if key.channel is None else f"channel {key.channel}"


class LayerSetting(TextSetting):
    """A layer name; a LayerInfo given instead stands for its name."""

    def coerce(self, value: Any) -> str:
        return super().coerce(value.name if isinstance(value, LayerInfo) else value)


class MethodSetting(Setting):
    """A method: a name or key (text); a `deconv_widgets.methods.Method` stands for its key."""

    default_value = registry.NAMES[0]

    def coerce(self, value: Any) -> str:
        return method_text(value)


def first_channel(activation: np.ndarray, border: float = BORDER) -> int:
    """The channel to open on: the strongest whose peak lies inside the map, off its border.

    A channel whose maximum sits within `border` of the map's side (on each side, at least
    one row or column) often fires on the image's edge and projects to a flat picture (VGG16's
    block3_conv3 on the photos); the strongest of the others is shown first. Falls back to the
    strongest channel when every peak is on the border (e.g. a map of 2 x 2 or smaller).

    Args:
        activation: a layer's activation on one image, (H', W', C).
        border: the border's width as a fraction of the map's side.
    """
    height, width, channels = activation.shape
    table = activation.reshape(-1, channels)
    peaks = table.max(axis=0)
    where = table.argmax(axis=0)
    rows, cols = where // width, where % width
    margin_y = max(1, round(border * height))
    margin_x = max(1, round(border * width))
    inside = (
        (rows >= margin_y)
        & (rows < height - margin_y)
        & (cols >= margin_x)
        & (cols < width - margin_x)
        & (peaks > 0)
    )
    candidates = np.flatnonzero(inside)
    if candidates.size == 0:
        return int(np.argmax(peaks))
    return int(candidates[np.argmax(peaks[candidates])])


class ProjectionTraits(traitlets.HasTraits):
    """The synced traits of a widget that shows a pick's activations and projections."""

    layers = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The model's 4-D layers, a dict each: name, kind, output_shape [H, W, C] (None: unknown),
    params, receptive_field and jump (input pixels). Set by Python only; the page reads it."""
    layer = LayerSetting("").tag(sync=True)
    """The layer shown, a name from `layers` (a LayerInfo stands for its name). Set from Python
    or in the page (layer menu; Explorer: an inspector row); a bad name reverts, see `status`."""
    channel = IntSetting(0).tag(sync=True)
    """The channel shown, 0..C-1 of `layer` (0 when a new layer has fewer). Set from Python or
    in the page (grid click, arrow keys, channel box); out of range reverts, see `status`."""
    method = MethodSetting().tag(sync=True)
    """The primary projection method, an entry of `methods`. Set from Python or in the page
    (method menu, or a click on a projection) to a name of `deconv_widgets.methods.NAMES` or a
    configured key ("lrp_epsilon(epsilon=0.1)"); from Python also to a configured Method
    (`methods.lrp_epsilon(0.1)`), which stands for its key. A configuration takes its method's
    place in `methods` (a name goes back to the default one); the trait then holds that entry.
    An unknown name or a bad key reverts, see `status`."""
    seed = TextSetting("activation").tag(sync=True)
    """What the projection places on the channel, one of `seeds`. Set from Python or in the page
    (seed menu); an unknown one reverts, see `status`."""
    methods = traitlets.List(traitlets.Unicode(), list(registry.NAMES), read_only=True).tag(
        sync=True
    )
    """One entry per method of `deconv_widgets.methods.NAMES`, in its order: the method's name,
    or the key of the configuration in use ("lrp_epsilon(epsilon=0.1)" in place of
    "lrp_epsilon") once `method` was set to one. Set by Python only (read-only); the page shows
    one projection per entry and lists them in its method menu."""
    seeds = traitlets.List(traitlets.Unicode(), list(SEEDS), read_only=True).tag(sync=True)
    """SEEDS: "activation" (the channel's own map), "max" (a 1 at its maximum), "ones".
    Read-only (Python); the page's seed menu lists them."""
    image = traitlets.Bytes(b"").tag(sync=True)
    """The shown image: float32 (H, W, C) little-endian, row-major, values in [0, 1] (rescaled
    when outside); shape in `image_shape`. Set by Python only."""
    image_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    """[H, W, C] of `image` (the page's camera sends frames of this H and W). Set by Python only."""
    activations = traitlets.Bytes(b"").tag(sync=True)
    """The layer's activation on the shown image: float32 (H', W', C) little-endian, row-major;
    shape in `act_shape`. Set by Python only; the page draws it as the channel grid."""
    act_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    """[H', W', C] of `activations`; C is the number of channels of `layer`. Set by Python only."""
    projections = traitlets.Bytes(b"").tag(sync=True)
    """The pick's projections, float32 (M, N, H, W, C) little-endian, row-major: M methods of
    `proj_methods` (entries of `methods`), N channels of `proj_channels`; shape in `proj_shape`.
    Set by Python only."""
    proj_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    """[M, N, H, W, C] of `projections`; C is the shown image's (the model input's when the
    preprocess is not per-pixel affine). Set by Python only."""
    proj_methods = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """The methods along axis 0 of `projections`: the entries of `methods` known so far, in its
    order (the shown one is computed first, the others follow). Set by Python only."""
    proj_channels = traitlets.List(traitlets.Int()).tag(sync=True)
    """The channels along axis 1 of `projections`: all of the layer's when they fit
    ALL_CHANNELS_LIMIT_BYTES and no camera streams, else the picked one. Set by Python only."""
    proj_key = traitlets.Dict().tag(sync=True)
    """What `projections` was computed for: {layer, seed, image (an `image_version`), request
    (counts publications)}; the page uses them only for its current pick. Set by Python only."""
    proj_errors = traitlets.Dict().tag(sync=True)
    """{method: error text} for methods of `proj_methods` that cannot project this pick (e.g. an
    LRP method from the seed "ones", which it does not take); their slices of `projections` are
    zeros and the other methods still draw. Set by Python only."""
    image_version = traitlets.Int(0).tag(sync=True)
    """Counts the images made current (picks, uploads, camera frames); `proj_key` names one. Set
    by Python only."""
    strongest = traitlets.List(traitlets.Int()).tag(sync=True)
    """Every channel of `layer`, strongest peak activation on the shown image first (ties by
    index): the grid's "strongest" order and the prefetch order. Set by Python only."""
    cache_budget = traitlets.Int(PAGE_CACHE_BYTES).tag(sync=True)
    """Bytes the page's LRU cache of prefetched and earlier projections may hold (the kernel's
    own cache is separate). Set from Python; the page only reads it."""
