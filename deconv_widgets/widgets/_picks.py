"""What a pick can be: layers, methods, seeds and channels; and the channel shown first."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import methods as registry
from .._values import shown
from ..methods import Method
from ..projection import LayerInfo, Projector
from ..projection.checks import check_choice
from ._base import Setting, TextSetting

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
