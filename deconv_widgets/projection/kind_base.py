"""The record every layer kind is (`Kind`), and the helpers the kinds' entries share.

See `kinds` for what an entry says; the entries are in `kinds_pointwise`, `kinds_windows` and
`kinds_head`.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from deconv_widgets.methods import Affine

Backward = Callable[[Any, Tensor, list[Tensor], Tensor], list[Tensor]]
"""(layer, grad (B, ...), its inputs, its output) -> one gradient per input, bias unused."""
Step = Callable[[Any, np.ndarray, np.ndarray], "tuple[str, np.ndarray, str] | None"]
"""(layer, signal (H', W', C'), the layer's input (H, W, C)) -> (op, signal below, note)."""
PadBefore = Callable[[Any, "int | None", "int | None", int, int], int]
"""(layer, size in, size out, kernel span, stride) -> rows padded (cropped < 0) before, rows."""
AffineOf = Callable[[Any, "Tensor | None", "Tensor | None"], Affine]
"""(layer, BN scale, BN shift folded after it or None) -> the layer's linear part for LRP."""


def activation_kind(function: Any) -> str:
    """'relu', 'linear' or the name of another activation function."""
    if function is None or function is keras.activations.linear:
        return "linear"
    if function is keras.activations.relu:
        return "relu"
    return getattr(function, "__name__", type(function).__name__)


def _linear(_layer: Any) -> str:
    """The nonlinearity of a layer that has none."""
    return "linear"


def own_activation(layer: Any) -> str:
    """The nonlinearity of a layer with an `activation` argument (Conv2D, Dense, ...)."""
    return activation_kind(layer.activation)


def same_padding_before(
    layer: Any, size_in: int | None, size_out: int | None, span: int, stride: int
) -> int:
    """Rows a window layer pads before its input: TensorFlow's SAME rule, 0 for VALID."""
    if str(getattr(layer, "padding", "valid")).lower() != "same":
        return 0
    if size_in is None or size_out is None:
        return (span - 1) // 2
    return max((size_out - 1) * stride + span - size_in, 0) // 2


@dataclass(frozen=True)
class Kind:
    """One layer kind: recognise it, its activation, its adjoint, its ladder rung, geometry."""

    name: str
    matches: Callable[[Any], bool]
    backward: Backward
    rung: Step | None = None  # None: the ladder has no explicit step (use Projector.project)
    activation: Callable[[Any], str] = _linear
    pad_before: PadBefore = same_padding_before
    affine: AffineOf | None = None  # None: LRP passes relevance by the adjoint (`backward`)


def batch_like(tensor: Tensor, batch: Tensor) -> Tensor:
    """Broadcast a cached tensor of batch 1 (or `batch`) to batch `batch`."""
    return tf.broadcast_to(tensor, tf.concat([[batch], tf.shape(tensor)[1:]], axis=0))


def shape_of_input(grad: Tensor, layer_input: Tensor) -> Tensor:
    """The shape (B, H, W, C) of a layer's input at the gradient's batch size."""
    return tf.concat([[tf.shape(grad)[0]], tf.shape(layer_input)[1:]], axis=0)


def channels_last(layer: Any) -> bool:
    """True unless the layer reads channels first."""
    return getattr(layer, "data_format", "channels_last") == "channels_last"


def exactly(cls: type, test: Callable[[Any], bool] = channels_last) -> Callable[[Any], bool]:
    """A matcher for layers of exactly this class (not subclasses) that pass `test`."""
    return lambda layer: type(layer) is cls and test(layer)


def scaled(weights: Tensor, scale: Tensor | None) -> Tensor:
    """Weights times a per-output-channel factor (a BN folded after the layer), or as they are."""
    return weights if scale is None else weights * tf.cast(scale, weights.dtype)


def folded_bias(layer: Any, scale: Tensor | None, shift: Tensor | None) -> Tensor | None:
    """The layer's bias with a BN (scale, shift) folded after it; None without either."""
    bias = tf.cast(layer.bias, tf.float32) if getattr(layer, "use_bias", False) else None
    if scale is None:
        return bias
    base = bias if bias is not None else tf.zeros_like(tf.cast(scale, tf.float32))
    return base * tf.cast(scale, tf.float32) + tf.cast(shift, tf.float32)
